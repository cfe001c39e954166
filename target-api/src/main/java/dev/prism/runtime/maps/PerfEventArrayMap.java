package dev.prism.runtime.maps;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.runtime.Region;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * BPF_MAP_TYPE_PERF_EVENT_ARRAY (kernel/bpf/arraymap.c, kernel/trace/bpf_trace.c): slot i holds
 * a perf event, and {@code bpf_perf_event_output} appends a record to the ring of the event in
 * the slot the flags name. Linux only writes into an event of the CPU the program runs on.
 *
 * <p>Prism plays the reader that libbpf's {@code perf_buffer__new} installs: every slot starts
 * with an event, the one of CPU i in slot i. A record sent to a slot whose CPU is not the
 * running CPU fails with -EOPNOTSUPP, as Linux's does; a slot emptied by a delete fails with
 * -ENOENT until user space writes it again (any value: Prism has no perf event fds). The
 * records wait here until {@link #drain} takes them (the runtimes do after each run), at most
 * {@link #MAX_PENDING} of them; more fail with -ENOSPC, as a full perf ring does.
 *
 * <p>User-space lookups are not supported, as in Linux (EOPNOTSUPP for fd arrays other than
 * program and map arrays): {@link #lookupUser} throws.
 */
public final class PerfEventArrayMap implements BpfMap {
    /** Records kept between drains. */
    public static final int MAX_PENDING = 1 << 16;
    static final int EOPNOTSUPP = 95;
    /** BPF_F_INDEX_MASK: the slot in the low 32 bits of the flags. */
    public static final long BPF_F_INDEX_MASK = 0xffff_ffffL;
    /** BPF_F_CURRENT_CPU: the slot of the running CPU. */
    public static final long BPF_F_CURRENT_CPU = BPF_F_INDEX_MASK;
    /** BPF_F_CTXLEN_MASK: for XDP and skb programs, how many packet bytes to append (bits 32..51). */
    public static final long BPF_F_CTXLEN_MASK = 0xfffffL << 32;

    /** A record and the slot it went to. */
    public record Record(int cpu, byte[] data) {
    }

    private final MapDef def;
    private final AtomicIntegerArray open;
    private final List<Record> pending = new ArrayList<>();

    PerfEventArrayMap(MapDef def) {
        if (def.type() != MapType.PERF_EVENT_ARRAY) {
            throw new IllegalArgumentException("map " + def.name() + ": not a perf_event_array: " + def.type().id());
        }
        this.def = def;
        // fd_array_map_alloc_check, array_map_alloc_check (PRESERVE_ELEMS only here)
        BpfMaps.require(def, def.keySize() == 4 && def.valueSize() == 4,
                "perf_event_array key and value sizes must be 4, were " + def.keySize() + " and " + def.valueSize());
        BpfMaps.requireFlags(def, BpfMaps.BPF_F_NUMA_NODE | BpfMaps.BPF_F_ACCESS_MASK | BpfMaps.BPF_F_PRESERVE_ELEMS);
        BpfMaps.require(def, (def.flags() & (BpfMaps.BPF_F_RDONLY_PROG | BpfMaps.BPF_F_WRONLY_PROG)) == 0,
                "map_flags BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG are not allowed for perf_event_array");
        this.open = new AtomicIntegerArray(def.maxEntries());
        for (int i = 0; i < def.maxEntries(); i++) {
            open.set(i, 1);
        }
    }

    @Override
    public MapDef def() {
        return def;
    }

    /**
     * bpf_perf_event_output's map part (__bpf_perf_event_output, perf_event_output checks):
     * {@return 0, -E2BIG for a slot at or past max_entries, -ENOENT for an empty slot,
     * -EOPNOTSUPP for another CPU's slot, -ENOSPC when {@link #MAX_PENDING} records wait}
     *
     * @param flags the helper's flags: the slot (BPF_F_CURRENT_CPU or an index); other bits
     *              were checked by the caller
     * @param cpu   the CPU running the program
     */
    public synchronized int output(long flags, int cpu, byte[] data) {
        long index = flags & BPF_F_INDEX_MASK;
        if (index == BPF_F_CURRENT_CPU) {
            index = cpu;
        }
        if (index >= def.maxEntries()) {
            return -MapErrno.E2BIG;
        }
        if (open.get((int) index) == 0) {
            return -MapErrno.ENOENT;
        }
        if (index != cpu) {
            return -EOPNOTSUPP;
        }
        if (pending.size() >= MAX_PENDING) {
            return -MapErrno.ENOSPC;
        }
        pending.add(new Record((int) index, data.clone()));
        return 0;
    }

    /** {@return the records written since the last drain, oldest first, removing them} */
    public synchronized List<Record> drain() {
        List<Record> out = List.copyOf(pending);
        pending.clear();
        return out;
    }

    @Override
    public long lookup(MemorySegment key, int cpu) {
        return FdArrays.refusedLookup(def, key);
    }

    @Override
    public int update(MemorySegment key, MemorySegment value, long flags, int cpu) {
        return FdArrays.refusedUpdate(def, key);
    }

    /** Empties a slot: -E2BIG past max_entries, -ENOENT when already empty (fd_array_map_delete_elem). */
    @Override
    public int delete(MemorySegment key) {
        return FdArrays.delete(def, key, i -> open.getAndSet(i, 0) != 0);
    }

    @Override
    public byte[] lookupUser(byte[] key) {
        throw new UnsupportedOperationException("map " + def.name() + ": perf_event_array slots hold perf events;"
                + " their records come from drain");
    }

    /** Puts an event back into a slot (any 4-byte value: Prism has no perf event fds). */
    @Override
    public int updateUser(byte[] key, byte[] value, long flags) {
        BpfMaps.checkUserKey(def, key);
        BpfMaps.checkUserValue(def, value, 4);
        long index = Integer.toUnsignedLong(MemorySegment.ofArray(key).get(ValueLayout.JAVA_INT_UNALIGNED, 0));
        if (BpfMaps.above(flags, BpfMaps.BPF_EXIST)) {
            return -MapErrno.EINVAL;
        }
        if (index >= def.maxEntries()) {
            return -MapErrno.E2BIG;
        }
        if (flags == BpfMaps.BPF_NOEXIST) {
            return -MapErrno.EEXIST;
        }
        open.set((int) index, 1);
        return 0;
    }

    @Override
    public List<byte[]> keys() {
        return FdArrays.indexKeys(def.maxEntries());
    }

    @Override
    public List<Region> regions() {
        return List.of();
    }

    @Override
    public synchronized void close() {
        pending.clear();
    }

    @Override
    public String toString() {
        return def.toString();
    }
}
