package dev.prism.runtime.maps;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.runtime.Region;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The maps {@code bpf_redirect_map} takes (kernel/bpf/devmap.c, cpumap.c, net/xdp/xskmap.c):
 * DEVMAP and DEVMAP_HASH (value: {@code struct bpf_devmap_val}, the target ifindex and an
 * optional program fd), CPUMAP (value: {@code struct bpf_cpumap_val}, the queue size and an
 * optional program fd; the key is the target CPU) and XSKMAP (value: an AF_XDP socket fd; the
 * key is the receive queue).
 *
 * <p>Prism has no devices, CPUs' queues or sockets to send a frame to: a slot records what user
 * space put there, and {@link #target} answers which target a redirect through the slot would
 * choose. The value's checks are Linux's where Prism can make them: a DEVMAP ifindex of 0 and
 * a CPUMAP queue size above 16384 are refused, a CPUMAP queue size of 0 empties the slot (as
 * cpu_map_update_elem does); Linux also refuses ifindexes without a device and keys of CPUs that
 * are not possible, which Prism cannot know. A non-zero program fd (devmap and cpumap programs)
 * is refused: not supported. Any XSKMAP value stands for a socket.
 *
 * <p>Programs reach these maps only through {@code bpf_redirect_map}: the verifier refuses the
 * other map helpers on them. The array types (DEVMAP, CPUMAP, XSKMAP) also keep an off-heap
 * table for JIT code, one u64 {@linkplain #word word} per slot, 0 for an empty one, written
 * whenever a slot changes: {@link #tableAddress}. DEVMAP_HASH has none (0): its redirects go
 * through Java.
 */
public final class RedirectMap implements BpfMap {
    /** cpumap's largest queue size (cpu_map_update_elem: -EOVERFLOW above it). */
    static final int CPUMAP_MAX_QSIZE = 16384;
    static final int EOVERFLOW = 75;
    static final int ENODEV = 19;

    /** XDP_REDIRECT: what bpf_redirect and a successful bpf_redirect_map return. */
    public static final long XDP_REDIRECT = 4;
    /** XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX: the default actions redirect_map may carry in flags. */
    public static final long XDP_ACTION_MASK = 0x3;
    /** bpf_redirect_map flags for devmaps: send to every device of the map / but not the ingress one. */
    public static final long BPF_F_BROADCAST = 1 << 3;
    public static final long BPF_F_EXCLUDE_INGRESS = 1 << 4;

    /** {@return the bpf_redirect_map flags a map of {@code type} takes (__bpf_xdp_redirect_map): others give XDP_ABORTED} */
    public static long allowedFlags(MapType type) {
        boolean devmap = type == MapType.DEVMAP || type == MapType.DEVMAP_HASH;
        return XDP_ACTION_MASK | (devmap ? BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS : 0);
    }

    /** Where in a table word the target's {@link dev.prism.target.RunResult.Redirect.Kind} is (its ordinal + 1). */
    public static final int KIND_SHIFT = 48;

    private final MapDef def;
    private final Map<Long, byte[]> slots = new ConcurrentSkipListMap<>();
    /** The array types' slot words, null for DEVMAP_HASH. */
    private final MemorySegment table;

    RedirectMap(MapDef def, Arena arena) {
        MapType t = def.type();
        if (!t.redirect()) {
            throw new IllegalArgumentException("map " + def.name() + ": not a redirect map: " + t.id());
        }
        this.def = def;
        BpfMaps.require(def, def.keySize() == 4, t.id() + " key size must be 4, was " + def.keySize());
        if (t == MapType.XSKMAP) {
            BpfMaps.require(def, def.valueSize() == 4, "xskmap value size must be 4 (a socket fd), was " + def.valueSize());
        } else {
            BpfMaps.require(def, def.valueSize() == 4 || def.valueSize() == 8,
                    t.id() + " value size must be 4 or 8, was " + def.valueSize());
        }
        // DEV_CREATE_FLAG_MASK, XSK map_flags, cpu_map_alloc (only BPF_F_NUMA_NODE)
        BpfMaps.requireFlags(def, t == MapType.CPUMAP ? BpfMaps.BPF_F_NUMA_NODE
                : BpfMaps.BPF_F_NUMA_NODE | BpfMaps.BPF_F_RDONLY | BpfMaps.BPF_F_WRONLY);
        this.table = t == MapType.DEVMAP_HASH ? null : arena.allocate(8L * def.maxEntries(), 8);
    }

    /** {@return the off-heap table's address (slot k's word at 8 * k), or 0 for DEVMAP_HASH} */
    public long tableAddress() {
        return table == null ? 0 : table.address();
    }

    /**
     * {@return the word JIT code reads for a slot holding {@code target}}: the target (an ifindex,
     * a CPU, a queue) in the low 32 bits, the kind's ordinal + 1 at {@link #KIND_SHIFT}; never 0
     */
    public static long word(dev.prism.target.RunResult.Redirect.Kind kind, long target) {
        return (target & 0xffff_ffffL) | (long) (kind.ordinal() + 1) << KIND_SHIFT;
    }

    /** {@return the redirect a {@link #word} stands for, through map {@code map} (null for bpf_redirect)} */
    public static dev.prism.target.RunResult.Redirect redirect(long word, String map) {
        var kind = dev.prism.target.RunResult.Redirect.Kind.values()[(int) (word >>> KIND_SHIFT & 0xff) - 1];
        return new dev.prism.target.RunResult.Redirect(kind, word & 0xffff_ffffL, map);
    }

    private dev.prism.target.RunResult.Redirect.Kind kind() {
        return switch (def.type()) {
            case CPUMAP -> dev.prism.target.RunResult.Redirect.Kind.CPU;
            case XSKMAP -> dev.prism.target.RunResult.Redirect.Kind.QUEUE;
            default -> dev.prism.target.RunResult.Redirect.Kind.IFINDEX;
        };
    }

    /** Writes slot {@code k}'s word from what the slot now holds. */
    private void sync(long k) {
        if (table != null && k < def.maxEntries()) {
            Long target = target(k);
            table.set(ValueLayout.JAVA_LONG, 8 * k, target == null ? 0 : word(kind(), target));
        }
    }

    @Override
    public MapDef def() {
        return def;
    }

    /**
     * {@return where bpf_redirect_map(map, key) sends the frame, or null when the slot is empty}:
     * the ifindex in a devmap's value, the key of a cpumap (the CPU) or an xskmap (the queue)
     */
    public Long target(long key) {
        byte[] v = slots.get(key & 0xffff_ffffL);
        if (v == null) {
            return null;
        }
        return def.type() == MapType.DEVMAP || def.type() == MapType.DEVMAP_HASH
                ? Integer.toUnsignedLong(MemorySegment.ofArray(v).get(ValueLayout.JAVA_INT_UNALIGNED, 0))
                : key & 0xffff_ffffL;
    }

    /** {@return 0: programs do not look these maps up in Prism (the verifier refuses the call)} */
    @Override
    public long lookup(MemorySegment key, int cpu) {
        return FdArrays.refusedLookup(def, key);
    }

    @Override
    public int update(MemorySegment key, MemorySegment value, long flags, int cpu) {
        return FdArrays.refusedUpdate(def, key);
    }

    /** Empties a slot: arrays -E2BIG past max_entries (dev_map_delete_elem, cpu_map_delete_elem), -ENOENT when absent for DEVMAP_HASH. */
    @Override
    public int delete(MemorySegment key) {
        long k = FdArrays.index(def, key);
        if (def.type() != MapType.DEVMAP_HASH && k >= def.maxEntries()) {
            return -MapErrno.E2BIG;
        }
        byte[] old = slots.remove(k);
        sync(k);
        return old == null && def.type() == MapType.DEVMAP_HASH ? -MapErrno.ENOENT : 0;
    }

    @Override
    public byte[] lookupUser(byte[] key) {
        BpfMaps.checkUserKey(def, key);
        byte[] v = slots.get(u32(key));
        return v == null ? null : v.clone();
    }

    @Override
    public int updateUser(byte[] key, byte[] value, long flags) {
        BpfMaps.checkUserKey(def, key);
        BpfMaps.checkUserValue(def, value, def.valueSize());
        long k = u32(key);
        MapType t = def.type();
        if (BpfMaps.above(flags, BpfMaps.BPF_EXIST)) {
            return -MapErrno.EINVAL;
        }
        if (t != MapType.DEVMAP_HASH && k >= def.maxEntries()) {
            return -MapErrno.E2BIG;
        }
        boolean present = slots.containsKey(k);
        if (flags == BpfMaps.BPF_NOEXIST && (present || t != MapType.DEVMAP_HASH)) {
            return -MapErrno.EEXIST; // array slots always exist (dev_map_update_elem)
        }
        if (flags == BpfMaps.BPF_EXIST && !present && t == MapType.DEVMAP_HASH) {
            return -MapErrno.ENOENT;
        }
        MemorySegment v = MemorySegment.ofArray(value);
        int first = v.get(ValueLayout.JAVA_INT_UNALIGNED, 0);
        if (value.length == 8 && t != MapType.XSKMAP && v.get(ValueLayout.JAVA_INT_UNALIGNED, 4) > 0) {
            return -MapErrno.EINVAL; // not supported: a program in a devmap or cpumap entry
        }
        switch (t) {
            case DEVMAP, DEVMAP_HASH -> {
                if (first == 0) {
                    return -MapErrno.EINVAL;
                }
            }
            case CPUMAP -> {
                if (Integer.toUnsignedLong(first) > CPUMAP_MAX_QSIZE) {
                    return -EOVERFLOW;
                }
                if (first == 0) {
                    slots.remove(k);
                    sync(k);
                    return 0;
                }
            }
            default -> {
            }
        }
        if (t == MapType.DEVMAP_HASH && !present && slots.size() >= def.maxEntries()) {
            return -MapErrno.E2BIG;
        }
        slots.put(k, value.clone());
        sync(k);
        return 0;
    }

    /** {@return arrays: every index (get_next_key walks them all); DEVMAP_HASH: the keys present} */
    @Override
    public List<byte[]> keys() {
        if (def.type() != MapType.DEVMAP_HASH) {
            return FdArrays.indexKeys(def.maxEntries());
        }
        List<byte[]> out = new ArrayList<>();
        for (long k : slots.keySet()) {
            out.add(FdArrays.u32(k));
        }
        return out;
    }

    @Override
    public List<Region> regions() {
        return List.of();
    }

    @Override
    public void close() {
        slots.clear(); // the arena owns the table
    }

    private static long u32(byte[] key) {
        return Integer.toUnsignedLong(MemorySegment.ofArray(key).get(ValueLayout.JAVA_INT_UNALIGNED, 0));
    }

    @Override
    public String toString() {
        return def.toString();
    }
}
