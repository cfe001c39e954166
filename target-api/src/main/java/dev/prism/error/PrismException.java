package dev.prism.error;

/**
 * The one root of Prism's own failures. Each kind of failure has its own subtype, so callers
 * (the CLI, the conformance runner) can tell bad input from a trap at run time without parsing
 * messages.
 */
public abstract sealed class PrismException extends RuntimeException
        permits MalformedProgramException, AssemblerException, ElfException, TrapException, TargetException,
        VerificationException {

    protected PrismException(String message) {
        super(message);
    }

    protected PrismException(String message, Throwable cause) {
        super(message, cause);
    }
}
