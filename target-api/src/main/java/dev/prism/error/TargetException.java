package dev.prism.error;

/**
 * A target could not do what was asked: it is unavailable on this host, it does not support
 * a feature ({@link #unsupported(String)}: "not supported: ..."), or the system beneath it (the
 * kernel, a device) refused.
 */
public final class TargetException extends PrismException {
    private final boolean unsupported;

    public TargetException(String message) {
        this(message, null, false);
    }

    public TargetException(String message, Throwable cause) {
        this(message, cause, false);
    }

    private TargetException(String message, Throwable cause, boolean unsupported) {
        super(message, cause);
        this.unsupported = unsupported;
    }

    /** {@return a refusal of a feature the target lacks: a gap in the target, not a wrong program} */
    public static TargetException unsupported(String what) {
        return new TargetException("not supported: " + what, null, true);
    }

    /** {@return a refusal of a feature the target lacks, at instruction {@code pc}} */
    public static TargetException unsupported(int pc, String what) {
        return new TargetException(pc + ": not supported: " + what, null, true);
    }

    /** {@return whether the target refused for lack of a feature ({@link #unsupported(String)})} */
    public boolean isUnsupported() {
        return unsupported;
    }
}
