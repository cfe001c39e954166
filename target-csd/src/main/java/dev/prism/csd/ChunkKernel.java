package dev.prism.csd;

import dev.prism.target.MapAccess;
import java.lang.foreign.MemorySegment;

/**
 * A loaded {@code csd} program as the device's compute engines see it: something that processes
 * one chunk of a memory range set (DESIGN.md "target-csd"). The firmware builds (host code
 * through FFM, aarch64/riscv64 under qemu-user) and the reference interpreter each implement it,
 * so that the device emulator runs whichever was loaded without knowing which.
 *
 * <p>Engines call {@link #run} from several threads at once, on different chunks; an
 * implementation is thread-safe, and the program's maps are shared between those calls.
 */
public interface ChunkKernel extends AutoCloseable {
    /**
     * Runs the program over one chunk.
     *
     * @param namespace   the whole NVM namespace (read-only to the program); the chunk is
     *                    {@code namespace[chunkOffset, chunkOffset + chunkLength)}, and the
     *                    namespace-read helper may read elsewhere in it, bounds-checked
     * @param chunkOffset the chunk's byte offset in the namespace
     * @param chunkLength the chunk's length in bytes
     * @param out         the output buffer in subsystem local memory the program writes
     * @param param0      the Execute Program command's first 64-bit parameter
     * @param param1      its second
     * @return r0: the number of output bytes written, or a negative errno
     */
    long run(MemorySegment namespace, long chunkOffset, long chunkLength, MemorySegment out, long param0, long param1);

    /** {@return the program's maps, readable and writable between runs (as {@code Executable.maps()})} */
    MapAccess maps();

    /** {@return what runs the program, e.g. "x86-64 firmware (in-process)", "riscv64 firmware (qemu-user)"} */
    String description();

    @Override
    void close();
}
