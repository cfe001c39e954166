package dev.prism.sys;

import dev.prism.error.TargetException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * One CPU's {@code PERF_COUNT_SW_BPF_OUTPUT} perf event and its mmap'd ring: what a slot of a
 * kernel {@code BPF_MAP_TYPE_PERF_EVENT_ARRAY} must hold for {@code bpf_perf_event_output} to
 * succeed (libbpf's perf_buffer opens one per CPU the same way).
 *
 * <h2>Layout</h2>
 * {@code mmap(NULL, (1 + 2^n) pages, READ|WRITE, MAP_SHARED, fd, 0)}: the first page is
 * {@code struct perf_event_mmap_page} (include/uapi/linux/perf_event.h), the rest the data ring.
 * <pre>
 *  page 0: ... | u64 data_head @1024 | u64 data_tail @1032 | u64 data_offset @1040 | u64 data_size @1048 | ...
 *  ring:   records at data_offset + (pos mod data_size), each
 *          +-------------------------------------+--------------------------------------------+
 *          | struct perf_event_header            | PERF_RECORD_SAMPLE (9) with PERF_SAMPLE_RAW: |
 *          | u32 type | u16 misc | u16 size      | u32 raw_size | raw[raw_size]                |
 *          +-------------------------------------+--------------------------------------------+
 *          raw_size = round_up(len + 4, 8) - 4: the output bytes, then zeros to 8-byte alignment
 * </pre>
 * The kernel publishes data_head after writing records; the reader reads data_head with
 * acquire semantics, consumes up to it and releases its progress with a release store of
 * data_tail. PERF_RECORD_LOST (2) records are counted in {@link #lost()}.
 */
public final class PerfEventReader implements AutoCloseable {
    static final int PERF_TYPE_SOFTWARE = 1;
    static final int PERF_COUNT_SW_BPF_OUTPUT = 10;
    static final long PERF_SAMPLE_RAW = 1 << 10;
    static final long PERF_FLAG_FD_CLOEXEC = 8;
    static final int PERF_RECORD_LOST = 2;
    static final int PERF_RECORD_SAMPLE = 9;
    /** PERF_ATTR_SIZE_VER5. */
    static final int ATTR_SIZE = 112;
    private static final long DATA_HEAD = 1024;
    private static final long DATA_TAIL = 1032;
    private static final VarHandle U64 = ValueLayout.JAVA_LONG.varHandle();

    private final int fd;
    private final int cpu;
    private final MemorySegment mapping;
    private final long dataOffset;
    private final long dataSize;
    private long lost;
    private boolean closed;

    private PerfEventReader(int fd, int cpu, MemorySegment mapping) {
        this.fd = fd;
        this.cpu = cpu;
        this.mapping = mapping;
        this.dataOffset = mapping.get(ValueLayout.JAVA_LONG, 1040);
        this.dataSize = mapping.get(ValueLayout.JAVA_LONG, 1048);
    }

    /**
     * {@return a BPF output event on {@code cpu} with a ring of {@code pages} pages (a power of two)}
     *
     * @throws TargetException when the kernel refuses (not root, perf_event_paranoid) or mmap fails
     */
    public static PerfEventReader open(int cpu, int pages) {
        if (Integer.bitCount(pages) != 1) {
            throw new IllegalArgumentException("ring pages must be a power of two, not " + pages);
        }
        Libc libc = Libc.get();
        int fd;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(ValueLayout.JAVA_INT, 0, PERF_TYPE_SOFTWARE);          // type
            attr.set(ValueLayout.JAVA_INT, 4, ATTR_SIZE);                   // size
            attr.set(ValueLayout.JAVA_LONG, 8, PERF_COUNT_SW_BPF_OUTPUT);   // config
            attr.set(ValueLayout.JAVA_LONG, 16, 1);                         // sample_period
            attr.set(ValueLayout.JAVA_LONG, 24, PERF_SAMPLE_RAW);           // sample_type
            attr.set(ValueLayout.JAVA_INT, 48, 1);                          // wakeup_events
            Libc.Result r = libc.perfEventOpen(arena, attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
            if (r.failed()) {
                throw new TargetException("perf_event_open(PERF_COUNT_SW_BPF_OUTPUT, cpu " + cpu + ") failed: "
                        + Errno.describe(r.errno(), null));
            }
            fd = (int) r.value();
        }
        try {
            MemorySegment m = libc.mmapShared((long) (pages + 1) * libc.pageSize(), Libc.PROT_READ | Libc.PROT_WRITE, fd, 0);
            return new PerfEventReader(fd, cpu, m);
        } catch (RuntimeException e) {
            try (Arena arena = Arena.ofConfined()) {
                libc.close(arena, fd);
            }
            throw e;
        }
    }

    /** {@return the perf event's fd, what user space writes into a perf event array slot} */
    public int fd() {
        return fd;
    }

    public int cpu() {
        return cpu;
    }

    /** {@return how many records the kernel reported lost (a full ring)} */
    public synchronized long lost() {
        return lost;
    }

    /** {@return the raw payload of every sample record written since the last drain, oldest first} */
    public synchronized List<byte[]> drain() {
        if (closed) {
            throw new IllegalStateException("perf event reader of cpu " + cpu + " is closed");
        }
        long head = (long) U64.getAcquire(mapping, DATA_HEAD);
        long tail = mapping.get(ValueLayout.JAVA_LONG, DATA_TAIL);
        List<byte[]> out = new ArrayList<>();
        while (tail < head) {
            byte[] header = copy(tail, 8);
            int type = u32(header, 0);
            int size = (header[6] & 0xff) | (header[7] & 0xff) << 8;
            if (size < 8 || head - tail < size) {
                throw new TargetException("perf ring of cpu " + cpu + ": bad record size " + size + " at " + tail);
            }
            byte[] body = copy(tail + 8, size - 8);
            if (type == PERF_RECORD_SAMPLE && body.length >= 4) {
                int raw = u32(body, 0);
                if (raw < 0 || raw > body.length - 4) {
                    throw new TargetException("perf ring of cpu " + cpu + ": raw size " + raw + " exceeds its record");
                }
                out.add(java.util.Arrays.copyOfRange(body, 4, 4 + raw));
            } else if (type == PERF_RECORD_LOST && body.length >= 16) {
                lost += u32(body, 8) & 0xffff_ffffL;
            }
            tail += size;
        }
        U64.setRelease(mapping, DATA_TAIL, tail);
        return out;
    }

    /** {@return {@code n} ring bytes from position {@code pos}, across the wrap} */
    private byte[] copy(long pos, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; ) {
            long at = (pos + i) % dataSize;
            int chunk = (int) Math.min(n - i, dataSize - at);
            MemorySegment.copy(mapping, ValueLayout.JAVA_BYTE, dataOffset + at, b, i, chunk);
            i += chunk;
        }
        return b;
    }

    private static int u32(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
    }

    /** Unmaps the ring and closes the event; later calls do nothing. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Libc libc = Libc.get();
        try (Arena arena = Arena.ofConfined()) {
            libc.munmap(arena, mapping);
            libc.close(arena, fd);
        }
    }
}
