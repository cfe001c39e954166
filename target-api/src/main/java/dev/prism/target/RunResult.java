package dev.prism.target;

/**
 * The outcome of one run.
 *
 * @param r0       the 64-bit return value
 * @param memAfter the input memory after the run (raw programs)
 */
public record RunResult(long r0, byte[] memAfter) {
    public RunResult {
        memAfter = memAfter == null ? new byte[0] : memAfter.clone();
    }

    @Override
    public byte[] memAfter() {
        return memAfter.clone();
    }
}
