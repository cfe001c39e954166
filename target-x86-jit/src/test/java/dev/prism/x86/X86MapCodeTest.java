package dev.prism.x86;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.runtime.maps.BpfMaps;
import dev.prism.runtime.maps.HashTableMap;
import dev.prism.runtime.maps.MapErrno;
import dev.prism.sys.ExecutableMemory;
import dev.prism.testing.Host;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@link X86MapCode#emitLookup}: the generated lookup against {@link HashTableMap#lookup} (same
 * address for present, deleted and never-inserted keys), run through a harness that checks the
 * callee-saved registers, rsp and the red zone, with keys placed against PROT_NONE guard pages.
 */
class X86MapCodeTest {
    private static final int[] KEY_SIZES = {1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17, 24, 33, 64};
    private static final HexFormat HEX = HexFormat.of();
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final VarHandle LOCK_WORD = INT.varHandle();
    /** Never a value address (those are 8-aligned): the harness's "registers clobbered". */
    private static final long CLOBBERED = 1;

    @BeforeAll
    static void host() {
        var a = new X86Target().availability();
        Host.require("x86-64", a.available(), a.reason());
    }

    // ---------------------------------------------------------------- lookups against Java

    /** A hash map type and its CPU count: the shapes the generated lookups and updates are tested on. */
    record Flavour(MapType type, int cpus) {
        boolean perCpu() {
            return type == MapType.PERCPU_HASH;
        }

        @Override
        public String toString() {
            return type.id() + (perCpu() ? " cpus " + cpus : "");
        }
    }

    static final Flavour[] FLAVOURS = {
        new Flavour(MapType.HASH, 1), new Flavour(MapType.LRU_HASH, 1),
        new Flavour(MapType.PERCPU_HASH, 1), new Flavour(MapType.PERCPU_HASH, 4),
    };

    @TestFactory
    Stream<DynamicTest> lookupsMatchJava() {
        List<DynamicTest> tests = new ArrayList<>();
        int i = 0;
        for (Flavour f : FLAVOURS) {
            for (int ks : KEY_SIZES) {
                int vs = 1 + (i * 23 + ks) % 64;
                int maxEntries = 60 + (i * 37) % 200;
                long seed = i;
                i++;
                tests.add(DynamicTest.dynamicTest(f + " key " + ks + " value " + vs + " max " + maxEntries,
                        () -> compareWithJava(f, ks, vs, maxEntries, seed)));
            }
        }
        return tests.stream();
    }

    private static void compareWithJava(Flavour f, int ks, int vs, int maxEntries, long seed) {
        Random rnd = new Random(seed);
        try (Arena arena = Arena.ofConfined(); Fixture fx = new Fixture(f.type, ks, vs, maxEntries, f.cpus, arena);
                GuardedKey key = new GuardedKey(ks)) {
            Model model = new Model(fx.map, rnd);
            int distinct = ks == 1 ? 256 : Integer.MAX_VALUE;
            int fill = Math.min(maxEntries * 3 / 4, distinct / 2);
            model.insertRandom(fill);
            model.deleteSome(fill / 3);
            model.insertRandom(fill / 4);
            // Value updates of existing keys keep their entries.
            for (byte[] k : model.present.values().stream().limit(5).toList()) {
                model.put(k);
            }
            List<byte[]> absent = model.neverInserted(40, distinct);
            int calls = 0;
            for (int round = 0; round < 3; round++) {
                for (byte[] k : model.present.values()) {
                    calls += fx.checkAll(key, k, model.present.get(HEX.formatHex(k)) != null, model);
                }
                for (byte[] k : model.deleted.values()) {
                    calls += fx.checkAll(key, k, false, model);
                }
                for (byte[] k : absent) {
                    calls += fx.checkAll(key, k, false, model);
                }
            }
            assertTrue(calls > 200, "only " + calls + " lookups");
        }
    }

