package dev.prism.error;

/**
 * Bytecode that does not decode to a valid program: reserved fields set, a bad register, a
 * truncated {@code lddw}, a jump outside the program. The message names the instruction index
 * and the offending field, e.g. {@code 3: reserved field src is 2, must be 0 (opcode 0x07)}.
 */
public final class MalformedProgramException extends PrismException {
    private final int pc;

    public MalformedProgramException(int pc, String reason) {
        super(pc + ": " + reason);
        this.pc = pc;
    }

    /** {@return the instruction index (in 8-byte slots) where decoding failed} */
    public int pc() {
        return pc;
    }
}
