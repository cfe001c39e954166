package dev.prism.runtime.maps;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.runtime.Region;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * BPF_MAP_TYPE_PROG_ARRAY: the jump table of {@code bpf_tail_call}. Linux stores program file
 * descriptors from user space and program pointers inside; here each slot holds a reference to
 * whatever object the runtime uses for a program ({@link #set}, {@link #get}). There is no
 * off-heap layout: a tail call goes through Java.
 *
 * <p>Programs reach this map only through {@code bpf_tail_call}: the verifier refuses
 * {@code bpf_map_lookup_elem} and {@code bpf_map_update_elem} on it. Should they be called
 * anyway, lookup returns 0 and update -EINVAL. Delete clears a slot as fd_array_map_delete_elem:
 * -E2BIG for an index at or past max_entries, -ENOENT for an empty slot. The syscall's lookup
 * and update work with file descriptors, which Prism programs do not have:
 * {@link #lookupUser} and {@link #updateUser} throw.
 */
public final class ProgArrayMap implements BpfMap {
    private final MapDef def;
    private final AtomicReferenceArray<Object> slots;

    ProgArrayMap(MapDef def) {
        if (def.type() != MapType.PROG_ARRAY) {
            throw new IllegalArgumentException("map " + def.name() + ": not a prog_array: " + def.type().id());
        }
        this.def = def;
        // fd_array_map_alloc_check, then array_map_alloc_check.
        BpfMaps.require(def, def.keySize() == 4 && def.valueSize() == 4,
                "prog_array key and value sizes must be 4, were " + def.keySize() + " and " + def.valueSize());
        BpfMaps.requireFlags(def, BpfMaps.BPF_F_NUMA_NODE | BpfMaps.BPF_F_ACCESS_MASK);
        this.slots = new AtomicReferenceArray<>(def.maxEntries());
    }

    @Override
    public MapDef def() {
        return def;
    }

    /**
     * Puts {@code program} in slot {@code index} (null empties it).
     *
     * @throws IllegalArgumentException when index is outside 0..max_entries-1
     */
    public void set(int index, Object program) {
        if (index < 0 || index >= slots.length()) {
            throw new IllegalArgumentException("map " + def.name() + ": index " + index + " outside 0.."
                    + (slots.length() - 1));
        }
        slots.set(index, program);
    }

    /** {@return the program in slot {@code index} (a u32), or null when empty or out of range: the tail call falls through} */
    public Object get(int index) {
        return Integer.compareUnsigned(index, slots.length()) < 0 ? slots.get(index) : null;
    }

    @Override
    public long lookup(MemorySegment key, int cpu) {
        return FdArrays.refusedLookup(def, key);
    }

    @Override
    public int update(MemorySegment key, MemorySegment value, long flags, int cpu) {
        return FdArrays.refusedUpdate(def, key);
    }

    @Override
    public int delete(MemorySegment key) {
        return FdArrays.delete(def, key, i -> slots.getAndSet(i, null) != null);
    }

    @Override
    public byte[] lookupUser(byte[] key) {
        throw new UnsupportedOperationException("map " + def.name() + ": prog_array slots hold programs; use get(index)");
    }

    @Override
    public int updateUser(byte[] key, byte[] value, long flags) {
        throw new UnsupportedOperationException("map " + def.name() + ": prog_array slots hold programs; use set(index, program)");
    }

    /** {@return every index, as array_map_get_next_key visits them} */
    @Override
    public List<byte[]> keys() {
        return FdArrays.indexKeys(slots.length());
    }

    /** {@return no regions: programs never hold pointers into a prog array} */
    @Override
    public List<Region> regions() {
        return List.of();
    }

    @Override
    public void close() {
        for (int i = 0; i < slots.length(); i++) {
            slots.set(i, null);
        }
    }

    @Override
    public String toString() {
        return def.toString();
    }
}