    @Test
    void layoutMatchesTheMap() {
        try (Arena arena = Arena.ofConfined()) {
            for (Flavour f : FLAVOURS) {
                for (int ks : KEY_SIZES) {
                    for (int max : new int[] {1, 2, 3, 64, 100, 1000}) {
                        int vs = 1 + (ks * 7 + max) % 64;
                        MapDef def = MapDef.of("m", f.type, ks, vs, max, 0);
                        HashTableMap map = (HashTableMap) BpfMaps.create(def, f.cpus, arena);
                        dev.prism.runtime.maps.HashLayout l = dev.prism.runtime.maps.HashLayout.of(def, f.cpus);
                        assertEquals(l, dev.prism.runtime.maps.HashLayout.of(map));
                        assertEquals(map.bucketMask(), l.mask(), def.toString());
                        assertEquals(map.entrySize(), l.entrySize(), def.toString());
                        assertEquals(map.valueOffset(), l.valueOffset(), def.toString());
                        assertEquals(map.stride(), l.stride(), def.toString());
                        assertEquals(map.entriesAddress() - map.address(), l.entriesOffset(), def.toString());
                        MemorySegment header = MemorySegment.ofAddress(map.address()).reinterpret(64);
                        assertEquals(l.cpus(), header.get(INT, HashTableMap.HDR_CPUS), def.toString());
                        assertEquals(l.entrySize(), header.get(INT, HashTableMap.HDR_ENTRY_SIZE), def.toString());
                    }
                }
            }
        }
    }

    @Test
    void perCpuOutsideTheCpusIsNull() {
        try (Arena arena = Arena.ofConfined(); Fixture fx = new Fixture(MapType.PERCPU_HASH, 8, 8, 16, 4, arena);
                GuardedKey key = new GuardedKey(8)) {
            Model model = new Model(fx.map, new Random(1));
            model.insertRandom(10);
            for (byte[] k : model.present.values()) {
                key.set(k, false);
                for (int c = 0; c < 4; c++) {
                    assertEquals(fx.map.lookup(key.segment, c), fx.call(key.segment.address(), c));
                }
                for (long c : new long[] {4, 5, 1L << 32, -1, Long.MIN_VALUE}) {
                    assertEquals(0, fx.call(key.segment.address(), c), "cpu " + c);
                }
            }
        }
    }

    @Test
    void fullMaps() {
        for (Flavour f : FLAVOURS) {
            for (int ks : new int[] {4, 13, 40}) {
                try (Arena arena = Arena.ofConfined(); Fixture fx = new Fixture(f.type, ks, 12, 64, f.cpus, arena);
                        GuardedKey key = new GuardedKey(ks)) {
                    Model model = new Model(fx.map, new Random(ks));
                    if (f.type == MapType.LRU_HASH) {
                        // Keep inserting past capacity: evictions, all entries reused.
                        model.insertRandom(200);
                    } else {
                        model.insertRandom(64);
                        assertEquals(-MapErrno.E2BIG, fx.map.updateUser(model.randomKey(), model.randomValue(), 0));
                    }
                    assertEquals(64, fx.map.count());
                    int calls = 0;
                    for (byte[] k : model.all.values()) {
                        calls += fx.checkAll(key, k, null, model);
                    }
                    for (byte[] k : model.neverInserted(50, Integer.MAX_VALUE)) {
                        calls += fx.checkAll(key, k, false, model);
                    }
                    assertTrue(calls >= 100, "only " + calls + " lookups");
                }
            }
        }
    }

    // ---------------------------------------------------------------- collisions

    @Test
    void longChainsInOneBucket() {
        for (Flavour f : FLAVOURS) {
            for (int ks : new int[] {1, 3, 8, 12, 20, 64}) {
                for (int max : new int[] {1, 2, 64}) {
                    try (Arena arena = Arena.ofConfined(); Fixture fx = new Fixture(f.type, ks, 5, max, f.cpus, arena);
                            GuardedKey key = new GuardedKey(ks)) {
                        Model model = new Model(fx.map, new Random(ks * 100 + max));
                        int bucket = max == 1 ? 0 : 1;
                        int mask = fx.layout.mask();
                        List<byte[]> inBucket = model.keysInBucket(bucket, mask, max + 30);
                        // One-byte keys: about 256 / buckets of them per bucket; keep some absent.
                        int wanted = Math.min(max, ks == 1 ? (inBucket.size() + 1) / 2 : max);
                        for (byte[] k : inBucket.subList(0, wanted)) {
                            model.put(k);
                        }
                        int calls = 0;
                        for (byte[] k : inBucket) {
                            calls += fx.checkAll(key, k, null, model);
                        }
                        // Delete every other one, then look everything up again.
                        for (int j = 0; j < wanted; j += 2) {
                            model.delete(inBucket.get(j));
                        }
                        for (byte[] k : inBucket) {
                            calls += fx.checkAll(key, k, null, model);
                        }
                        assertTrue(calls > 0);
                    }
                }
            }
        }
    }

