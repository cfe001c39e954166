package dev.prism.error;

/** Assembler text that cannot be assembled; the message names the 1-based source line. */
public final class AssemblerException extends PrismException {
    private final int line;

    public AssemblerException(int line, String reason) {
        super("line " + line + ": " + reason);
        this.line = line;
    }

    /** {@return the 1-based source line} */
    public int line() {
        return line;
    }
}
