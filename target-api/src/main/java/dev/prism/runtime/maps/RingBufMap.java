package dev.prism.runtime.maps;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.runtime.Region;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * BPF_MAP_TYPE_RINGBUF (kernel/bpf/ringbuf.c): a multi-producer, single-consumer ring of
 * variable-length records. max_entries is the data size in bytes: a power of two and a multiple
 * of the 4096-byte page.
 *
 * <h2>Layout</h2>
 * <pre>
 *  0                      64                     72                     80         88         128
 *  +----------------------+----------------------+----------------------+----------+----------+------------------------+------------------------+
 *  | u64 consumer_pos     | u64 producer_pos     | u64 pending_pos      | u32 lock | u64 mask | data[size]             | overflow[size]         |
 *  | (consumer only)      | (release store)      | (first busy record)  |          | size - 1 | record at pos &amp; mask | tail of a record that  |
 *  +----------------------+----------------------+----------------------+----------+----------+------------------------+ starts near the end    +
 *
 *  record (8-byte aligned):  +--------------------------------------+-----------------+------------------------+
 *                            | u32 len | BUSY 1&lt;&lt;31 | DISCARD 1&lt;&lt;30 | u32 pg_off (0)  | payload, padded to 8    |
 *                            +--------------------------------------+-----------------+------------------------+
 * </pre>
 * Positions are byte counts that only grow; a record at position p starts at
 * {@code data + (p & (size - 1))} and is read and written contiguously from there. Linux maps
 * the data pages twice in a row so a record may run past the end; here the bytes past the end
 * go to the overflow area, which has the same effect for anyone who reads records contiguously
 * from their start, as the consumer does. pg_off (Linux: the page offset back to the ring) is
 * always 0: {@link #submit} and {@link #discard} are methods of the ring.
 *
 * <h2>Semantics (as __bpf_ringbuf_reserve, bpf_ringbuf_commit, libbpf's consumer)</h2>
 * Reserve takes the lock, moves pending_pos past committed records, and fails (returns 0) when
 * the record ({@code round_up(size + 8, 8)} bytes) would put the producer more than size - 1
 * bytes ahead of the consumer or of the oldest busy record; otherwise it writes the header with
 * BUSY set and publishes the new producer_pos with a release store. Submit and discard clear
 * BUSY (discard also sets DISCARD) with an atomic exchange. {@link #drain} consumes records in
 * order up to the first busy one, skipping discarded ones.
 *
 * <p>The header's address is the map's handle in JIT code, and everything a producer needs is
 * in it (the mask included), so a JIT may implement reserve, submit, discard and output as
 * native code that takes the same lock ({@link SpinLock}) as this class.
 */
public final class RingBufMap implements BpfMap {
    public static final int CONSUMER_POS = 0;
    public static final int PRODUCER_POS = 64;
    public static final int PENDING_POS = 72;
    public static final int LOCK = 80;
    /** u64 size - 1, written once at creation, for native producers. */
    public static final int MASK = 88;
    public static final int HEADER_SIZE = 128;
    /** BPF_RINGBUF_HDR_SZ. */
    public static final int RECORD_HEADER = 8;
    public static final int BUSY_BIT = 1 << 31;
    public static final int DISCARD_BIT = 1 << 30;
    /** RINGBUF_MAX_RECORD_SZ: UINT_MAX / 4. */
    public static final long MAX_RECORD = 0xffff_ffffL / 4;
    private static final int PAGE = 4096;

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final MapDef def;
    private final long size;
    private final long mask;
    private final MemorySegment block;
    private final MemorySegment data;

    RingBufMap(MapDef def, Arena arena) {
        if (def.type() != MapType.RINGBUF) {
            throw new IllegalArgumentException("map " + def.name() + ": not a ringbuf: " + def.type().id());
        }
        this.def = def;
        int n = def.maxEntries();
        BpfMaps.require(def, def.keySize() == 0 && def.valueSize() == 0,
                "ringbuf key and value sizes must be 0, were " + def.keySize() + " and " + def.valueSize());
        BpfMaps.require(def, Integer.bitCount(n) == 1 && n % PAGE == 0,
                "ringbuf max_entries " + n + " must be a power of two and a multiple of " + PAGE);
        BpfMaps.requireFlags(def, BpfMaps.BPF_F_NUMA_NODE);
        this.size = n;
        this.mask = n - 1;
        this.block = arena.allocate(HEADER_SIZE + 2 * size, PAGE);
        this.data = block.asSlice(HEADER_SIZE, 2 * size);
        block.set(ValueLayout.JAVA_LONG, MASK, mask);
    }

    @Override
    public MapDef def() {
        return def;
    }

    /** {@return the data size in bytes (max_entries)} */
    public long size() {
        return size;
    }

    /** {@return the native address of the header} */
    public long address() {
        return block.address();
    }

    /** {@return the native address of data[0]} */
    public long dataAddress() {
        return data.address();
    }

    public long consumerPosition() {
        return (long) LONG.getAcquire(block, (long) CONSUMER_POS);
    }

    public long producerPosition() {
        return (long) LONG.getAcquire(block, (long) PRODUCER_POS);
    }

    /**
     * {@code bpf_ringbuf_reserve(ringbuf, size, 0)}.
     *
     * @param size payload bytes, a u64
     * @return the native address of the payload, or 0 when the ring is full or size too large
     */
    public long reserve(long size) {
        if (Long.compareUnsigned(size, MAX_RECORD) > 0) {
            return 0;
        }
        long len = BpfMaps.round8(size + RECORD_HEADER);
        if (len > this.size) {
            return 0;
        }
        long cons = (long) LONG.getAcquire(block, (long) CONSUMER_POS);
        SpinLock.lock(block, LOCK);
        try {
            long prod = (long) LONG.get(block, (long) PRODUCER_POS);
            long pend = (long) LONG.get(block, (long) PENDING_POS);
            while (pend < prod) {
                int hdr = (int) INT.getAcquire(data, pend & mask);
                if ((hdr & BUSY_BIT) != 0) {
                    break;
                }
                pend += recordLength(hdr);
            }
            LONG.set(block, (long) PENDING_POS, pend);
            long newProd = prod + len;
            if (newProd - cons > mask || newProd - pend > mask) {
                return 0;
            }
            long at = prod & mask;
            INT.set(data, at, (int) size | BUSY_BIT);
            INT.set(data, at + 4, 0);
            LONG.setRelease(block, (long) PRODUCER_POS, newProd);
            return data.address() + at + RECORD_HEADER;
        } finally {
            SpinLock.unlock(block, LOCK);
        }
    }

    /** {@return as {@link #reserve(long)}, or 0 when flags is not 0 (the helper takes no flags yet)} */
    public long reserve(long size, long flags) {
        return flags != 0 ? 0 : reserve(size);
    }

    /**
     * {@code bpf_ringbuf_submit}: commits the record whose payload is at {@code address}.
     *
     * @throws IllegalArgumentException when address is not the payload of a reserved record
     */
    public void submit(long address) {
        commit(address, false);
    }

    /** {@code bpf_ringbuf_discard}: commits the record as discarded; the consumer skips it. */
    public void discard(long address) {
        commit(address, true);
    }

    /** {@return 0, or -EAGAIN when the ring has no room}: {@code bpf_ringbuf_output(ringbuf, data, size, 0)}. */
    public int output(MemorySegment payload) {
        return output(payload, 0);
    }

    /**
     * {@code bpf_ringbuf_output}.
     *
     * @param flags BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP or 0 (wakeups do not exist here); other bits -EINVAL
     */
    public int output(MemorySegment payload, long flags) {
        if ((flags & ~(BpfMaps.BPF_RB_NO_WAKEUP | BpfMaps.BPF_RB_FORCE_WAKEUP)) != 0) {
            return -MapErrno.EINVAL;
        }
        long address = reserve(payload.byteSize());
        if (address == 0) {
            return -MapErrno.EAGAIN;
        }
        MemorySegment.copy(payload, 0, data, address - data.address(), payload.byteSize());
        submit(address);
        return 0;
    }

    /**
     * {@return the payloads of the committed, non-discarded records from the consumer position
     * on, in order}: the consumer. It stops at the first busy record and advances the consumer
     * position past every record it consumed (discarded ones included).
     */
    public synchronized List<byte[]> drain() {
        List<byte[]> out = new ArrayList<>();
        long cons = (long) LONG.getAcquire(block, (long) CONSUMER_POS);
        long prod = (long) LONG.getAcquire(block, (long) PRODUCER_POS);
        while (cons < prod) {
            long at = cons & mask;
            int hdr = (int) INT.getAcquire(data, at);
            if ((hdr & BUSY_BIT) != 0) {
                break;
            }
            if ((hdr & DISCARD_BIT) == 0) {
                out.add(data.asSlice(at + RECORD_HEADER, hdr & ~DISCARD_BIT).toArray(ValueLayout.JAVA_BYTE));
            }
            cons += recordLength(hdr);
            LONG.setRelease(block, (long) CONSUMER_POS, cons);
        }
        return out;
    }

    /** {@return whether address lies in this ring's data (to find the ring of a record)} */
    public boolean contains(long address) {
        return Long.compareUnsigned(address - data.address(), data.byteSize()) < 0;
    }

    /** {@return 0: programs cannot look up ring buffer elements} */
    @Override
    public long lookup(MemorySegment key, int cpu) {
        return 0;
    }

    /** {@return -ENOTSUPP, as ringbuf_map_update_elem} */
    @Override
    public int update(MemorySegment key, MemorySegment value, long flags, int cpu) {
        return -MapErrno.ENOTSUPP;
    }

    /** {@return -ENOTSUPP, as ringbuf_map_delete_elem} */
    @Override
    public int delete(MemorySegment key) {
        return -MapErrno.ENOTSUPP;
    }

    /** @throws UnsupportedOperationException always (Linux: ENOTSUPP); use {@link #drain()} */
    @Override
    public byte[] lookupUser(byte[] key) {
        throw new UnsupportedOperationException("map " + def.name() + ": a ringbuf has no elements to look up; drain it");
    }

    @Override
    public int updateUser(byte[] key, byte[] value, long flags) {
        return -MapErrno.ENOTSUPP;
    }

    /** {@return an empty list: a ring buffer has no keys (get_next_key: ENOTSUPP)} */
    @Override
    public List<byte[]> keys() {
        return List.of();
    }

    /** {@return the data and overflow areas, where reserved payloads lie} */
    @Override
    public List<Region> regions() {
        return BpfMaps.valueRegions(def, data);
    }

    @Override
    public int userValueSize() {
        return 0;
    }

    @Override
    public void close() {
        // The arena owns the memory.
    }

    private void commit(long address, boolean discard) {
        long at = address - RECORD_HEADER - data.address();
        if (at < 0 || at >= size || (at & 7) != 0) {
            throw new IllegalArgumentException(String.format("map %s: 0x%x is not a ringbuf record", def.name(), address));
        }
        int hdr = (int) INT.getAcquire(data, at);
        if ((hdr & BUSY_BIT) == 0) {
            throw new IllegalArgumentException(String.format(
                    "map %s: record at 0x%x is not reserved (already submitted or discarded?)", def.name(), address));
        }
        int committed = (hdr ^ BUSY_BIT) | (discard ? DISCARD_BIT : 0);
        INT.getAndSet(data, at, committed);
    }

    /** {@return the bytes a record with this header occupies: round_up(len + 8, 8)} */
    private static long recordLength(int hdr) {
        return BpfMaps.round8((long) (hdr & ~(BUSY_BIT | DISCARD_BIT)) + RECORD_HEADER);
    }

    @Override
    public String toString() {
        return def.toString();
    }
}