    /** Two keys with the same 32-bit hash: only the key compare tells them apart. */
    @Test
    void fullHashCollisions() {
        for (int ks : new int[] {4, 5, 8, 12, 24}) {
            byte[][] pair = hashCollision(ks, new Random(ks));
            assertEquals(HashTableMap.hash(MemorySegment.ofArray(pair[0]), ks),
                    HashTableMap.hash(MemorySegment.ofArray(pair[1]), ks));
            for (Flavour f : FLAVOURS) {
                try (Arena arena = Arena.ofConfined(); Fixture fx = new Fixture(f.type, ks, 16, 8, f.cpus, arena);
                        GuardedKey key = new GuardedKey(ks)) {
                    Model model = new Model(fx.map, new Random(7));
                    model.put(pair[0]);
                    fx.checkAll(key, pair[0], true, model);
                    fx.checkAll(key, pair[1], false, model);
                    model.put(pair[1]);
                    model.insertRandom(4);
                    fx.checkAll(key, pair[0], true, model);
                    fx.checkAll(key, pair[1], true, model);
                    assertNotEquals(fx.lookup(key, pair[0], 0), fx.lookup(key, pair[1], 0));
                    model.delete(pair[1]);
                    fx.checkAll(key, pair[0], true, model);
                    fx.checkAll(key, pair[1], false, model);
                }
            }
        }
    }

    static byte[][] hashCollision(int ks, Random rnd) {
        Map<Integer, byte[]> seen = new java.util.HashMap<>();
        for (int tries = 0; tries < 4_000_000; tries++) {
            byte[] k = new byte[ks];
            rnd.nextBytes(k);
            byte[] other = seen.putIfAbsent(HashTableMap.hash(MemorySegment.ofArray(k), ks), k);
            if (other != null && !Arrays.equals(other, k)) {
                return new byte[][] {other, k};
            }
        }
        throw new AssertionError("no hash collision among 4M random " + ks + "-byte keys");
    }

    // ---------------------------------------------------------------- LRU ref words

    @Test
    void lruRefWordsMatchJava() {
        for (int ks : new int[] {2, 8, 11, 32}) {
            try (Arena arena = Arena.ofConfined();
                    Fixture nat = new Fixture(MapType.LRU_HASH, ks, 8, 50, 1, arena);
                    GuardedKey key = new GuardedKey(ks)) {
                HashTableMap java = (HashTableMap) BpfMaps.create(nat.def, 1, arena);
                Random rnd = new Random(ks);
                Model mn = new Model(nat.map, new Random(ks));
                Model mj = new Model(java, new Random(ks));
                for (int round = 0; round < 6; round++) {
                    mn.insertRandom(20);
                    mj.insertRandom(20);
                    assertRefWords(nat, java, "after inserts, round " + round);
                    List<byte[]> keys = new ArrayList<>(mn.all.values());
                    for (int j = 0; j < 40; j++) {
                        byte[] k = keys.get(rnd.nextInt(keys.size()));
                        key.set(k, j % 2 == 0);
                        long n = nat.call(key.segment.address(), 0);
                        long w = java.lookup(key.segment, 0);
                        assertEquals(w == 0, n == 0, "present in one map only");
                        if (n != 0) {
                            assertEquals(1, nat.entry(n - nat.layout.valueOffset()).get(INT, HashTableMap.ENT_REF));
                        }
                    }
                    assertRefWords(nat, java, "after lookups, round " + round);
                    assertEquals(hexes(java.keys()), hexes(nat.map.keys()), "keys, round " + round);
                }
            }
        }
    }

