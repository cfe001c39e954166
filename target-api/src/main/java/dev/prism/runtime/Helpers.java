package dev.prism.runtime;

import static dev.prism.runtime.HelperProto.Arg.ANYTHING;
import static dev.prism.runtime.HelperProto.Arg.CONST_ALLOC_SIZE_OR_ZERO;
import static dev.prism.runtime.HelperProto.Arg.CONST_MAP_PTR;
import static dev.prism.runtime.HelperProto.Arg.CONST_SIZE;
import static dev.prism.runtime.HelperProto.Arg.CONST_SIZE_OR_ZERO;
import static dev.prism.runtime.HelperProto.Arg.PTR_TO_CTX;
import static dev.prism.runtime.HelperProto.Arg.PTR_TO_FUNC;
import static dev.prism.runtime.HelperProto.Arg.PTR_TO_MAP_KEY;
import static dev.prism.runtime.HelperProto.Arg.PTR_TO_MAP_VALUE;
import static dev.prism.runtime.HelperProto.Arg.PTR_TO_MEM;
import static dev.prism.runtime.HelperProto.Arg.PTR_TO_MEM_OR_NULL;
import static dev.prism.runtime.HelperProto.Arg.PTR_TO_RINGBUF_MEM;
import static dev.prism.runtime.HelperProto.Arg.PTR_TO_STACK_OR_NULL;
import static dev.prism.runtime.HelperProto.Arg.PTR_TO_UNINIT_MEM;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The helpers Prism implements, with their Linux ids and prototypes (from the kernel's
 * {@code bpf_func_proto} definitions). A program calling any other helper is refused with the
 * helper's name (where known) and id.
 */
public final class Helpers {
    public static final int MAP_LOOKUP_ELEM = 1;
    public static final int MAP_UPDATE_ELEM = 2;
    public static final int MAP_DELETE_ELEM = 3;
    public static final int KTIME_GET_NS = 5;
    public static final int TRACE_PRINTK = 6;
    public static final int GET_PRANDOM_U32 = 7;
    public static final int GET_SMP_PROCESSOR_ID = 8;
    public static final int SKB_STORE_BYTES = 9;
    public static final int L3_CSUM_REPLACE = 10;
    public static final int L4_CSUM_REPLACE = 11;
    public static final int TAIL_CALL = 12;
    public static final int REDIRECT = 23;
    public static final int PERF_EVENT_OUTPUT = 25;
    public static final int SKB_LOAD_BYTES = 26;
    public static final int CSUM_DIFF = 28;
    public static final int GET_HASH_RECALC = 34;
    public static final int SKB_CHANGE_HEAD = 43;
    public static final int XDP_ADJUST_HEAD = 44;
    public static final int SKB_ADJUST_ROOM = 50;
    public static final int REDIRECT_MAP = 51;
    public static final int XDP_ADJUST_META = 54;
    public static final int XDP_ADJUST_TAIL = 65;
    public static final int JIFFIES64 = 118;
    public static final int KTIME_GET_BOOT_NS = 125;
    public static final int RINGBUF_OUTPUT = 130;
    public static final int RINGBUF_RESERVE = 131;
    public static final int RINGBUF_SUBMIT = 132;
    public static final int RINGBUF_DISCARD = 133;
    public static final int LOOP = 181;
    public static final int FOR_EACH_MAP_ELEM = 164;
    public static final int XDP_LOAD_BYTES = 189;
    public static final int XDP_STORE_BYTES = 190;
    /**
     * The first id of Prism's own helpers, far above Linux's (below 256 for years to come; 211
     * in 6.x), so neither ever means the other.
     */
    public static final int PRISM_BASE = 0x10000;
    /**
     * {@code long prism_csd_read(u64 ns_offset, void *dst, u32 len)}, csd programs only: copies
     * {@code len} bytes of the namespace at {@code ns_offset} into {@code dst} (stack, out or a
     * map value) and returns 0, or zeroes {@code dst} and returns -EINVAL when the bytes are not
     * all inside the namespace (DESIGN.md "target-csd", package dev.prism.csd).
     */
    public static final int CSD_READ = PRISM_BASE + 1;
    /** The helpers a csd program may call (the verifier refuses the others in csd programs). */
    public static final java.util.Set<Integer> CSD_ALLOWED = java.util.Set.of(MAP_LOOKUP_ELEM, MAP_UPDATE_ELEM,
            MAP_DELETE_ELEM, KTIME_GET_NS, GET_PRANDOM_U32, GET_SMP_PROCESSOR_ID, LOOP, FOR_EACH_MAP_ELEM, CSD_READ);

