package dev.prism.error;

/**
 * A target could not do what was asked: it is unavailable on this host, it does not support
 * a feature ("not supported: ..."), or the system beneath it (the kernel, a device) refused.
 */
public final class TargetException extends PrismException {
    public TargetException(String message) {
        super(message);
    }

    public TargetException(String message, Throwable cause) {
        super(message, cause);
    }
}