    private static void assertRefWords(Fixture nat, HashTableMap java, String when) {
        dev.prism.runtime.maps.HashLayout l = nat.layout;
        MemorySegment a = MemorySegment.ofAddress(nat.map.entriesAddress()).reinterpret((long) l.maxEntries() * l.entrySize());
        MemorySegment b = MemorySegment.ofAddress(java.entriesAddress()).reinterpret((long) l.maxEntries() * l.entrySize());
        for (int n = 0; n < l.maxEntries(); n++) {
            long e = (long) n * l.entrySize();
            assertEquals(b.get(INT, e + HashTableMap.ENT_REF), a.get(INT, e + HashTableMap.ENT_REF),
                    "ref of entry " + (n + 1) + " " + when);
            assertEquals(b.get(INT, e + HashTableMap.ENT_HASH), a.get(INT, e + HashTableMap.ENT_HASH),
                    "hash of entry " + (n + 1) + " " + when);
        }
    }

    private static List<String> hexes(List<byte[]> keys) {
        return keys.stream().map(HEX::formatHex).toList();
    }

    // ---------------------------------------------------------------- restarts and the lock

    /**
     * An entry whose hash names another bucket makes every walk restart: eight lock-free
     * walks, then one under the lock, which returns 0 as Java does and releases the lock.
     */
    @Test
    void foreignHashRestartsThenLocksThenMisses() {
        for (int ks : new int[] {4, 16, 24}) {
            try (Arena arena = Arena.ofConfined(); Fixture fx = new Fixture(MapType.HASH, ks, 8, 8, 1, arena);
                    GuardedKey key = new GuardedKey(ks)) {
                Model model = new Model(fx.map, new Random(ks));
                model.insertRandom(6);
                byte[] victim = model.present.values().iterator().next();
                MemorySegment e = fx.entryOf(key, victim);
                int h = e.get(INT, HashTableMap.ENT_HASH);
                e.set(INT, HashTableMap.ENT_HASH, h ^ 1);
                key.set(victim, false);
                assertEquals(0, fx.map.lookup(key.segment, 0));
                assertEquals(0, fx.call(key.segment.address(), 0));
                assertEquals(0, fx.lockWord().get(INT, 0), "lock released");
                // Other buckets still work.
                for (byte[] k : model.present.values()) {
                    if ((HashTableMap.hash(MemorySegment.ofArray(k), ks) & 7) != (h & 7)) {
                        fx.checkAll(key, k, true, model);
                    }
                }
                e.set(INT, HashTableMap.ENT_HASH, h);
                fx.checkAll(key, victim, true, model);
            }
        }
    }

    /** A cycle in a chain: each walk gives up after max_entries + 1 entries. */
    @Test
    void cycleIsBoundedLikeJava() {
        for (int max : new int[] {1, 8, 100}) {
            try (Arena arena = Arena.ofConfined(); Fixture fx = new Fixture(MapType.LRU_HASH, 8, 8, max, 1, arena);
                    GuardedKey key = new GuardedKey(8)) {
                Model model = new Model(fx.map, new Random(max));
                model.insertRandom(1);
                byte[] k = model.present.values().iterator().next();
                MemorySegment e = fx.entryOf(key, k);
                int self = (int) ((e.address() - fx.map.entriesAddress()) / fx.layout.entrySize()) + 1;
                int h = e.get(INT, HashTableMap.ENT_HASH);
                e.set(INT, HashTableMap.ENT_NEXT, self);
                // A key in the same bucket but absent walks the cycle forever but for the bound.
                byte[] absent = model.keysInBucket(h & fx.layout.mask(), fx.layout.mask(), 1).get(0);
                key.set(absent, true);
                assertEquals(0, fx.map.lookup(key.segment, 0));
                assertEquals(0, fx.call(key.segment.address(), 0));
                assertEquals(0, fx.lockWord().get(INT, 0), "lock released");
                // The key itself is found on the first step.
                fx.checkAll(key, k, true, model);
            }
        }
    }

