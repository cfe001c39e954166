package dev.prism.csd;

import dev.prism.target.RunResult;

/**
 * Firmware loaded to run: a {@link ChunkKernel} for csd programs, and a runner of raw programs
 * (the conformance cases, each a single chunk: r1 = the memory, r2 = its length).
 */
public interface FirmwareKernel extends ChunkKernel {
    /** {@return the arch the firmware was built for} */
    FirmwareArch arch();

    /**
     * Runs a raw program on {@code mem} (copied; the copy is what the program changes).
     * {@return r0 (all 64 bits) and the memory after the run}
     *
     * @throws dev.prism.error.TrapException  when a helper failed
     * @throws dev.prism.error.TargetException when the firmware's host failed (the harness died)
     */
    RunResult runRaw(byte[] mem);
}
