package dev.prism.runtime.maps;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.runtime.Region;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

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
 *
 * <p>The slots' state and the waiting records are off-heap, in one block whose address is the
 * map's handle in JIT code, so a JIT may write records as native code under the same spin lock
 * ({@link SpinLock}) as {@link #output}:
 * <pre>
 *    0  u32 lock        8  u64 bytes of records     16  u64 records
 *   24  u32 max_entries 28  u32 offset of the records
 *   32  u8 open[max_entries] (1: the slot holds an event), padded to 8
 *   then the records, each {u32 slot, u32 length, bytes[length]} padded to 8, at most {@link #CAPACITY} bytes
 * </pre>
 * A record that does not fit in {@link #CAPACITY} fails with -ENOSPC, as does one past
 * {@link #MAX_PENDING} records.
 */
public final class PerfEventArrayMap implements BpfMap {
    /** Records kept between drains. */
    public static final int MAX_PENDING = 1 << 16;
    /** Bytes of records kept between drains, headers included (Prism-defined, as a perf ring's size is). */
    public static final int CAPACITY = 4 << 20;
    public static final int LOCK = 0;
    public static final int USED = 8;
    public static final int COUNT = 16;
    public static final int MAX_ENTRIES = 24;
    public static final int RECORDS = 28;
    public static final int OPEN = 32;
    /** Bytes of a record's header: slot and length. */
    public static final int RECORD_HEADER = 8;
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
    private final MemorySegment block;
    private final long records;

    PerfEventArrayMap(MapDef def, Arena arena) {
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
        this.records = OPEN + BpfMaps.round8((long) def.maxEntries());
        this.block = arena.allocate(records + CAPACITY, 8);
        block.set(ValueLayout.JAVA_INT, MAX_ENTRIES, def.maxEntries());
        block.set(ValueLayout.JAVA_INT, RECORDS, (int) records);
        block.asSlice(OPEN, def.maxEntries()).fill((byte) 1);
    }

    /** {@return the native address of the block: the map's handle in JIT code} */
    public long address() {
        return block.address();
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
    public int output(long flags, int cpu, byte[] data) {
        long index = flags & BPF_F_INDEX_MASK;
        if (index == BPF_F_CURRENT_CPU) {
            index = cpu;
        }
        if (index >= def.maxEntries()) {
            return -MapErrno.E2BIG;
        }
        if (block.get(ValueLayout.JAVA_BYTE, OPEN + index) == 0) {
            return -MapErrno.ENOENT;
        }
        if (index != cpu) {
            return -EOPNOTSUPP;
        }
        SpinLock.lock(block, LOCK);
        try {
            long used = block.get(ValueLayout.JAVA_LONG, USED);
            long count = block.get(ValueLayout.JAVA_LONG, COUNT);
            long need = RECORD_HEADER + BpfMaps.round8((long) data.length);
            if (count >= MAX_PENDING || used + need > CAPACITY) {
                return -MapErrno.ENOSPC;
            }
            long at = records + used;
            block.set(ValueLayout.JAVA_INT, at, (int) index);
            block.set(ValueLayout.JAVA_INT, at + 4, data.length);
            MemorySegment.copy(data, 0, block, ValueLayout.JAVA_BYTE, at + RECORD_HEADER, data.length);
            block.set(ValueLayout.JAVA_LONG, USED, used + need);
            block.set(ValueLayout.JAVA_LONG, COUNT, count + 1);
            return 0;
        } finally {
            SpinLock.unlock(block, LOCK);
        }
    }

    /** {@return the records written since the last drain, oldest first, removing them} */
    public List<Record> drain() {
        SpinLock.lock(block, LOCK);
        try {
            long count = block.get(ValueLayout.JAVA_LONG, COUNT);
            List<Record> out = new ArrayList<>((int) count);
            long at = records;
            for (long i = 0; i < count; i++) {
                int slot = block.get(ValueLayout.JAVA_INT, at);
                int length = block.get(ValueLayout.JAVA_INT, at + 4);
                out.add(new Record(slot, block.asSlice(at + RECORD_HEADER, length).toArray(ValueLayout.JAVA_BYTE)));
                at += RECORD_HEADER + BpfMaps.round8((long) length);
            }
            block.set(ValueLayout.JAVA_LONG, USED, 0);
            block.set(ValueLayout.JAVA_LONG, COUNT, 0);
            return out;
        } finally {
            SpinLock.unlock(block, LOCK);
        }
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
        return FdArrays.delete(def, key, i -> {
            boolean was = block.get(ValueLayout.JAVA_BYTE, OPEN + i) != 0;
            block.set(ValueLayout.JAVA_BYTE, OPEN + i, (byte) 0);
            return was;
        });
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
        block.set(ValueLayout.JAVA_BYTE, OPEN + index, (byte) 1);
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
    public void close() {
        // the arena owns the block
    }

    @Override
    public String toString() {
        return def.toString();
    }
}
