package dev.prism.csd.device;

import java.util.Objects;

/**
 * What a command completes with: the status, the command-specific 64-bit result (Dwords 0 and 1
 * of the completion entry: Execute Program's return value, Memory Range Set Management's new
 * identifier), the data a read transfers to the host, and, beyond NVMe, a sentence that says
 * why a command failed (the emulator's log line).
 */
public record Completion(NvmeStatus status, long result, byte[] data, String detail) {
    public Completion {
        Objects.requireNonNull(status);
        Objects.requireNonNull(detail);
    }

    static Completion ok(long result) {
        return new Completion(NvmeStatus.SUCCESS, result, null, "");
    }

    static Completion ok(byte[] data) {
        return new Completion(NvmeStatus.SUCCESS, 0, data, "");
    }

    static Completion error(NvmeStatus status, String detail) {
        return new Completion(status, 0, null, detail);
    }

    public boolean ok() {
        return status == NvmeStatus.SUCCESS;
    }

    @Override
    public String toString() {
        return ok() ? "success, result " + result : status + ": " + detail;
    }
}
