package dev.prism.program;

/**
 * The tc (sched_cls) context in Linux's user layout ({@code struct __sk_buff}, what programs
 * are compiled against) and in Prism's host layout (what every backend reads and writes after
 * the verifier has normalized the program, as Linux's bpf_convert_ctx_access rewrites accesses
 * to {@code struct sk_buff}):
 * <pre>
 *   field        __sk_buff (user)   host layout          tc programs may
 *   len          u32 @ 0            u32 @ 16             read
 *   mark         u32 @ 8            u32 @ 20             read, write (4 bytes)
 *   protocol     u32 @ 16           u32 @ 28 (a __be16)  read
 *   priority     u32 @ 32           u32 @ 24             read, write (4 bytes)
 *   ifindex      u32 @ 40           u32 @ 32             read
 *   cb[0..4]     u32 @ 48..67       u8[20] @ 48..67      read, write (any size, aligned)
 *   hash         u32 @ 68           u32 @ 36             read
 *   tc_classid   u32 @ 72           u32 @ 40 (a u16)     read, write (4 bytes; Linux keeps the low 16 bits)
 *   data         u32 @ 76           u64 @ 0  (a pointer) read (4 bytes)
 *   data_end     u32 @ 80           u64 @ 8  (a pointer) read (4 bytes)
 * </pre>
 * Reads of the u32 fields may be narrow (1 or 2 bytes at an offset that is a multiple of the
 * size), as Linux allows (bpf_skb_is_valid_access, bpf_ctx_narrow_access_ok); on a
 * little-endian host the narrow read of the host field gives the same bytes. protocol and
 * tc_classid are 16-bit in {@code struct sk_buff}; the host layout keeps them zero-extended,
 * and a 2-byte read of their upper half reads the 16-bit field again, as Linux's does. The other fields of {@code __sk_buff} are refused by name.
 */
public final class SkbContext {
    /** Bytes of the host layout. */
    public static final int HOST_SIZE = 72;
    /** sizeof(struct __sk_buff) in Linux 6.x: what BPF_PROG_TEST_RUN takes as ctx_in. */
    public static final int USER_SIZE = 192;

    public static final int HOST_DATA = 0;
    public static final int HOST_DATA_END = 8;
    public static final int HOST_LEN = 16;
    public static final int HOST_MARK = 20;
    public static final int HOST_PRIORITY = 24;
    public static final int HOST_PROTOCOL = 28;
    public static final int HOST_IFINDEX = 32;
    public static final int HOST_HASH = 36;
    public static final int HOST_TC_CLASSID = 40;
    public static final int HOST_CB = 48;

    public static final int USER_MARK = 8;
    public static final int USER_PRIORITY = 32;
    public static final int USER_CB = 48;
    public static final int USER_TC_CLASSID = 72;
    public static final int USER_DATA = 76;
    public static final int USER_DATA_END = 80;
    /** Bytes of cb[5]. */
    public static final int CB_SIZE = 20;

    private SkbContext() {
    }

    /** One field of {@code struct __sk_buff} Prism supports. */
    public record Field(String name, int userOffset, int size, int hostOffset, boolean writable, boolean pointer) {
        /** {@return whether user offset {@code off} lies inside this field} */
        public boolean covers(long off) {
            return off >= userOffset && off < userOffset + size;
        }
    }

    private static final Field[] FIELDS = {
        new Field("len", 0, 4, HOST_LEN, false, false),
        new Field("mark", USER_MARK, 4, HOST_MARK, true, false),
        new Field("protocol", 16, 4, HOST_PROTOCOL, false, false),
        new Field("priority", USER_PRIORITY, 4, HOST_PRIORITY, true, false),
        new Field("ifindex", 40, 4, HOST_IFINDEX, false, false),
        new Field("cb", USER_CB, CB_SIZE, HOST_CB, true, false),
        new Field("hash", 68, 4, HOST_HASH, false, false),
        new Field("tc_classid", USER_TC_CLASSID, 4, HOST_TC_CLASSID, true, false),
        new Field("data", USER_DATA, 4, HOST_DATA, false, true),
        new Field("data_end", USER_DATA_END, 4, HOST_DATA_END, false, true),
    };

