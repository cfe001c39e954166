package dev.prism.x86;

/**
 * The run context: one native block per loaded program set, whose address the generated code
 * receives as its third argument and keeps in r12 ({@link X86Registers#CONTEXT}) for the whole
 * run. Java writes it before each run and reads it after; the code reads and writes it while
 * it runs. All fields are 8 bytes.
 * <pre>
 *   offset  field        written by         meaning
 *     0     depth        code               frames above the entry (0..7)
 *     8     status       code, upcalls      0 while all is well; STATUS_* when the run trapped
 *    16     tail calls   code               bpf_tail_call successes this run (Linux's limit: 33)
 *    24     entry rsp    code (prologue)    rsp just below the saved registers: where a trap or
 *                                           the final exit unwinds to
 *    32     trap info    code               STATUS_CALL_DEPTH: the native return address of the
 *                                           call that would have made the ninth frame
 *    40     pkt start    Java               legacy packet loads: first byte (raw: mem, XDP: data)
 *    48     pkt end      Java               one past the last byte (raw: mem + len, XDP: data_end)
 *    56     (reserved)
 *    64     helpers[256] Java               helper id -> native entry (rebindable; 0 = unbound)
 *  2112     maps[n]      Java               map index -> the handle {@code lddw map_idx} yields
 *                                           (ARRAY: element 0; HASH family: the table block;
 *                                           PROG_ARRAY: its native table of entry addresses)
 * </pre>
 */
public final class X86Runtime {
    private X86Runtime() {
    }

    public static final int DEPTH = 0;
    public static final int STATUS = 8;
    public static final int TAIL_CALLS = 16;
    public static final int ENTRY_RSP = 24;
    public static final int TRAP_INFO = 32;
    public static final int PKT_START = 40;
    public static final int PKT_END = 48;
    public static final int HELPERS = 64;
    /** Helper ids below this have a slot (Linux's ids are below 212 in 6.x). */
    public static final int HELPER_SLOTS = 256;
    public static final int MAPS = HELPERS + 8 * HELPER_SLOTS;

    /** {@return the bytes of a run context for {@code maps} maps} */
    public static long size(int maps) {
        return MAPS + 8L * Math.max(1, maps);
    }

    /** status: the ninth frame was refused; trap info holds its call's return address. */
    public static final long STATUS_CALL_DEPTH = 1;
    /** status: a helper implemented in Java failed; the executable holds the exception. */
    public static final long STATUS_HELPER = 2;
    /**
     * status: an inlined map operation met a map other than the one the verifier pinned at
     * its pc (trap info: the pc). Unreachable while the IR's facts are sound.
     */
    public static final long STATUS_MAP_MISMATCH = 3;

    /** {@return the context offset of helper {@code id}'s slot} */
    static int helperSlot(int id) {
        if (id < 0 || id >= HELPER_SLOTS) {
            throw new IllegalArgumentException("helper id " + id + " has no slot (0.." + (HELPER_SLOTS - 1) + ")");
        }
        return HELPERS + 8 * id;
    }

    /** {@return the context offset of map {@code index}'s handle} */
    static int mapSlot(int index) {
        return MAPS + 8 * index;
    }
}