    /**
     * With the lock held elsewhere, lock-free lookups still succeed; a lookup that needs the
     * lock spins (then yields) until it is released, takes it, and releases it.
     */
    @Test
    void lockedWalkWaitsForTheLock() throws Exception {
        try (Arena arena = Arena.ofShared(); Fixture fx = new Fixture(MapType.HASH, 12, 8, 16, 1, arena);
                GuardedKey key = new GuardedKey(12); GuardedKey key2 = new GuardedKey(12)) {
            Model model = new Model(fx.map, new Random(3));
            model.insertRandom(10);
            List<byte[]> keys = new ArrayList<>(model.present.values());
            byte[] victim = keys.get(0);
            MemorySegment e = fx.entryOf(key, victim);
            int h = e.get(INT, HashTableMap.ENT_HASH);
            e.set(INT, HashTableMap.ENT_HASH, h ^ 1);
            MemorySegment lock = fx.lockWord();
            lock.set(INT, 0, 1);
            for (byte[] k : keys.subList(1, keys.size())) {
                if ((HashTableMap.hash(MemorySegment.ofArray(k), 12) & 15) != (h & 15)) {
                    key.set(k, false);
                    assertEquals(model.expectedAddress(k, 0), fx.call(key.segment.address(), 0));
                }
            }
            key2.set(victim, false);
            AtomicLong result = new AtomicLong(-1);
            Thread t = Thread.ofPlatform().start(() -> result.set(fx.call(key2.segment.address(), 0)));
            t.join(300);
            assertTrue(t.isAlive(), "the lookup did not wait for the lock");
            assertEquals(1, lock.get(INT, 0));
            LOCK_WORD.setVolatile(lock, 0L, 0);
            t.join(10_000);
            assertTrue(!t.isAlive(), "the lookup did not finish after the lock was released");
            assertEquals(0, result.get());
            assertEquals(0, (int) LOCK_WORD.getVolatile(lock, 0L), "lock released");
        }
    }

