package dev.prism.x86;

import dev.prism.runtime.jit.RunContext;

/**
 * The run context of x86-64 code: {@link RunContext}'s layout, shared with the other JITs,
 * whose address the generated code receives as its third argument and keeps in r12
 * ({@link X86Registers#CONTEXT}) for the whole run. The entry sp field holds rsp just below the
 * saved registers.
 */
public final class X86Runtime {
    private X86Runtime() {
    }

    public static final int DEPTH = RunContext.DEPTH;
    public static final int STATUS = RunContext.STATUS;
    public static final int TAIL_CALLS = RunContext.TAIL_CALLS;
    public static final int ENTRY_RSP = RunContext.ENTRY_SP;
    public static final int TRAP_INFO = RunContext.TRAP_INFO;
    public static final int PKT_START = RunContext.PKT_START;
    public static final int PKT_END = RunContext.PKT_END;
    public static final int HELPERS = RunContext.HELPERS;
    /** Helper ids below this have a slot (Linux's ids are below 212 in 6.x). */
    public static final int HELPER_SLOTS = RunContext.HELPER_SLOTS;
    public static final int MAPS = RunContext.MAPS;

    /** {@return the bytes of a run context for {@code maps} maps} */
    public static long size(int maps) {
        return RunContext.size(maps);
    }

    /** status: the ninth frame was refused; trap info holds its call's return address. */
    public static final long STATUS_CALL_DEPTH = RunContext.STATUS_CALL_DEPTH;
    /** status: a helper implemented in Java failed; the executable holds the exception. */
    public static final long STATUS_HELPER = RunContext.STATUS_HELPER;
    /**
     * status: an inlined map operation met a map other than the one the verifier pinned at
     * its pc (trap info: the pc). Unreachable while the IR's facts are sound.
     */
    public static final long STATUS_MAP_MISMATCH = RunContext.STATUS_MAP_MISMATCH;

    /** {@return the context offset of helper {@code id}'s slot} */
    static int helperSlot(int id) {
        return RunContext.helperSlot(id);
    }

    /** {@return the context offset of map {@code index}'s handle} */
    static int mapSlot(int index) {
        return RunContext.mapSlot(index);
    }
}
