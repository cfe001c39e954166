package dev.prism.runtime.maps;

import static dev.prism.runtime.maps.MapTesting.at;
import static dev.prism.runtime.maps.MapTesting.readInt;
import static dev.prism.runtime.maps.MapTesting.u32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Several threads running "the same program" against one map. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MapConcurrencyTest {
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final int THREADS = 4;

    private final Arena arena = Arena.ofShared();
    private final ExecutorService pool = Executors.newFixedThreadPool(THREADS);

    @AfterEach
    void close() {
        pool.shutdownNow();
        arena.close();
    }

    /** Runs body(thread) on THREADS threads started together; rethrows the first failure. */
    private void onThreads(ThreadBody body) throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int id = t;
            futures.add(pool.submit(() -> {
                start.await();
                try (Arena local = Arena.ofConfined()) {
                    body.run(id, local);
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : futures) {
            f.get();
        }
    }

    private interface ThreadBody {
        void run(int thread, Arena local) throws Exception;
    }

    /**
     * 4 threads x 50,000 random updates (all three flags), lookups and deletes over 256 keys on a
     * 128-entry map. A value is {u64 key, u32 thread, u32 sequence}, so the end state can be
     * checked: every key present holds a value some thread wrote for that key.
     */
    @ParameterizedTest
    @EnumSource(value = MapType.class, names = {"HASH", "LRU_HASH"})
    void churnLeavesAConsistentMap(MapType type) throws Exception {
        int max = 128;
        int keys = 256;
        int ops = 50_000;
        HashTableMap m = (HashTableMap) BpfMaps.create(MapDef.of("churn", type, 4, 16, max, 0), 1, arena);
        onThreads((thread, local) -> {
            SplittableRandom r = new SplittableRandom(thread);
            MemorySegment key = local.allocate(4, 8);
            MemorySegment value = local.allocate(16, 8);
            for (int i = 0; i < ops; i++) {
                int k = r.nextInt(keys);
                key.set(ValueLayout.JAVA_INT, 0, k);
                int op = r.nextInt(10);
                if (op < 4) {
                    value.set(ValueLayout.JAVA_LONG, 0, k);
                    value.set(ValueLayout.JAVA_INT, 8, thread);
                    value.set(ValueLayout.JAVA_INT, 12, i);
                    long flags = r.nextInt(3);
                    int rc = m.update(key, value, flags, 0);
                    assertTrue(rc == 0 || rc == -17 && flags == 1 || rc == -2 && flags == 2
                            || rc == -7 && type == MapType.HASH, "update returned " + rc);
                } else if (op < 8) {
                    long addr = m.lookup(key, 0);
                    if (addr != 0) {
                        // The entry may be deleted and reused meanwhile (as in Linux), so only
                        // check that the address is a value slot of this map.
                        assertTrue(m.regions().getFirst().contains(addr, 16));
                    }
                } else {
                    int rc = m.delete(key);
                    assertTrue(rc == 0 || rc == -2, "delete returned " + rc);
                }
            }
        });
        List<byte[]> present = m.keys();
        assertTrue(present.size() <= max);
        assertEquals(present.size(), m.count());
        Set<Integer> seen = new HashSet<>();
        for (byte[] k : present) {
            int id = MapTesting.readIntLe(k);
            assertTrue(seen.add(id), "key " + id + " listed twice");
            byte[] v = m.lookupUser(k);
            assertNotNull(v, "key " + id);
            MemorySegment s = MemorySegment.ofArray(v);
            assertEquals(id, s.get(ValueLayout.JAVA_LONG_UNALIGNED, 0), "a value written for key " + id);
            assertTrue(s.get(ValueLayout.JAVA_INT_UNALIGNED, 8) < THREADS);
            assertTrue(s.get(ValueLayout.JAVA_INT_UNALIGNED, 12) < ops);
        }
        for (int k = 0; k < keys; k++) {
            if (!seen.contains(k)) {
                assertNull(m.lookupUser(u32(k)), "key " + k + " is found but not listed");
            }
        }
        // Every entry is either linked or on the free list (header free, then free_next words).
        int free = 0;
        for (int n = readInt(m.address() + 8); n != 0; n = readInt(m.entriesAddress() + (long) (n - 1) * m.entrySize() + 12)) {
            free++;
            assertTrue(free <= max, "the free list loops");
        }
        assertEquals(max, free + m.count());
    }

    /**
     * Lookups without a lock must not miss a key that is present the whole time, even while
     * other threads delete entries and reuse them for keys of other buckets (the restart rule of
     * HashTableMap). Keys are chosen by bucket so that the chains are long and shared: 16 stable
     * keys in buckets 0 and 1, 120 churning keys in buckets 0 to 3.
     */
    @Test
    void stableKeysAreAlwaysFoundDuringChurn() throws Exception {
        int max = 128;
        HashTableMap m = (HashTableMap) BpfMaps.create(MapDef.of("stable", MapType.HASH, 4, 8, max, 0), 1, arena);
        int[] stable = keysInBuckets(0, 16, 2, max - 1);
        int[] churn = keysInBuckets(1_000_000, 120, 4, max - 1);
        for (int k : stable) {
            assertEquals(0, m.updateUser(u32(k), MapTesting.u64(k), 0));
        }
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong lookups = new AtomicLong();
        onThreads((thread, local) -> {
            SplittableRandom r = new SplittableRandom(thread);
            MemorySegment key = local.allocate(4, 8);
            MemorySegment value = local.allocate(8, 8);
            if (thread < 2) {
                for (int i = 0; i < 300_000; i++) {
                    key.set(ValueLayout.JAVA_INT, 0, churn[r.nextInt(churn.length)]);
                    if (r.nextBoolean()) {
                        m.update(key, value, 0, 0);
                    } else {
                        m.delete(key);
                    }
                }
                stop.set(true);
            } else {
                while (!stop.get()) {
                    int k = stable[r.nextInt(stable.length)];
                    key.set(ValueLayout.JAVA_INT, 0, k);
                    long addr = m.lookup(key, 0);
                    assertTrue(addr != 0, "stable key " + k + " not found");
                    assertEquals(k, at(addr, 8).get(ValueLayout.JAVA_LONG, 0));
                    lookups.incrementAndGet();
                }
            }
        });
        assertTrue(lookups.get() > 0);
    }

    /** {@return n u32 keys from {@code from} on whose bucket (hash & mask) is below {@code buckets}} */
    private static int[] keysInBuckets(int from, int n, int buckets, int mask) {
        int[] keys = new int[n];
        int found = 0;
        for (int k = from; found < n; k++) {
            if ((MapTesting.referenceHash(u32(k)) & mask) < buckets) {
                keys[found++] = k;
            }
        }
        return keys;
    }

    private void incrementConcurrently(BpfMap m, boolean ownCpu, int perThread) throws Exception {
        onThreads((thread, local) -> {
            MemorySegment key = local.allocate(4, 8);
            key.set(ValueLayout.JAVA_INT, 0, 7);
            for (int i = 0; i < perThread; i++) {
                long addr = m.lookup(key, ownCpu ? thread : 0);
                LONG.getAndAdd(at(addr, 8), 0L, 1L);
            }
        });
    }

    @Test
    void atomicIncrementsThroughHashValuesSumExactly() throws Exception {
        HashTableMap m = (HashTableMap) BpfMaps.create(MapDef.of("count", MapType.HASH, 4, 8, 16, 0), 1, arena);
        assertEquals(0, m.updateUser(u32(7), new byte[8], 0));
        incrementConcurrently(m, false, 100_000);
        assertEquals(THREADS * 100_000L, MapTesting.u64(m.lookupUser(u32(7)), 0));
    }

    @Test
    void atomicIncrementsThroughArrayValuesSumExactly() throws Exception {
        BpfMap m = BpfMaps.create(MapDef.of("count", MapType.ARRAY, 4, 8, 16, 0), 1, arena);
        incrementConcurrently(m, false, 100_000);
        assertEquals(THREADS * 100_000L, MapTesting.u64(m.lookupUser(u32(7)), 0));
    }

    @Test
    void perCpuIncrementsStayOnTheirCpu() throws Exception {
        BpfMap m = BpfMaps.create(MapDef.of("count", MapType.PERCPU_ARRAY, 4, 8, 16, 0), THREADS, arena);
        incrementConcurrently(m, true, 100_000);
        byte[] all = m.lookupUser(u32(7));
        for (int c = 0; c < THREADS; c++) {
            assertEquals(100_000L, MapTesting.u64(all, 8 * c), "cpu " + c);
        }
    }
}