    /**
     * Readers in generated code while a Java writer deletes and re-inserts keys in the same
     * few buckets: keys that stay are always found at their entry; churned keys are found at
     * an entry or not at all.
     */
    @Test
    void concurrentChurn() throws Exception {
        for (Flavour f : new Flavour[] {new Flavour(MapType.HASH, 1), new Flavour(MapType.PERCPU_HASH, 4)}) {
            int ks = 12;
            try (Arena arena = Arena.ofShared(); Fixture fx = new Fixture(f.type, ks, 8, 32, f.cpus, arena);
                    GuardedKey key = new GuardedKey(ks)) {
                Model model = new Model(fx.map, new Random(11));
                List<byte[]> keys = model.keysInBucket(3, fx.layout.mask(), 24);
                List<byte[]> stable = keys.subList(0, 8);
                List<byte[]> churn = keys.subList(8, 24);
                for (byte[] k : stable) {
                    model.put(k);
                }
                long[] where = new long[stable.size()];
                for (int j = 0; j < where.length; j++) {
                    where[j] = model.expectedAddress(stable.get(j), 0);
                }
                AtomicBoolean stop = new AtomicBoolean();
                AtomicReference<Throwable> failure = new AtomicReference<>();
                Thread writer = Thread.ofPlatform().start(() -> {
                    Random r = new Random(5);
                    byte[] value = new byte[fx.map.userValueSize()];
                    try {
                        while (!stop.get()) {
                            byte[] k = churn.get(r.nextInt(churn.size()));
                            if (r.nextBoolean()) {
                                fx.map.updateUser(k, value, 0);
                            } else {
                                fx.map.deleteUser(k);
                            }
                        }
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                });
                long lo = fx.map.entriesAddress();
                long hi = lo + (long) fx.layout.maxEntries() * fx.layout.entrySize();
                long deadline = System.nanoTime() + 300_000_000L;
                long calls = 0;
                Random r = new Random(9);
                try {
                    while (System.nanoTime() < deadline) {
                        int j = r.nextInt(stable.size());
                        int cpu = r.nextInt(f.cpus);
                        key.set(stable.get(j), false);
                        assertEquals(where[j] + (long) cpu * fx.layout.stride(), fx.call(key.segment.address(), cpu));
                        byte[] c = churn.get(r.nextInt(churn.size()));
                        key.set(c, true);
                        long got = fx.call(key.segment.address(), cpu);
                        if (got != 0) {
                            long off = got - lo - (long) cpu * fx.layout.stride() - fx.layout.valueOffset();
                            assertTrue(got >= lo && got < hi && off % fx.layout.entrySize() == 0,
                                    "churned key at 0x" + Long.toHexString(got));
                        }
                        calls += 2;
                    }
                } finally {
                    stop.set(true);
                    writer.join();
                }
                if (failure.get() != null) {
                    throw new AssertionError("writer failed", failure.get());
                }
                assertTrue(calls > 1000, "only " + calls + " lookups");
                assertEquals(0, fx.lockWord().get(INT, 0));
            }
        }
    }

    // ---------------------------------------------------------------- fixtures

    /** A map, its layout and its generated lookup behind the checking harness. */
    private static final class Fixture implements AutoCloseable {
        final MapDef def;
        final HashTableMap map;
        final dev.prism.runtime.maps.HashLayout layout;
        final ExecutableMemory code;

        Fixture(MapType type, int ks, int vs, int maxEntries, int cpus, Arena arena) {
            this.def = MapDef.of("m", type, ks, vs, maxEntries, 0);
            this.map = (HashTableMap) BpfMaps.create(def, cpus, arena);
            this.layout = dev.prism.runtime.maps.HashLayout.of(map);
            this.code = ExecutableMemory.of(harnessed(layout));
        }

        long call(long keyAddress, long cpu) {
            long r = code.invoke(map.address(), keyAddress, cpu);
            assertNotEquals(CLOBBERED, r, "callee-saved register, rsp or red zone clobbered");
            return r;
        }

        /** Native and Java lookups of {@code k} on every CPU (and the cpu argument ignored). */
        int checkAll(GuardedKey key, byte[] k, Boolean present, Model model) {
            int calls = 0;
            int cpus = layout.cpus();
            for (int c = 0; c < cpus + (layout.perCpu() ? 0 : 1); c++) {
                key.set(k, (c & 1) == 0);
                long javaCpu = layout.perCpu() ? c : 0;
                long nativeCpu = layout.perCpu() ? c : (c == 0 ? 0 : 0x7777_0000_0000L);
                long want = map.lookup(key.segment, (int) javaCpu);
                long got = call(key.segment.address(), nativeCpu);
                assertEquals(want, got, () -> String.format("%s key %s cpu %d: native 0x%x, java 0x%x", def,
                        HEX.formatHex(k), javaCpu, got, want));
                if (present != null) {
                    assertEquals(present, got != 0, () -> "key " + HEX.formatHex(k) + " presence");
                }
                if (got != 0) {
                    byte[] value = model.values.get(HEX.formatHex(k));
                    if (value != null) {
                        int stride = layout.stride();
                        byte[] mine = Arrays.copyOfRange(value, (int) javaCpu * stride,
                                (int) javaCpu * stride + def.valueSize());
                        assertArrayEquals(mine, MemorySegment.ofAddress(got).reinterpret(def.valueSize())
                                .toArray(ValueLayout.JAVA_BYTE), "value");
                    }
                }
                calls++;
            }
            return calls;
        }

        long lookup(GuardedKey key, byte[] k, int cpu) {
            key.set(k, false);
            return call(key.segment.address(), cpu);
        }

        MemorySegment entry(long address) {
            return MemorySegment.ofAddress(address).reinterpret(layout.entrySize());
        }

        MemorySegment entryOf(GuardedKey key, byte[] k) {
            key.set(k, false);
            long v = map.lookup(key.segment, 0);
            assertNotEquals(0, v);
            return entry(v - layout.valueOffset());
        }

        MemorySegment lockWord() {
            return MemorySegment.ofAddress(map.address()).reinterpret(4);
        }

        @Override
        public void close() {
            code.close();
        }
    }

    /** What the test put in a map, updated through the map's user-space side. */
    private static final class Model {
        final HashTableMap map;
        final Random rnd;
        final int ks;
        final Map<String, byte[]> present = new LinkedHashMap<>();
        final Map<String, byte[]> deleted = new LinkedHashMap<>();
        /** Every key ever inserted. */
        final Map<String, byte[]> all = new LinkedHashMap<>();
        final Map<String, byte[]> values = new LinkedHashMap<>();

        Model(HashTableMap map, Random rnd) {
            this.map = map;
            this.rnd = rnd;
            this.ks = map.def().keySize();
        }

        byte[] randomKey() {
            byte[] k = new byte[ks];
            rnd.nextBytes(k);
            return k;
        }

        byte[] randomValue() {
            byte[] v = new byte[map.userValueSize()];
            rnd.nextBytes(v);
            return v;
        }

        void insertRandom(int n) {
            for (int i = 0; i < n; i++) {
                byte[] k;
                do {
                    k = randomKey();
                } while (all.containsKey(HEX.formatHex(k)));
                put(k);
            }
        }

        void put(byte[] k) {
            byte[] v = randomValue();
            int r = map.updateUser(k, v, BpfMaps.BPF_ANY);
            assertEquals(0, r, "update");
            String h = HEX.formatHex(k);
            present.put(h, k);
            deleted.remove(h);
            all.put(h, k);
            values.put(h, v);
            if (map.def().type() == MapType.LRU_HASH) {
                // Evictions: forget what the map dropped.
                present.keySet().removeIf(s -> map.lookupUser(HEX.parseHex(s)) == null);
            }
        }

        void delete(byte[] k) {
            String h = HEX.formatHex(k);
            assertEquals(0, map.deleteUser(k));
            present.remove(h);
            deleted.put(h, k);
            values.remove(h);
        }

        void deleteSome(int n) {
            List<byte[]> keys = new ArrayList<>(present.values());
            for (int i = 0; i < n && i < keys.size(); i++) {
                delete(keys.get(i));
            }
        }

        List<byte[]> neverInserted(int n, int distinct) {
            List<byte[]> out = new ArrayList<>();
            for (int tries = 0; out.size() < n && tries < 10 * n && all.size() + out.size() < distinct; tries++) {
                byte[] k = randomKey();
                if (!all.containsKey(HEX.formatHex(k)) && out.stream().noneMatch(o -> Arrays.equals(o, k))) {
                    out.add(k);
                }
            }
            return out;
        }

        List<byte[]> keysInBucket(int bucket, int mask, int n) {
            List<byte[]> out = new ArrayList<>();
            for (int tries = 0; out.size() < n && tries < 1_000_000; tries++) {
                byte[] k = randomKey();
                if ((HashTableMap.hash(MemorySegment.ofArray(k), ks) & mask) == bucket && !all.containsKey(HEX.formatHex(k))
                        && out.stream().noneMatch(o -> Arrays.equals(o, k))) {
                    out.add(k);
                }
            }
            return out;
        }

        long expectedAddress(byte[] k, int cpu) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment s = a.allocate(ks);
                MemorySegment.copy(k, 0, s, ValueLayout.JAVA_BYTE, 0, ks);
                return map.lookup(s, cpu);
            }
        }
    }

    /**
     * Pages mapped PROT_NONE / read-write (as many as {@code size} needs) / PROT_NONE: a key
     * (or any other bytes: X86MapUpdateTest also puts values and whole maps here) is placed
     * either against the end of the read-write pages or at their start, so an access past
     * either end faults.
     */
    static final class GuardedKey implements AutoCloseable {
        private static final Linker LINKER = Linker.nativeLinker();
        private static final MethodHandle MMAP = fn("mmap", FunctionDescriptor.of(ValueLayout.ADDRESS,
                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
        private static final MethodHandle MPROTECT = fn("mprotect", FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        private static final MethodHandle MUNMAP = fn("munmap", FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        private static final MethodHandle PAGESIZE = fn("getpagesize", FunctionDescriptor.of(ValueLayout.JAVA_INT));
        private static final int PROT_NONE = 0;
        private static final int PROT_RW = 3;
        private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;

        private final long page;
        /** Read-write pages between the guards. */
        private final long middle;
        private final MemorySegment mapping;
        private final long size;
        /** The key's current place: {@code size} bytes at the middle page's start or end. */
        MemorySegment segment;

        private static MethodHandle fn(String name, FunctionDescriptor d) {
            return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), d);
        }

        GuardedKey(long size) {
            this.size = size;
            try {
                page = (int) PAGESIZE.invokeExact();
                middle = Math.max(1, (size + page - 1) / page);
                MemorySegment m = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, (middle + 2) * page, PROT_RW,
                        MAP_PRIVATE_ANONYMOUS, -1, 0L);
                if (m.address() == -1L) {
                    throw new IllegalStateException("mmap failed");
                }
                mapping = m.reinterpret((middle + 2) * page);
                assertEquals(0, (int) MPROTECT.invokeExact(mapping, page, PROT_NONE));
                assertEquals(0, (int) MPROTECT.invokeExact(mapping.asSlice((middle + 1) * page), page, PROT_NONE));
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
            segment = place(true);
        }

        /** Places {@code key} against the read-write pages' end, or at their start. */
        void set(byte[] key, boolean atEnd) {
            place(atEnd);
            MemorySegment.copy(key, 0, segment, ValueLayout.JAVA_BYTE, 0, (int) size);
        }

        /** {@return the {@code size} bytes against the read-write pages' end, or at their start}, now {@link #segment} */
        MemorySegment place(boolean atEnd) {
            segment = mapping.asSlice(atEnd ? (middle + 1) * page - size : page, size);
            return segment;
        }

        @Override
        public void close() {
            try {
                int r = (int) MUNMAP.invokeExact(mapping, (middle + 2) * page);
                assertEquals(0, r);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }
    }

    // ---------------------------------------------------------------- the harness

    private static final X86Reg[] CALLEE_SAVED = {
        X86Reg.RBX, X86Reg.RBP, X86Reg.R12, X86Reg.R13, X86Reg.R14, X86Reg.R15,
    };
    private static final int RED_ZONE_WORDS = 16;
    private static final long CANARY = 0x5A5A_0123_4567_89A5L;

    /**
     * Code whose entry saves the callee-saved registers, loads them with canaries (rbp with
     * rsp), fills the callee's red zone with a canary, calls the lookup, and returns
     * {@link #CLOBBERED} instead of its result when any of them changed.
     */
    static byte[] harnessed(dev.prism.runtime.maps.HashLayout layout) {
        X86Assembler a = new X86Assembler();
        Label lookup = new Label();
        Label bad = new Label();
        Label done = new Label();
        for (X86Reg r : CALLEE_SAVED) {
            a.push(r);
        }
        for (int i = 0; i < CALLEE_SAVED.length; i++) {
            if (CALLEE_SAVED[i] == X86Reg.RBP) {
                a.mov(64, X86Reg.RBP, X86Reg.RSP);
            } else {
                a.movabs(CALLEE_SAVED[i], CANARY + i);
            }
        }
        // The callee's red zone: 128 bytes below its rsp, which is ours minus 8.
        a.movabs(X86Reg.R11, CANARY);
        for (int i = 0; i < RED_ZONE_WORDS; i++) {
            a.mov(64, X86Address.of(X86Reg.RSP, -16 - 8 * i), X86Reg.R11);
        }
        a.call(lookup);
        a.movabs(X86Reg.R11, CANARY);
        for (int i = 0; i < RED_ZONE_WORDS; i++) {
            a.mov(64, X86Reg.R8, X86Address.of(X86Reg.RSP, -16 - 8 * i));
            a.cmp(64, X86Reg.R8, X86Reg.R11);
            a.jcc(Condition.NE, bad);
        }
        for (int i = 0; i < CALLEE_SAVED.length; i++) {
            if (CALLEE_SAVED[i] == X86Reg.RBP) {
                a.cmp(64, X86Reg.RBP, X86Reg.RSP);
            } else {
                a.movabs(X86Reg.R11, CANARY + i);
                a.cmp(64, CALLEE_SAVED[i], X86Reg.R11);
            }
            a.jcc(Condition.NE, bad);
        }
        a.jmp(done);
        a.bind(bad);
        a.mov(32, X86Reg.RAX, CLOBBERED);
        a.bind(done);
        for (int i = CALLEE_SAVED.length - 1; i >= 0; i--) {
            a.pop(CALLEE_SAVED[i]);
        }
        a.ret();
        a.bind(lookup);
        int at = X86MapCode.emitLookup(a, layout);
        assertEquals(lookup.position(), at);
        return a.toByteArray();
    }
}
