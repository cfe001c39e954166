package dev.prism.runtime;

import java.lang.foreign.MemorySegment;

/**
 * A piece of memory a program may touch, at a fixed virtual address. The interpreter resolves
 * every load, store and atomic against its regions; an address outside all of them traps.
 *
 * @param name     what the region is, for trap messages: "stack", "mem", "ctx", "packet", "map value"
 * @param base     the virtual address of its first byte
 * @param segment  its bytes (native memory, 8-byte aligned, so atomics can use aligned access)
 * @param writable whether stores are allowed
 * @param readable whether loads are allowed (false for maps created BPF_F_WRONLY_PROG)
 */
public record Region(String name, long base, MemorySegment segment, boolean writable, boolean readable) {

    /** {@return a readable region} */
    public Region(String name, long base, MemorySegment segment, boolean writable) {
        this(name, base, segment, writable, true);
    }

    /** {@return the address one past the last byte} */
    public long end() {
        return base + segment.byteSize();
    }

    /** {@return whether [address, address + size) lies inside this region} */
    public boolean contains(long address, int size) {
        // Unsigned arithmetic: an address below base wraps to a huge offset and fails the test.
        long offset = address - base;
        return Long.compareUnsigned(offset, segment.byteSize()) < 0
                && Long.compareUnsigned(offset + size, segment.byteSize()) <= 0;
    }

    @Override
    public String toString() {
        return String.format("%s [0x%x, 0x%x)%s%s", name, base, end(), writable ? "" : " read-only", readable ? "" : " write-only");
    }
}
