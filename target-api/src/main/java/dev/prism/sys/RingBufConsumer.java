package dev.prism.sys;

import dev.prism.error.TargetException;
import dev.prism.program.MapType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * The user-space consumer of a kernel {@code BPF_MAP_TYPE_RINGBUF}, reading the ring through
 * two mappings of the map's fd, as libbpf's {@code ring_buffer__add} / {@code ringbuf_process_ring}
 * do.
 *
 * <h2>Layout</h2>
 * The kernel's {@code struct bpf_ringbuf} (kernel/bpf/ringbuf.c) puts {@code consumer_pos},
 * {@code producer_pos} and {@code data[]} each on a page of its own ({@code __aligned(PAGE_SIZE)}),
 * so each can be mapped with its own permissions; mmap offsets count from the consumer page
 * ({@code RINGBUF_PGOFF}). The data pages are mapped twice in a row (bpf_ringbuf_area_alloc), so
 * a record that wraps past the end reads contiguously. Two mappings, P = page size, S =
 * max_entries (a power of two, a multiple of P):
 * <pre>
 *  mmap offset   0                 P                       2P                      2P+S                    2P+2S
 *                +-----------------+-----------------------+-----------------------+-----------------------+
 *                | u64 consumer_pos| u64 producer_pos      | data[0..S)            | data[0..S) again      |
 *                | (rest unused)   | u64 pending_pos ...   |                       | (same pages)          |
 *                +-----------------+-----------------------+-----------------------+-----------------------+
 *  consumer:     |<- P, READ|WRITE>|   (ringbuf_map_mmap_kern allows a writable mapping of page 0 only)
 *  producer:                       |<------------- P + 2S, READ only, mmap(NULL, P + 2S, PROT_READ, MAP_SHARED, fd, P)
 *
 *  record at data + (pos &amp; (S - 1)), 8-byte aligned (include/uapi/linux/bpf.h, BPF_RINGBUF_*;
 *  struct bpf_ringbuf_hdr in kernel/bpf/ringbuf.c):
 *   +---------------------------------------------------+---------------+---------------------------+
 *   | u32 len | BUSY_BIT 1&lt;&lt;31 | DISCARD_BIT 1&lt;&lt;30 | u32 pg_off    | payload[len], padded to 8 |
 *   +---------------------------------------------------+---------------+---------------------------+
 *   |<---------------- BPF_RINGBUF_HDR_SZ = 8 ------------------------->|
 *   a record takes round_up(len + 8, 8) bytes
 * </pre>
 * Positions only grow; the producer publishes {@code producer_pos} with a release store after it
 * wrote a header with BUSY set, and clears BUSY (sets DISCARD for a discard) with an atomic
 * exchange on commit (bpf_ringbuf_commit). The consumer reads each header with acquire
 * semantics, stops at the first record still BUSY (records commit out of order, but are consumed
 * in order), skips DISCARD ones, and releases its progress by a release store of
 * {@code consumer_pos}, which is what frees the space for the producer.
 *
 * <p>Not thread-safe beyond its own methods being synchronized: a ring has one consumer.
 */
public final class RingBufConsumer implements AutoCloseable {
    /** BPF_RINGBUF_BUSY_BIT. */
    static final int BUSY_BIT = 1 << 31;
    /** BPF_RINGBUF_DISCARD_BIT. */
    static final int DISCARD_BIT = 1 << 30;
    /** BPF_RINGBUF_HDR_SZ. */
    static final int HDR_SZ = 8;

    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle U64 = ValueLayout.JAVA_LONG.varHandle();

    private final int fd;
    private final long size;
    private final MemorySegment consumerPage;
    private final MemorySegment producerPages;
    private final MemorySegment data;
    private boolean closed;

    private RingBufConsumer(int fd, long size, MemorySegment consumerPage, MemorySegment producerPages, int page) {
        this.fd = fd;
        this.size = size;
        this.consumerPage = consumerPage;
        this.producerPages = producerPages;
        this.data = producerPages.asSlice(page, 2 * size);
    }

    /**
     * Maps {@code map}'s consumer and producer pages. The mappings hold a reference to the map of
     * their own, so the map's fd may be closed first; {@link #close()} unmaps them.
     *
     * @throws IllegalArgumentException when {@code map} is not a ring buffer
     * @throws TargetException          when mmap fails
     */
    public static RingBufConsumer open(BpfMap map) {
        if (map.type() != MapType.RINGBUF) {
            throw new IllegalArgumentException("map fd " + map.fd() + " is a " + map.type().id() + ", not a ringbuf");
        }
        Libc libc = Libc.get();
        int page = libc.pageSize();
        long size = Integer.toUnsignedLong(map.maxEntries());
        MemorySegment consumer = libc.mmapShared(page, Libc.PROT_READ | Libc.PROT_WRITE, map.fd(), 0);
        MemorySegment producer;
        try {
            producer = libc.mmapShared(page + 2 * size, Libc.PROT_READ, map.fd(), page);
        } catch (TargetException e) {
            try (Arena arena = Arena.ofConfined()) {
                libc.munmap(arena, consumer);
            }
            throw e;
        }
        return new RingBufConsumer(map.fd(), size, consumer, producer, page);
    }

    /** {@return how far the consumer has read, in bytes since the ring was created} */
    public synchronized long consumerPosition() {
        checkOpen();
        return (long) U64.getAcquire(consumerPage, 0L);
    }

    /** {@return how far the producers have reserved, in bytes since the ring was created} */
    public synchronized long producerPosition() {
        checkOpen();
        return (long) U64.getAcquire(producerPages, 0L);
    }

    /**
     * {@return the payloads of the committed records, oldest first, up to the first record still
     * being written; discarded records are skipped} Their space goes back to the producers.
     *
     * @throws TargetException when a header does not describe a record inside what the producer
     *                         published (a corrupt ring: never from a correct kernel)
     */
    public synchronized List<byte[]> drain() {
        checkOpen();
        List<byte[]> out = new ArrayList<>();
        long cons = (long) U64.getAcquire(consumerPage, 0L);
        long prod = (long) U64.getAcquire(producerPages, 0L);
        while (Long.compareUnsigned(cons, prod) < 0) {
            long at = cons & (size - 1);
            int header = (int) U32.getAcquire(data, at);
            if ((header & BUSY_BIT) != 0) {
                break;
            }
            long len = header & ~(BUSY_BIT | DISCARD_BIT);
            long total = (len + HDR_SZ + 7) & ~7L;
            if (total > size || Long.compareUnsigned(cons + total, prod) > 0) {
                throw new TargetException("ringbuf fd " + fd + ": record at position " + cons + " claims " + len
                        + " bytes, beyond the producer position " + prod);
            }
            if ((header & DISCARD_BIT) == 0) {
                out.add(data.asSlice(at + HDR_SZ, len).toArray(ValueLayout.JAVA_BYTE));
            }
            cons += total;
            U64.setRelease(consumerPage, 0L, cons);
        }
        return out;
    }

    /** Unmaps both mappings; later calls do nothing. @throws TargetException when munmap fails */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Libc libc = Libc.get();
        try (Arena arena = Arena.ofConfined()) {
            Libc.Result a = libc.munmap(arena, producerPages);
            Libc.Result b = libc.munmap(arena, consumerPage);
            Libc.Result failed = a.failed() ? a : b.failed() ? b : null;
            if (failed != null) {
                throw new TargetException("munmap of ringbuf fd " + fd + " failed: " + Errno.describe(failed.errno(), null));
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("ringbuf consumer of fd " + fd + " is closed");
        }
    }
}
