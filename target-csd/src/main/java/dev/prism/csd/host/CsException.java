package dev.prism.csd.host;

import dev.prism.csd.device.Completion;
import dev.prism.csd.device.NvmeStatus;

/** A computational-storage call the device refused: the completion's status and why. */
public final class CsException extends RuntimeException {
    private final NvmeStatus status;

    public CsException(String what, Completion c) {
        super(what + ": " + c.status() + (c.detail().isEmpty() ? "" : ": " + c.detail()));
        this.status = c.status();
    }

    public CsException(String what) {
        super(what);
        this.status = null;
    }

    /** {@return the device's status, or null when the host library refused before asking the device} */
    public NvmeStatus status() {
        return status;
    }
}