    private static final Map<Integer, HelperProto> PROTOS = new TreeMap<>();

    private static void def(int id, String name, HelperProto.Ret ret, HelperProto.Arg... args) {
        PROTOS.put(id, new HelperProto(id, name, List.of(args), ret));
    }

    static {
        def(MAP_LOOKUP_ELEM, "map_lookup_elem", HelperProto.Ret.MAP_VALUE_OR_NULL, CONST_MAP_PTR, PTR_TO_MAP_KEY);
        def(MAP_UPDATE_ELEM, "map_update_elem", HelperProto.Ret.INTEGER, CONST_MAP_PTR, PTR_TO_MAP_KEY, PTR_TO_MAP_VALUE, ANYTHING);
        def(MAP_DELETE_ELEM, "map_delete_elem", HelperProto.Ret.INTEGER, CONST_MAP_PTR, PTR_TO_MAP_KEY);
        def(KTIME_GET_NS, "ktime_get_ns", HelperProto.Ret.INTEGER);
        // the format's arguments r3-r5 are not checked (Linux's proto lists two arguments)
        def(TRACE_PRINTK, "trace_printk", HelperProto.Ret.INTEGER, PTR_TO_MEM, CONST_SIZE);
        def(GET_PRANDOM_U32, "get_prandom_u32", HelperProto.Ret.INTEGER);
        def(GET_SMP_PROCESSOR_ID, "get_smp_processor_id", HelperProto.Ret.INTEGER);
        def(TAIL_CALL, "tail_call", HelperProto.Ret.VOID, PTR_TO_CTX, CONST_MAP_PTR, ANYTHING);
        def(REDIRECT, "redirect", HelperProto.Ret.INTEGER, ANYTHING, ANYTHING);
        def(PERF_EVENT_OUTPUT, "perf_event_output", HelperProto.Ret.INTEGER, PTR_TO_CTX, CONST_MAP_PTR, ANYTHING, PTR_TO_MEM, CONST_SIZE_OR_ZERO);
        def(CSUM_DIFF, "csum_diff", HelperProto.Ret.INTEGER, PTR_TO_MEM_OR_NULL, CONST_SIZE_OR_ZERO, PTR_TO_MEM_OR_NULL, CONST_SIZE_OR_ZERO, ANYTHING);
        def(XDP_ADJUST_HEAD, "xdp_adjust_head", HelperProto.Ret.INTEGER, PTR_TO_CTX, ANYTHING);
        def(REDIRECT_MAP, "redirect_map", HelperProto.Ret.INTEGER, CONST_MAP_PTR, ANYTHING, ANYTHING);
        def(XDP_ADJUST_META, "xdp_adjust_meta", HelperProto.Ret.INTEGER, PTR_TO_CTX, ANYTHING);
        def(XDP_ADJUST_TAIL, "xdp_adjust_tail", HelperProto.Ret.INTEGER, PTR_TO_CTX, ANYTHING);
        def(JIFFIES64, "jiffies64", HelperProto.Ret.INTEGER);
        def(KTIME_GET_BOOT_NS, "ktime_get_boot_ns", HelperProto.Ret.INTEGER);
        def(RINGBUF_OUTPUT, "ringbuf_output", HelperProto.Ret.INTEGER, CONST_MAP_PTR, PTR_TO_MEM, CONST_SIZE_OR_ZERO, ANYTHING);
        def(RINGBUF_RESERVE, "ringbuf_reserve", HelperProto.Ret.RINGBUF_MEM_OR_NULL, CONST_MAP_PTR, CONST_ALLOC_SIZE_OR_ZERO, ANYTHING);
        def(RINGBUF_SUBMIT, "ringbuf_submit", HelperProto.Ret.VOID, PTR_TO_RINGBUF_MEM, ANYTHING);
        def(RINGBUF_DISCARD, "ringbuf_discard", HelperProto.Ret.VOID, PTR_TO_RINGBUF_MEM, ANYTHING);
        // tc (sched_cls) only: the verifier refuses them in other program types, as Linux does
        def(SKB_STORE_BYTES, "skb_store_bytes", HelperProto.Ret.INTEGER, PTR_TO_CTX, ANYTHING, PTR_TO_MEM, CONST_SIZE, ANYTHING);
        def(L3_CSUM_REPLACE, "l3_csum_replace", HelperProto.Ret.INTEGER, PTR_TO_CTX, ANYTHING, ANYTHING, ANYTHING, ANYTHING);
        def(L4_CSUM_REPLACE, "l4_csum_replace", HelperProto.Ret.INTEGER, PTR_TO_CTX, ANYTHING, ANYTHING, ANYTHING, ANYTHING);
        def(SKB_LOAD_BYTES, "skb_load_bytes", HelperProto.Ret.INTEGER, PTR_TO_CTX, ANYTHING, PTR_TO_UNINIT_MEM, CONST_SIZE);
        def(GET_HASH_RECALC, "get_hash_recalc", HelperProto.Ret.INTEGER, PTR_TO_CTX);
        def(SKB_CHANGE_HEAD, "skb_change_head", HelperProto.Ret.INTEGER, PTR_TO_CTX, ANYTHING, ANYTHING);
        def(SKB_ADJUST_ROOM, "skb_adjust_room", HelperProto.Ret.INTEGER, PTR_TO_CTX, ANYTHING, ANYTHING, ANYTHING);
        def(LOOP, "loop", HelperProto.Ret.INTEGER, ANYTHING, PTR_TO_FUNC, PTR_TO_STACK_OR_NULL, ANYTHING);
        def(FOR_EACH_MAP_ELEM, "for_each_map_elem", HelperProto.Ret.INTEGER, HelperProto.Arg.CONST_MAP_PTR_ITER, PTR_TO_FUNC,
                PTR_TO_STACK_OR_NULL, ANYTHING);
        def(XDP_LOAD_BYTES, "xdp_load_bytes", HelperProto.Ret.INTEGER, PTR_TO_CTX, ANYTHING, HelperProto.Arg.PTR_TO_UNINIT_MEM, CONST_SIZE);
        def(XDP_STORE_BYTES, "xdp_store_bytes", HelperProto.Ret.INTEGER, PTR_TO_CTX, ANYTHING, PTR_TO_MEM, CONST_SIZE);
        def(CSD_READ, "csd_read", HelperProto.Ret.INTEGER, ANYTHING, PTR_TO_UNINIT_MEM, CONST_SIZE);
    }

