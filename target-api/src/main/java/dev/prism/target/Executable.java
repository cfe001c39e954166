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
     * {@return user-space access to the maps the program uses}; maps persist across runs until
     * {@link #close()}
     */
    default MapAccess maps() {
        throw dev.prism.error.TargetException.unsupported("map access on this target");
    }

    @Override
    void close();
}
