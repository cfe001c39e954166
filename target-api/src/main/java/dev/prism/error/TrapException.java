package dev.prism.error;

/**
 * A program did something at run time that the reference semantics do not allow: an access
 * outside every region it may touch, a misaligned atomic, a call too deep, an exhausted
 * instruction budget. The message reads {@code pc N: reason}.
 */
public final class TrapException extends PrismException {
    private final int pc;
    private final String reason;

    public TrapException(int pc, String reason) {
        super("pc " + pc + ": " + reason);
        this.pc = pc;
        this.reason = reason;
    }

    /** {@return what went wrong, without the pc} */
    public String reason() {
        return reason;
    }

    /** {@return the instruction index at which the program trapped} */
    public int pc() {
        return pc;
    }
}