    /** Every Linux helper name by id (resource linux-helpers.txt, from the uapi header), for refusals. */
    private static final Map<Integer, String> LINUX_NAMES = readLinuxNames();

    private static Map<Integer, String> readLinuxNames() {
        Map<Integer, String> names = new TreeMap<>();
        try (var in = Helpers.class.getResourceAsStream("linux-helpers.txt")) {
            if (in == null) {
                return names;
            }
            for (String line : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\\R")) {
                String[] parts = line.strip().split("\\s+");
                if (parts.length == 2 && !line.startsWith("#")) {
                    names.put(Integer.parseInt(parts[0]), parts[1]);
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return names;
    }

    private Helpers() {
    }

    /** {@return the prototype of helper {@code id}, when Prism implements it} */
    public static Optional<HelperProto> proto(int id) {
        return Optional.ofNullable(PROTOS.get(id));
    }

    /** {@return every implemented helper, by id} */
    public static List<HelperProto> all() {
        return List.copyOf(PROTOS.values());
    }

    /** {@return "bpf_fib_lookup#69" or "helper #999" for a helper Prism does not implement} */
    public static String describeUnsupported(int id) {
        String name = LINUX_NAMES.get(id);
        return name == null ? "helper #" + id : "bpf_" + name + "#" + id;
    }
}
