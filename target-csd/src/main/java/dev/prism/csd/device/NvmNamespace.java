package dev.prism.csd.device;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An NVM namespace (command set identifier 0h) whose logical blocks are a file, mapped read-only
 * into a {@link MemorySegment} with FFM ({@link FileChannel#map(FileChannel.MapMode, long, long, Arena)}).
 * The device addresses it in bytes; programs get the segment read-only.
 */
public final class NvmNamespace implements AutoCloseable {
    private final Arena arena;
    private final MemorySegment data;
    private final String source;

    private NvmNamespace(Arena arena, MemorySegment data, String source) {
        this.arena = arena;
        this.data = data.asReadOnly();
        this.source = source;
    }

    /** {@return the namespace backed by {@code file}} @throws IOException when it cannot be opened or mapped */
    public static NvmNamespace map(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return new NvmNamespace(arena, seg, file.toString());
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** {@return a namespace over {@code bytes} (tests)} */
    public static NvmNamespace of(byte[] bytes) {
        Arena arena = Arena.ofShared();
        MemorySegment seg = arena.allocate(Math.max(1, bytes.length), 8).asSlice(0, bytes.length);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, seg, 0, bytes.length);
        return new NvmNamespace(arena, seg, bytes.length + " bytes in memory");
    }

    /** {@return the namespace's bytes, read-only} */
    public MemorySegment data() {
        return data;
    }

    public long size() {
        return data.byteSize();
    }

    public String source() {
        return source;
    }

    @Override
    public void close() {
        arena.close();
    }
}
