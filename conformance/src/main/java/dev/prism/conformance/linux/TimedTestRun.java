package dev.prism.conformance.linux;

import dev.prism.target.RunInput;

/**
 * An executable in the running kernel whose runs can be timed from user space
 * ({@link TestRunTimer}): what {@code prism bench} asks of the linux target to report wall
 * time, thread CPU time and the kernel's own duration side by side.
 */
public interface TimedTestRun {
    /**
     * {@return {@code repeat} runs of {@code input} timed around the system call, the fixed
     * per-call cost subtracted}
     *
     * @throws dev.prism.error.TargetException when the kernel refuses
     */
    TestRunTimer.Timing timeRuns(RunInput input, int repeat);
}