    /** Every field of {@code struct __sk_buff} (Linux 6.18 uapi), by user offset, for refusals by name. */
    private static final Object[][] ALL = {
        {0, "len"}, {4, "pkt_type"}, {8, "mark"}, {12, "queue_mapping"}, {16, "protocol"}, {20, "vlan_present"},
        {24, "vlan_tci"}, {28, "vlan_proto"}, {32, "priority"}, {36, "ingress_ifindex"}, {40, "ifindex"},
        {44, "tc_index"}, {48, "cb"}, {68, "hash"}, {72, "tc_classid"}, {76, "data"}, {80, "data_end"},
        {84, "napi_id"}, {88, "family"}, {92, "remote_ip4"}, {96, "local_ip4"}, {100, "remote_ip6"},
        {116, "local_ip6"}, {132, "remote_port"}, {136, "local_port"}, {140, "data_meta"}, {144, "flow_keys"},
        {152, "tstamp"}, {160, "wire_len"}, {164, "gso_segs"}, {168, "sk"}, {176, "gso_size"},
        {180, "tstamp_type"}, {184, "hwtstamp"},
    };

    /** {@return the supported field that holds user offset {@code off}, or null} */
    public static Field field(long off) {
        for (Field f : FIELDS) {
            if (f.covers(off)) {
                return f;
            }
        }
        return null;
    }

    /** {@return the name of the {@code __sk_buff} field at user offset {@code off}, or null past the struct} */
    public static String nameAt(long off) {
        if (off < 0 || off >= USER_SIZE) {
            return null;
        }
        String name = null;
        for (Object[] f : ALL) {
            if ((int) f[0] <= off) {
                name = (String) f[1];
            }
        }
        return name;
    }

    /**
     * {@return the host offset of a verified access of {@code size} bytes at user offset
     * {@code userOffset}} (a pointer field maps to its 8-byte slot; a narrow access keeps its
     * position inside the field)
     */
    public static int hostOffset(int userOffset, int size) {
        Field f = field(userOffset);
        if (f == null) {
            throw new IllegalArgumentException("no supported __sk_buff field at offset " + userOffset);
        }
        if (f.pointer()) {
            return f.hostOffset();
        }
        int inside = userOffset - f.userOffset();
        // protocol and tc_classid are u16 in sk_buff. Linux converts a 2-byte load of either
        // half into a load of the whole 16-bit field (no shift: the access is not narrower than
        // the target), so the upper half reads the field again; 1-byte loads shift as for a u32
        // and read 0 in the upper half. Measured on 6.18 (ARP: offset 18 size 2 gives 0x0608,
        // offset 19 size 1 gives 0).
        return f.hostOffset() + (isU16(f) && size == 2 ? 0 : inside);
    }

    /**
     * {@return whether a normalized program may touch host bytes [offset, offset + size)}: any
     * field for reads (the padding at 44..47 and 68..71 never), mark, priority, the low half of
     * tc_classid and cb for writes. The interpreter checks this on every context access, so a
     * verifier that let a wrong access through traps there instead of passing unnoticed.
     */
    public static boolean hostAccessAllowed(long offset, int size, boolean write) {
        long end = offset + size;
        if (offset < 0 || end > HOST_SIZE) {
            return false;
        }
        if (write) {
            return within(offset, end, HOST_MARK, HOST_PRIORITY + 4) || within(offset, end, HOST_TC_CLASSID, HOST_TC_CLASSID + 2)
                    || within(offset, end, HOST_CB, HOST_CB + CB_SIZE);
        }
        return within(offset, end, 0, HOST_TC_CLASSID + 4) || within(offset, end, HOST_CB, HOST_CB + CB_SIZE);
    }

    private static boolean within(long offset, long end, int lo, int hi) {
        return offset >= lo && end <= hi;
    }

    private static boolean isU16(Field f) {
        return f.name().equals("protocol") || f.name().equals("tc_classid");
    }
}
