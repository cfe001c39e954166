package dev.prism.error;

/**
 * A target could not do what was asked: it is unavailable on this host, it does not support
 * a feature ({@link #unsupported(String)}: "not supported: ..."), or the system beneath it (the
 * kernel, a device) refused.
 */
public final class TargetException extends PrismException {
    private final boolean unsupported;
    private final dev.prism.target.Verdict verdict;

    public TargetException(String message) {
        this(message, null, false);
    }

    public TargetException(String message, Throwable cause) {
        this(message, cause, false);
    }

    private TargetException(String message, Throwable cause, boolean unsupported) {
        this(message, cause, unsupported, null);
    }

    private TargetException(String message, Throwable cause, boolean unsupported, dev.prism.target.Verdict verdict) {
        super(message, cause);
        this.unsupported = unsupported;
        this.verdict = verdict;
    }

    /**
     * {@return the refusal of a program that {@link dev.prism.target.Target#check} does not pass:
     * unsupported, carrying the verdict, with its {@link dev.prism.target.Verdict#message()}}
     */
    public static TargetException refused(dev.prism.target.Verdict verdict) {
        if (verdict.ok()) {
            throw new IllegalArgumentException("an ok verdict refuses nothing");
        }
        return new TargetException(verdict.message(), null, true, verdict);
    }

    /** {@return the verdict of a {@link #refused} program, or null for other failures} */
    public dev.prism.target.Verdict verdict() {
        return verdict;
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
