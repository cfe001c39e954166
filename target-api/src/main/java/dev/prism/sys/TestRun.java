package dev.prism.sys;

/**
 * What {@code BPF_PROG_TEST_RUN} reported.
 *
 * @param retval     the program's return value, truncated by the kernel to 32 bits
 * @param dataOut    the packet after the run (it may have grown or shrunk)
 * @param durationNs the kernel's mean time per repetition, in nanoseconds
 */
public record TestRun(int retval, byte[] dataOut, long durationNs) {
}
