package dev.prism.target;

import java.lang.foreign.MemorySegment;

/**
 * An {@link Executable} of a {@code csd} program that runs it over one chunk of a namespace
 * (dev.prism.program.CsdContext), the way the computational-storage device's engines do: what
 * target-csd and the CLI obtain from a target they do not depend on (the x86-64 JIT's
 * executables implement it), through {@code Target.load} and an {@code instanceof}.
 */
public interface ChunkRunner extends Executable {
    /**
     * Runs the csd program over {@code namespace[chunkOffset, chunkOffset + chunkLength)}.
     *
     * @param namespace   the whole namespace, read-only; prism_csd_read reads anywhere in it,
     *                    bounds-checked
     * @param out         the output buffer the program writes in place (at most
     *                    CsdContext.MAX_REGION bytes of it are offered)
     * @param param0      the context's param0
     * @param param1      its param1
     * @return r0, all 64 bits: the bytes written, or a negative errno
     * @throws dev.prism.error.TargetException when the chunk is outside the namespace or longer
     *                                         than CsdContext.MAX_REGION, or the program is not csd
     * @throws dev.prism.error.TrapException   when the program traps
     */
    long runChunk(MemorySegment namespace, long chunkOffset, long chunkLength, MemorySegment out, long param0, long param1);
}
