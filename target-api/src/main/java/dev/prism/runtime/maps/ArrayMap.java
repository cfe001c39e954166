package dev.prism.runtime.maps;

import static dev.prism.runtime.maps.BpfMaps.BPF_EXIST;
import static dev.prism.runtime.maps.BpfMaps.BPF_F_LOCK;
import static dev.prism.runtime.maps.BpfMaps.BPF_NOEXIST;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.runtime.Region;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY (kernel/bpf/arraymap.c): a u32 index as the
 * key, every element preallocated and zeroed (for global data, element 0 starts as
 * {@link MapDef#initialData()}), no element can be deleted.
 *
 * <h2>Layout</h2>
 * One block of {@code cpus * max_entries * stride} bytes, 8-byte aligned, stride
 * {@code round_up(value_size, 8)}; the padding after each value is zero and no one reads it.
 * <pre>
 *  valuesAddress()
 *  |
 *  v  0                 stride              2*stride                      max_entries*stride
 *  +-------------------+-------------------+-----+-------------------------+
 *  | value[0] | pad    | value[1] | pad    | ... | value[max_entries-1]    |   CPU 0 (the only copy for ARRAY)
 *  +-------------------+-------------------+-----+-------------------------+
 *  | value[0] | pad    | ...                                             |   CPU 1   (PERCPU_ARRAY)
 *  +-------------------------------------------------------------------------+
 *  | ...                                                                     |   CPU cpus-1
 *
 *  element i of CPU c:  valuesAddress() + (c * max_entries + i) * stride()
 * </pre>
 * A JIT inlines the lookup as Linux's {@code array_map_gen_lookup} does:
 * <pre>
 *  i = *(u32 *)key;  if (i >= max_entries) r0 = 0;  else r0 = valuesAddress + i * stride (+ cpu block)
 * </pre>
 *
 * <h2>Concurrency</h2>
 * No lock: lookups are address arithmetic, updates copy the value with plain stores, so a
 * concurrent reader may see a value half old and half new, as in Linux for values over 8 bytes.
 * Programs that need atomicity use atomic instructions on the value.
 */
public final class ArrayMap implements BpfMap {
    /** PCPU_MIN_UNIT_SIZE: the largest per-CPU value Linux allocates. */
    static final int MAX_PERCPU_VALUE = 32768;

    private final MapDef def;
    private final boolean perCpu;
    private final int cpus;
    private final int maxEntries;
    private final int stride;
    private final MemorySegment values;

    ArrayMap(MapDef def, int cpus, Arena arena) {
        MapType t = def.type();
        if (t != MapType.ARRAY && t != MapType.PERCPU_ARRAY) {
            throw new IllegalArgumentException("map " + def.name() + ": not an array map: " + t.id());
        }
        this.def = def;
        this.perCpu = t == MapType.PERCPU_ARRAY;
        BpfMaps.require(def, def.keySize() == 4, "key size must be 4 (a u32 index), was " + def.keySize());
        BpfMaps.require(def, def.valueSize() > 0, "value size must be positive");
        BpfMaps.require(def, !perCpu || def.valueSize() <= MAX_PERCPU_VALUE,
                "per-CPU value size " + def.valueSize() + " exceeds " + MAX_PERCPU_VALUE);
        // array_map_alloc_check: ARRAY_CREATE_FLAG_MASK, MMAPABLE and INNER_MAP only for ARRAY,
        // PRESERVE_ELEMS only for perf event arrays.
        BpfMaps.requireFlags(def, BpfMaps.BPF_F_NUMA_NODE | BpfMaps.BPF_F_ACCESS_MASK
                | (perCpu ? 0 : BpfMaps.BPF_F_MMAPABLE | BpfMaps.BPF_F_INNER_MAP));
        this.cpus = perCpu ? cpus : 1;
        this.maxEntries = def.maxEntries();
        this.stride = BpfMaps.round8(def.valueSize());
        long bytes = (long) this.cpus * maxEntries * stride;
        BpfMaps.requireBytes(def, bytes);
        this.values = arena.allocate(bytes, 8);
        byte[] initial = def.initialData();
        for (int c = 0; c < this.cpus; c++) {
            MemorySegment.copy(initial, 0, values, ValueLayout.JAVA_BYTE, offset(c, 0), initial.length);
        }
    }

    @Override
    public MapDef def() {
        return def;
    }

    /** {@return the native address of element 0 of CPU 0} */
    public long valuesAddress() {
        return values.address();
    }

    /** {@return the distance between consecutive elements: round_up(value_size, 8)} */
    public int stride() {
        return stride;
    }

    /** {@return the number of value copies: cpus for PERCPU_ARRAY, 1 for ARRAY} */
    public int cpus() {
        return cpus;
    }

    @Override
    public long lookup(MemorySegment key, int cpu) {
        BpfMaps.checkKey(def, key);
        int c = perCpu ? BpfMaps.checkCpu(def, cpu, cpus) : 0;
        long index = index(key);
        return index >= maxEntries ? 0 : values.address() + offset(c, index);
    }

    /**
     * Linux's array_map_update_elem, checks in its order: unknown flags (BPF_F_LOCK aside)
     * -EINVAL; index at or past max_entries -E2BIG; BPF_NOEXIST -EEXIST (every element exists);
     * BPF_F_LOCK -EINVAL (no value has a bpf_spin_lock). PERCPU_ARRAY writes {@code cpu}'s copy.
     */
    @Override
    public int update(MemorySegment key, MemorySegment value, long flags, int cpu) {
        BpfMaps.checkKey(def, key);
        BpfMaps.checkValue(def, value);
        int c = perCpu ? BpfMaps.checkCpu(def, cpu, cpus) : 0;
        if (BpfMaps.above(flags & ~BPF_F_LOCK, BPF_EXIST)) {
            return -MapErrno.EINVAL;
        }
        long index = index(key);
        if (index >= maxEntries) {
            return -MapErrno.E2BIG;
        }
        if ((flags & BPF_NOEXIST) != 0) {
            return -MapErrno.EEXIST;
        }
        if ((flags & BPF_F_LOCK) != 0) {
            return -MapErrno.EINVAL;
        }
        MemorySegment.copy(value, 0, values, offset(c, index), def.valueSize());
        return 0;
    }

    /** {@return -EINVAL: array elements cannot be deleted (array_map_delete_elem)} */
    @Override
    public int delete(MemorySegment key) {
        BpfMaps.checkKey(def, key);
        return -MapErrno.EINVAL;
    }

    @Override
    public byte[] lookupUser(byte[] key) {
        BpfMaps.checkUserKey(def, key);
        long index = index(MemorySegment.ofArray(key));
        if (index >= maxEntries) {
            return null;
        }
        byte[] out = new byte[userValueSize()];
        if (perCpu) {
            // bpf_percpu_array_copy: each CPU's whole stride, padding included.
            for (int c = 0; c < cpus; c++) {
                MemorySegment.copy(values, ValueLayout.JAVA_BYTE, offset(c, index), out, c * stride, stride);
            }
        } else {
            MemorySegment.copy(values, ValueLayout.JAVA_BYTE, offset(0, index), out, 0, def.valueSize());
        }
        return out;
    }

    /**
     * The syscall's checks: BPF_F_LOCK -EINVAL first (map_update_elem refuses it for values
     * without a spin lock), then as {@link #update} (ARRAY) or bpf_percpu_array_update
     * (PERCPU_ARRAY: flags above BPF_EXIST -EINVAL, -E2BIG, BPF_NOEXIST -EEXIST; every CPU's copy
     * written from its 8-byte-rounded slot of {@code value}).
     */
    @Override
    public int updateUser(byte[] key, byte[] value, long flags) {
        BpfMaps.checkUserKey(def, key);
        BpfMaps.checkUserValue(def, value, userValueSize());
        if ((flags & BPF_F_LOCK) != 0 || BpfMaps.above(flags, BPF_EXIST)) {
            return -MapErrno.EINVAL;
        }
        if (!perCpu) {
            return update(MemorySegment.ofArray(key), MemorySegment.ofArray(value), flags, 0);
        }
        long index = index(MemorySegment.ofArray(key));
        if (index >= maxEntries) {
            return -MapErrno.E2BIG;
        }
        if (flags == BPF_NOEXIST) {
            return -MapErrno.EEXIST;
        }
        for (int c = 0; c < cpus; c++) {
            MemorySegment.copy(value, c * stride, values, ValueLayout.JAVA_BYTE, offset(c, index), stride);
        }
        return 0;
    }

    @Override
    public List<byte[]> keys() {
        List<byte[]> keys = new ArrayList<>(maxEntries);
        for (int i = 0; i < maxEntries; i++) {
            byte[] k = new byte[4];
            MemorySegment.ofArray(k).set(ValueLayout.JAVA_INT_UNALIGNED, 0, i);
            keys.add(k);
        }
        return keys;
    }

    @Override
    public List<Region> regions() {
        return BpfMaps.valueRegions(def, values);
    }

    @Override
    public int userValueSize() {
        return perCpu ? cpus * stride : def.valueSize();
    }

    @Override
    public void close() {
        // The arena owns the memory; nothing lives on the Java heap.
    }

    /** {@return the u32 index in the key, host byte order, widened without sign} */
    private static long index(MemorySegment key) {
        return Integer.toUnsignedLong(key.get(ValueLayout.JAVA_INT_UNALIGNED, 0));
    }

    private long offset(int cpu, long index) {
        return ((long) cpu * maxEntries + index) * stride;
    }

    @Override
    public String toString() {
        return def.toString();
    }
}
