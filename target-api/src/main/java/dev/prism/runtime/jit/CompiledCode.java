package dev.prism.runtime.jit;

import dev.prism.isa.Insn;
import dev.prism.program.Program;
import java.util.Set;

/**
 * One program's machine code as a JIT made it, with what a {@link NativeInstance} needs of it:
 * the bytes, where tail calls land, which helpers it calls through the run context's table, and
 * the map from native offsets back to BPF pcs that trap messages use.
 */
public interface CompiledCode {
    /** {@return the program the code was made from (normalized), whose pcs the offsets map to} */
    Program program();

    /** {@return the bytes, entry at offset 0} */
    byte[] code();

    /** {@return native offset of each slot's code (the lddw second slot: -1)} */
    int[] insnStart();

    /** {@return native offset just past each slot's code (-1 likewise)} */
    int[] insnEnd();

    /** {@return the native offset where a tail call into this program lands (its first instruction)} */
    int tailEntry();

    /** {@return helper ids called through the context's table (the others are inlined or native)} */
    Set<Integer> upcalls();

    /**
     * {@return the pc of the call whose native return address is at {@code offset}, or -1}: a
     * local call or callx ends where its lowering ends; bpf_loop calls its callback from inside
     * the helper call's lowering.
     */
    default int callPcAt(long offset) {
        int[] start = insnStart();
        int[] end = insnEnd();
        for (int pc = 0; pc < end.length; pc++) {
            Insn insn = program().at(pc);
            if (end[pc] == offset && (insn instanceof Insn.Call || insn instanceof Insn.CallX)) {
                return pc;
            }
        }
        for (int pc = 0; pc < end.length; pc++) {
            if (start[pc] >= 0 && start[pc] < offset && offset <= end[pc]) {
                return pc;
            }
        }
        return -1;
    }
}
