package dev.prism.runtime;

/** What a helper may do to the calling program's memory: checked reads and writes. */
public interface HelperContext {
    /** {@return {@code size} bytes at {@code address}} @throws dev.prism.error.TrapException when outside every region */
    byte[] read(long address, int size);

    /** Writes {@code bytes} at {@code address}. @throws dev.prism.error.TrapException when not writable */
    void write(long address, byte[] bytes);
}
