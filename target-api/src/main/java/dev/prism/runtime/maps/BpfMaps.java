package dev.prism.runtime.maps;

import dev.prism.program.MapDef;
import dev.prism.runtime.Region;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Objects;

/**
 * Creates maps, and holds the flag values of include/uapi/linux/bpf.h that callers pass.
 *
 * <p>Creation checks what the kernel's {@code map_alloc_check} / {@code map_alloc} functions
 * check (sizes, map_flags) and throws an {@link IllegalArgumentException} naming the map and the
 * reason where Linux would fail {@code BPF_MAP_CREATE}.
 */
public final class BpfMaps {
    /** Update flag: create or replace. */
    public static final long BPF_ANY = 0;
    /** Update flag: create only; -EEXIST when the key exists. */
    public static final long BPF_NOEXIST = 1;
    /** Update flag: replace only; -ENOENT when the key is missing. */
    public static final long BPF_EXIST = 2;
    /** Update flag: copy under the value's bpf_spin_lock. Prism values carry none: -EINVAL. */
    public static final long BPF_F_LOCK = 4;

    /** map_flags: no preallocation (required by LPM_TRIE; Prism preallocates hash maps anyway). */
    public static final int BPF_F_NO_PREALLOC = 1;
    /** map_flags: per-CPU LRU lists (LRU_HASH); Prism keeps one list and ignores it. */
    public static final int BPF_F_NO_COMMON_LRU = 1 << 1;
    public static final int BPF_F_NUMA_NODE = 1 << 2;
    public static final int BPF_F_RDONLY = 1 << 3;
    public static final int BPF_F_WRONLY = 1 << 4;
    public static final int BPF_F_ZERO_SEED = 1 << 6;
    public static final int BPF_F_RDONLY_PROG = 1 << 7;
    public static final int BPF_F_WRONLY_PROG = 1 << 8;
    public static final int BPF_F_MMAPABLE = 1 << 10;
    public static final int BPF_F_PRESERVE_ELEMS = 1 << 11;
    public static final int BPF_F_INNER_MAP = 1 << 12;
    /** BPF_F_ACCESS_MASK. */
    public static final int BPF_F_ACCESS_MASK = BPF_F_RDONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY | BPF_F_WRONLY_PROG;

    /** {@code bpf_ringbuf_output} / {@code bpf_ringbuf_submit} flags. */
    public static final long BPF_RB_NO_WAKEUP = 1;
    public static final long BPF_RB_FORCE_WAKEUP = 2;

    /** Linux refuses maps whose memory reaches U32_MAX - PAGE_SIZE (array_map_alloc). */
    static final long MAX_MAP_BYTES = 0xffff_ffffL - 4096;

    private BpfMaps() {
    }

    /**
     * {@return a new map for {@code def}, its memory allocated from {@code arena}}
     *
     * @param cpus the number of simulated CPUs, for per-CPU maps (at least 1)
     * @throws IllegalArgumentException when Linux would refuse to create the map
     */
    public static BpfMap create(MapDef def, int cpus, Arena arena) {
        Objects.requireNonNull(def);
        Objects.requireNonNull(arena);
        if (cpus < 1) {
            throw new IllegalArgumentException("map " + def.name() + ": cpus must be at least 1, was " + cpus);
        }
        return switch (def.type()) {
            case ARRAY, PERCPU_ARRAY -> new ArrayMap(def, cpus, arena);
            case HASH, PERCPU_HASH, LRU_HASH -> new HashTableMap(def, cpus, arena);
            case LPM_TRIE -> new LpmTrieMap(def, arena);
            case RINGBUF -> new RingBufMap(def, arena);
            case PROG_ARRAY -> new ProgArrayMap(def);
            case ARRAY_OF_MAPS, HASH_OF_MAPS -> new MapOfMaps(def, arena);
            case DEVMAP, DEVMAP_HASH, CPUMAP, XSKMAP -> new RedirectMap(def, arena);
            case PERF_EVENT_ARRAY -> new PerfEventArrayMap(def, arena);
        };
    }

    static int round8(int n) {
        return (n + 7) & ~7;
    }

    static long round8(long n) {
        return (n + 7) & ~7L;
    }

    /** Throws "map NAME: REASON" unless {@code ok}. */
    static void require(MapDef def, boolean ok, String reason) {
        if (!ok) {
            throw new IllegalArgumentException("map " + def.name() + ": " + reason);
        }
    }

    static void requireFlags(MapDef def, int allowed) {
        int unknown = def.flags() & ~allowed;
        require(def, unknown == 0, String.format("map_flags 0x%x not allowed for %s (bits 0x%x)",
                def.flags(), def.type().id(), unknown));
        require(def, (def.flags() & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) != (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG),
                "map_flags has both BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG");
    }

    static void requireBytes(MapDef def, long bytes) {
        require(def, bytes > 0 && bytes < MAX_MAP_BYTES, "needs " + bytes + " bytes, more than Linux allows");
    }

    static void checkKey(MapDef def, MemorySegment key) {
        if (key.byteSize() < def.keySize()) {
            throw new IllegalArgumentException("map " + def.name() + ": key of " + key.byteSize()
                    + " bytes, key size is " + def.keySize());
        }
    }

    static void checkValue(MapDef def, MemorySegment value) {
        if (value.byteSize() < def.valueSize()) {
            throw new IllegalArgumentException("map " + def.name() + ": value of " + value.byteSize()
                    + " bytes, value size is " + def.valueSize());
        }
    }

    static void checkUserKey(MapDef def, byte[] key) {
        if (key.length != def.keySize()) {
            throw new IllegalArgumentException("map " + def.name() + ": key of " + key.length
                    + " bytes, key size is " + def.keySize());
        }
    }

    static void checkUserValue(MapDef def, byte[] value, int expected) {
        if (value.length != expected) {
            throw new IllegalArgumentException("map " + def.name() + ": value of " + value.length
                    + " bytes, expected " + expected);
        }
    }

    static int checkCpu(MapDef def, int cpu, int cpus) {
        if (cpu < 0 || cpu >= cpus) {
            throw new IllegalArgumentException("map " + def.name() + ": cpu " + cpu + " outside 0.." + (cpus - 1));
        }
        return cpu;
    }

    /**
     * {@return the region for a map's value area}: not writable for .rodata and maps created
     * BPF_F_RDONLY_PROG, not readable for BPF_F_WRONLY_PROG (Linux's verifier refuses such
     * accesses from programs: "write into map forbidden", "read from map forbidden")
     */
    static Region valueRegion(MapDef def, MemorySegment area) {
        boolean writable = !def.readOnly() && (def.flags() & BPF_F_RDONLY_PROG) == 0;
        boolean readable = (def.flags() & BPF_F_WRONLY_PROG) == 0;
        return new Region("map value " + def.name(), area.address(), area, writable, readable);
    }

    static List<Region> valueRegions(MapDef def, MemorySegment area) {
        return List.of(valueRegion(def, area));
    }

    /** {@return whether {@code flags}, a u64, is above {@code limit}} */
    static boolean above(long flags, long limit) {
        return Long.compareUnsigned(flags, limit) > 0;
    }
}
