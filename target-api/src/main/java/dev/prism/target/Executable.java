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

    @Override
    void close();
}
