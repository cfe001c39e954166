package dev.prism.target;

/** A loaded program. Not thread-safe unless the target says so; close it to free native resources. */
public interface Executable extends AutoCloseable {
    /**
     * Runs the program once.
     *
     * @throws dev.prism.error.TrapException  when the program leaves the reference semantics
     * @throws dev.prism.error.TargetException when the target fails (the kernel refuses, a device errs)
     */
    RunResult run(RunInput input);

    /**
     * Runs the program once per input, in order, and {@return one result per input}. Map
     * contents carry over from run to run as they would on consecutive packets. The default
     * loops over {@link #run(RunInput)}; targets that run a batch at once (a GPU, a NIC
     * pipeline, a drive) override it. A failing run ends the batch with its exception.
     */
    default java.util.List<RunResult> run(java.util.List<RunInput> inputs) {
        java.util.List<RunResult> out = new java.util.ArrayList<>(inputs.size());
        for (RunInput in : inputs) {
            out.add(run(in));
        }
        return out;
    }

    /**
     * {@return where the time of the last {@link #run(java.util.List)} went, in nanoseconds by
     * phase (a batch device: "transfer" host to device and back, "kernel", "host" packing), or
     * empty when the target does not say}
     */
    default java.util.Map<String, Long> lastBatchNanos() {
        return java.util.Map.of();
    }

    /**
     * {@return user-space access to the maps the program uses}; maps persist across runs until
     * {@link #close()}
     */
    default MapAccess maps() {
        throw dev.prism.error.TargetException.unsupported("map access on this target");
    }

    /**
     * {@return whether the program runs on the thread that calls {@link #run} and
     * {@link #nanosPerRun}} (native code, an emulator, the interpreter, a system call): then that
     * thread's CPU time is the program's, and a benchmark may time it on that clock, which
     * leaves out the time the thread waited for a CPU. A device, a switch process or an engine
     * pool answers false, and is timed on the wall clock.
     */
    default boolean runsOnCallingThread() {
        return true;
    }

    /**
     * Runs the program {@code repeat} times on one input and {@return the mean nanoseconds per
     * run, as this target measures it}: the Linux target times {@code BPF_PROG_TEST_RUN} with
     * {@code repeat} around the system call, less the fixed cost of a call, native targets time
     * a loop of calls on one prepared input. The default runs
     * {@link #run} in a loop, so it includes the cost of building each run's input.
     */
    default double nanosPerRun(RunInput input, int repeat) {
        if (repeat <= 0) {
            throw new IllegalArgumentException("repeat must be positive, was " + repeat);
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < repeat; i++) {
            run(input);
        }
        return (System.nanoTime() - t0) / (double) repeat;
    }

    @Override
    void close();
}
