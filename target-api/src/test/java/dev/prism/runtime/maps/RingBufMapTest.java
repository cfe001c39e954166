package dev.prism.runtime.maps;

import static dev.prism.runtime.maps.MapTesting.at;
import static dev.prism.runtime.maps.MapTesting.mem;
import static dev.prism.runtime.maps.MapTesting.readInt;
import static dev.prism.runtime.maps.MapTesting.readLong;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class RingBufMapTest {
    private final Arena arena = Arena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    private RingBufMap ring(int size) {
        return (RingBufMap) BpfMaps.create(MapDef.of("events", MapType.RINGBUF, 0, 0, size, 0), 1, arena);
    }

    /** {@return n bytes: seed, seed + 1, ...} */
    private static byte[] payload(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (seed + i);
        }
        return b;
    }

    private static void write(long address, byte[] b) {
        MemorySegment.copy(b, 0, at(address, b.length), ValueLayout.JAVA_BYTE, 0, b.length);
    }

    @Test
    void reserveSubmitDiscardOutputDrainInOrder() {
        RingBufMap r = ring(4096);
        long a = r.reserve(5);
        long b = r.reserve(16);
        long c = r.reserve(3);
        assertEquals(a + 16, b, "a 5-byte record takes 8 + round8(5) = 16 bytes");
        assertEquals(b + 24, c);
        write(a, payload(5, 1));
        write(b, payload(16, 2));
        write(c, payload(3, 3));
        r.submit(a);
        r.discard(b);
        r.submit(c);
        assertEquals(0, r.output(mem(arena, payload(9, 4))));
        List<byte[]> got = r.drain();
        assertEquals(3, got.size(), "the discarded record is skipped");
        assertArrayEquals(payload(5, 1), got.get(0));
        assertArrayEquals(payload(3, 3), got.get(1));
        assertArrayEquals(payload(9, 4), got.get(2));
        assertEquals(r.producerPosition(), r.consumerPosition(), "everything consumed, discarded included");
        assertEquals(16 + 24 + 16 + 24, r.producerPosition());
        assertTrue(r.drain().isEmpty());
    }

    @Test
    void aBusyRecordBlocksTheRecordsAfterIt() {
        RingBufMap r = ring(4096);
        long a = r.reserve(8);
        long b = r.reserve(8);
        write(b, payload(8, 20));
        r.submit(b);
        assertTrue(r.drain().isEmpty(), "b is committed but a is still busy");
        assertEquals(0, r.consumerPosition());
        write(a, payload(8, 10));
        r.submit(a);
        List<byte[]> got = r.drain();
        assertEquals(2, got.size());
        assertArrayEquals(payload(8, 10), got.get(0));
        assertArrayEquals(payload(8, 20), got.get(1));
    }

    @Test
    void recordHeadersFollowTheLayout() {
        RingBufMap r = ring(4096);
        long a = r.reserve(13);
        assertEquals(r.dataAddress() + 8, a);
        assertEquals(r.address() + 128, r.dataAddress());
        assertEquals(13 | (1 << 31), readInt(a - 8), "len with BUSY");
        assertEquals(0, readInt(a - 4), "pg_off");
        assertEquals(24, readLong(r.address() + 64), "producer_pos");
        r.discard(a);
        assertEquals(13 | (1 << 30), readInt(a - 8), "len with DISCARD, BUSY cleared");
        long b = r.reserve(1);
        r.submit(b);
        assertEquals(1, readInt(b - 8));
        r.drain();
        assertEquals(24 + 16, readLong(r.address()), "consumer_pos");
    }

    @Test
    void aFullRingRefusesUntilDrained() {
        RingBufMap r = ring(4096);
        // Each 100-byte record takes round8(100 + 8) = 112 bytes; the producer may run at most
        // size - 1 = 4095 bytes ahead of the consumer: 36 records (4032 bytes), not 37 (4144).
        for (int i = 0; i < 36; i++) {
            assertEquals(0, r.output(mem(arena, payload(100, i))), "record " + i);
        }
        assertEquals(0, r.reserve(100), "full");
        assertEquals(-11, r.output(mem(arena, payload(100, 99))), "full: -EAGAIN");
        long last = r.reserve(48);
        assertNotEquals(0, last, "4032 + 56 = 4088 still fits");
        assertEquals(36, r.drain().size(), "draining stops at the busy last record");
        assertEquals(0, r.output(mem(arena, payload(100, 99))), "room again after draining");
        r.submit(last);
        assertEquals(2, r.drain().size());
    }

    @Test
    void sizeLimits() {
        RingBufMap r = ring(4096);
        assertEquals(0, r.reserve(4081), "round8(4081 + 8) = 4096 bytes can never fit");
        assertEquals(0, r.reserve(-1), "size is a u64");
        assertEquals(0, r.reserve(1L << 40));
        assertEquals(0, r.reserve(8, 1), "bpf_ringbuf_reserve takes no flags");
        assertEquals(-22, r.output(mem(arena, payload(8, 0)), 4));
        assertEquals(0, r.output(mem(arena, payload(8, 0)), BpfMaps.BPF_RB_NO_WAKEUP));
        r.drain();
        long big = r.reserve(4080);
        assertNotEquals(0, big, "round8(4080 + 8) = 4088 fits an empty ring");
        r.submit(big);
        assertEquals(4080, r.drain().getFirst().length);
    }

    @Test
    void recordsWrapAroundTheEnd() {
        RingBufMap r = ring(4096);
        List<byte[]> sent = new ArrayList<>();
        List<byte[]> received = new ArrayList<>();
        boolean straddled = false;
        for (int i = 0; i < 500; i++) {
            byte[] p = payload(1 + (i * 37) % 300, i);
            long pos = r.producerPosition();
            long addr = r.reserve(p.length);
            if (addr == 0) {
                received.addAll(r.drain());
                addr = r.reserve(p.length);
            }
            assertNotEquals(0, addr, "record " + i);
            assertEquals(r.dataAddress() + (pos & 4095) + 8, addr, "a record starts at data + (pos & mask)");
            straddled |= (pos & 4095) + 8 + p.length > 4096;
            write(addr, p);
            r.submit(addr);
            sent.add(p);
        }
        received.addAll(r.drain());
        assertTrue(straddled, "some record ran past the end of the data area");
        assertTrue(r.producerPosition() > 3 * 4096, "the ring went round several times");
        assertEquals(sent.size(), received.size());
        for (int i = 0; i < sent.size(); i++) {
            assertArrayEquals(sent.get(i), received.get(i), "record " + i);
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void concurrentProducersLoseNothing() throws Exception {
        RingBufMap r = ring(1 << 16);
        int producers = 4;
        int perProducer = 20_000;
        ExecutorService pool = Executors.newFixedThreadPool(producers);
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < producers; t++) {
            int id = t;
            futures.add(pool.submit(() -> {
                try (Arena local = Arena.ofConfined()) {
                    MemorySegment rec = local.allocate(12, 8);
                    for (int i = 0; i < perProducer; i++) {
                        rec.set(ValueLayout.JAVA_INT, 0, id);
                        rec.set(ValueLayout.JAVA_LONG_UNALIGNED, 4, i);
                        if (i % 2 == 0) {
                            while (r.output(rec) != 0) {
                                Thread.onSpinWait();
                            }
                        } else {
                            long a;
                            while ((a = r.reserve(12)) == 0) {
                                Thread.onSpinWait();
                            }
                            MemorySegment.copy(rec, 0, at(a, 12), 0, 12);
                            r.submit(a);
                        }
                    }
                }
            }));
        }
        int[] next = new int[producers];
        int total = 0;
        try {
            while (total < producers * perProducer) {
                // Producers that finished before this drain have committed all their records.
                boolean producersDone = futures.stream().allMatch(Future::isDone);
                List<byte[]> batch = r.drain();
                if (batch.isEmpty() && producersDone) {
                    break;
                }
                for (byte[] rec : batch) {
                    MemorySegment s = MemorySegment.ofArray(rec);
                    int id = s.get(ValueLayout.JAVA_INT_UNALIGNED, 0);
                    long seq = s.get(ValueLayout.JAVA_LONG_UNALIGNED, 4);
                    assertEquals(next[id], seq, "producer " + id + " records arrive in order, once");
                    next[id]++;
                    total++;
                }
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertTrue(r.drain().isEmpty());
        int[] expected = new int[producers];
        Arrays.fill(expected, perProducer);
        assertArrayEquals(expected, next);
    }

    @Test
    void submitChecksTheRecord() {
        RingBufMap r = ring(4096);
        long a = r.reserve(8);
        r.submit(a);
        assertThrows(IllegalArgumentException.class, () -> r.submit(a), "already submitted");
        assertThrows(IllegalArgumentException.class, () -> r.discard(a + 4), "not a record start");
        assertThrows(IllegalArgumentException.class, () -> r.submit(12345));
    }

    @Test
    void notAKeyValueMap() {
        RingBufMap r = ring(4096);
        assertEquals(0, r.lookup(MemorySegment.NULL, 0));
        assertEquals(-524, r.update(MemorySegment.NULL, MemorySegment.NULL, 0, 0), "-ENOTSUPP");
        assertEquals(-524, r.delete(MemorySegment.NULL));
        assertEquals(-524, r.updateUser(new byte[0], new byte[0], 0));
        assertThrows(UnsupportedOperationException.class, () -> r.lookupUser(new byte[0]));
        assertTrue(r.keys().isEmpty());
        long a = r.reserve(8);
        assertTrue(r.contains(a));
        assertTrue(r.regions().getFirst().contains(a, 8));
        assertEquals("map value events", r.regions().getFirst().name());
    }

    @Test
    void sizeMustBeAPowerOfTwoPageMultiple() {
        for (int bad : new int[] {4095, 2048, 6 * 4096, 4097}) {
            assertThrows(IllegalArgumentException.class, () -> ring(bad), "max_entries " + bad);
        }
        ring(8192);
        assertThrows(IllegalArgumentException.class,
                () -> BpfMaps.create(MapDef.of("e", MapType.RINGBUF, 4, 0, 4096, 0), 1, arena), "key size");
        assertThrows(IllegalArgumentException.class,
                () -> BpfMaps.create(MapDef.of("e", MapType.RINGBUF, 0, 8, 4096, 0), 1, arena), "value size");
    }
}
