package dev.prism.x86;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.runtime.maps.BpfMaps;
import dev.prism.runtime.maps.HashLayout;
import dev.prism.runtime.maps.HashTableMap;
import dev.prism.sys.ExecutableMemory;
import dev.prism.testing.Host;
import dev.prism.x86.X86MapCodeTest.GuardedKey;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@link X86MapCode#emitUpdate}: the generated {@code update(table, key, value, flags, cpu)}
 * against {@link HashTableMap#update} (the program-side update).
 *
 * <p>The main check runs twin maps made from one MapDef: the same seeded operations go to map A
 * through Java and to map B through the generated code (updates), or to both through Java
 * (lookups, which steer LRU eviction through the ref words, and deletes); after every operation
 * the return codes and every byte of the two blocks (header, buckets, all entries, free ones
 * included) must be equal. Map B lives against a PROT_NONE guard page (after its end or before
 * its start), keys and values too, so an access outside them faults. Every call goes through a
 * harness that fills the callee-saved registers and the caller's frame with canaries and checks
 * them, rsp and the direction flag afterwards. Literal errnos, the lock (held by the test while
 * an update waits) and a native writer racing a Java one are checked separately.
 */
class X86MapUpdateTest {
    private static final int[] KEY_SIZES = {1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17, 24, 33, 40, 64};
    private static final int[] VALUE_SIZES = {8, 1, 12, 40, 2, 3, 4, 5, 7, 9, 16, 17, 24, 31, 63, 64};
    private static final int[] MAX_ENTRIES = {1, 2, 3, 17, 64};
    private static final HexFormat HEX = HexFormat.of();
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final VarHandle LOCK_WORD = INT.varHandle();
    /** Linux errno numbers, written out rather than taken from MapErrno. */
    private static final long EINVAL = -22;
    private static final long EEXIST = -17;
    private static final long ENOENT = -2;
    private static final long E2BIG = -7;
    /** Flags the contract refuses with -EINVAL, besides 3 and 4. */
    private static final long[] BAD_FLAGS = {3, 4, 1L << 32, (1L << 32) | 1, (1L << 32) | 2, -1L, Long.MIN_VALUE | 2};
    /** What the harness returns instead of the result when a register or the caller's frame changed. */
    static final long CLOBBERED = 0x7E57_0000_0BAD_0001L;

    @BeforeAll
    static void host() {
        var a = new X86Target().availability();
        Host.require("x86-64", a.available(), a.reason());
    }

    // ---------------------------------------------------------------- twin maps

    /**
     * Every flavour with every key size; value sizes and max_entries cycle so that each flavour
     * meets each max_entries three times and the value sizes 1..64 are spread over them.
     */
    @TestFactory
    Stream<DynamicTest> twinMapsStayIdentical() {
        List<DynamicTest> tests = new ArrayList<>();
        int i = 0;
        for (X86MapCodeTest.Flavour f : X86MapCodeTest.FLAVOURS) {
            for (int ks : KEY_SIZES) {
                int vs = VALUE_SIZES[i % VALUE_SIZES.length];
                int max = MAX_ENTRIES[i % MAX_ENTRIES.length];
                boolean blockAtEnd = i % 2 == 0;
                long seed = 1000 + i;
                i++;
                tests.add(DynamicTest.dynamicTest(f + " key " + ks + " value " + vs + " max " + max
                        + (blockAtEnd ? " (map before a guard page)" : " (map after a guard page)"),
                        () -> twin(f, ks, vs, max, seed, 150 + 3 * max, blockAtEnd)));
            }
        }
        return tests.stream();
    }

    private static void twin(X86MapCodeTest.Flavour f, int ks, int vs, int max, long seed, int ops, boolean blockAtEnd) {
        Random rnd = new Random(seed);
        MapDef def = MapDef.of("twin", f.type(), ks, vs, max, 0);
        HashLayout l = HashLayout.of(def, f.cpus());
        try (Arena arena = Arena.ofConfined(); GuardedArena guarded = new GuardedArena(blockAtEnd);
                NativeUpdate nat = new NativeUpdate(l); GuardedKey key = new GuardedKey(ks);
                GuardedKey value = new GuardedKey(vs)) {
            HashTableMap a = newMap(def, f.cpus(), arena);
            HashTableMap b = newMap(def, f.cpus(), guarded);
            Twins t = new Twins(a, b, l);
            List<byte[]> pool = keyPool(rnd, ks, max + 2 + max / 2);
            int[] outcomes = new int[8];
            // Every key of the pool once, through both sides: the map fills, and then refuses
            // (E2BIG) or evicts; the random operations that follow keep it near full.
            List<byte[]> order = new ArrayList<>(pool);
            Collections.shuffle(order, rnd);
            for (byte[] k : order) {
                byte[] v = new byte[vs];
                rnd.nextBytes(v);
                outcomes[outcome(t.update(nat, key, value, k, v, BpfMaps.BPF_ANY, rnd.nextInt(f.cpus())))]++;
            }
            for (int op = 0; op < ops; op++) {
                byte[] k = pool.get(rnd.nextInt(pool.size()));
                int kind = rnd.nextInt(100);
                if (kind < 62) {
                    long flags = randomFlags(rnd);
                    long cpu = f.perCpu() && rnd.nextInt(12) == 0 ? badCpu(rnd, f.cpus()) : rnd.nextInt(f.cpus());
                    byte[] v = new byte[vs];
                    rnd.nextBytes(v);
                    long got = t.update(nat, key, rnd.nextBoolean(), value, rnd.nextBoolean(), k, v, flags, cpu);
                    outcomes[outcome(got)]++;
                    // (Twins.update compared the blocks.)
                    continue;
                }
                key.set(k, rnd.nextBoolean());
                if (kind < 85) {
                    int cpu = rnd.nextInt(f.cpus());
                    long la = a.lookup(key.segment, cpu);
                    long lb = b.lookup(key.segment, cpu);
                    t.log("lookup " + HEX.formatHex(k) + " cpu " + cpu);
                    assertEquals(la == 0 ? -1 : la - a.address(), lb == 0 ? -1 : lb - b.address(),
                            t.history("lookup of " + HEX.formatHex(k)));
                } else {
                    t.log("delete " + HEX.formatHex(k));
                    assertEquals(a.delete(key.segment), b.delete(key.segment), t.history("delete"));
                }
                t.assertSame();
            }
            // The sequence must have reached the interesting paths (seeded, so this is stable).
            assertTrue(outcomes[0] > 10, () -> "few successful updates: " + Arrays.toString(outcomes));
            assertTrue(outcomes[2] > 0 && outcomes[4] > 0, () -> "no -EEXIST or -ENOENT: " + Arrays.toString(outcomes));
            assertTrue(outcomes[1] > 0, () -> "no -EINVAL: " + Arrays.toString(outcomes));
            if (f.type() == MapType.HASH) {
                assertTrue(outcomes[3] > 0, () -> "never full: " + Arrays.toString(outcomes));
            }
        }
    }

    /** 0 success, 1 -EINVAL, 2 -EEXIST, 3 -E2BIG, 4 -ENOENT, 5 anything else. */
    private static int outcome(long rc) {
        return rc == 0 ? 0 : rc == EINVAL ? 1 : rc == EEXIST ? 2 : rc == E2BIG ? 3 : rc == ENOENT ? 4 : 5;
    }

    private static long randomFlags(Random rnd) {
        int r = rnd.nextInt(20);
        if (r < 2) {
            return BAD_FLAGS[rnd.nextInt(BAD_FLAGS.length)];
        }
        return r < 8 ? BpfMaps.BPF_ANY : r < 14 ? BpfMaps.BPF_NOEXIST : BpfMaps.BPF_EXIST;
    }

    /** A cpu outside 0..cpus-1 as the u64 argument: too large, negative, or with high bits set. */
    private static long badCpu(Random rnd, int cpus) {
        long[] bad = {cpus, cpus + 1, 64, -1L, 1L << 32, (1L << 32) | 1, Long.MIN_VALUE};
        return bad[rnd.nextInt(bad.length)];
    }

    /** {@code n} distinct random keys (fewer for one-byte keys: at most 128). */
    private static List<byte[]> keyPool(Random rnd, int ks, int n) {
        int wanted = ks == 1 ? Math.min(n, 128) : n;
        Set<String> seen = new HashSet<>();
        List<byte[]> pool = new ArrayList<>();
        while (pool.size() < wanted) {
            byte[] k = new byte[ks];
            rnd.nextBytes(k);
            if (seen.add(HEX.formatHex(k))) {
                pool.add(k);
            }
        }
        return pool;
    }

    /**
     * HASH and LRU_HASH have one value per entry: Java's update ignores cpu there, and so must
     * the generated code (the contract's cpu check is PERCPU_HASH's).
     */
    @Test
    void cpuIsIgnoredOutsidePerCpuMaps() {
        for (MapType type : new MapType[] {MapType.HASH, MapType.LRU_HASH}) {
            MapDef def = MapDef.of("m", type, 8, 12, 4, 0);
            HashLayout l = HashLayout.of(def, 1);
            try (Arena arena = Arena.ofConfined(); NativeUpdate nat = new NativeUpdate(l);
                    GuardedKey key = new GuardedKey(8); GuardedKey value = new GuardedKey(12)) {
                HashTableMap a = newMap(def, 1, arena);
                HashTableMap b = newMap(def, 1, arena);
                Twins t = new Twins(a, b, l);
                Random rnd = new Random(5);
                long[] cpus = {0, 1, 3, 1L << 32, -1L};
                for (int op = 0; op < 40; op++) {
                    byte[] k = new byte[8];
                    k[0] = (byte) rnd.nextInt(6);
                    byte[] v = new byte[12];
                    rnd.nextBytes(v);
                    key.set(k, true);
                    value.set(v, false);
                    long cpu = cpus[op % cpus.length];
                    int want = a.update(key.segment, value.segment, op % 3, 0);
                    long got = nat.call(b.address(), key.segment.address(), value.segment.address(), op % 3, cpu);
                    t.log(type.id() + " update " + HEX.formatHex(k) + " flags " + op % 3 + " cpu " + cpu + " -> " + got);
                    assertEquals(want, got, t.history("return code"));
                    t.assertSame();
                }
            }
        }
    }

    // ---------------------------------------------------------------- literal results

    /**
     * The results spelled out, not taken from Java: Linux's errno numbers as 64-bit values, the
     * stored bytes, PERCPU_HASH's other copies zero, LRU_HASH's eviction of the unreferenced
     * entry, and a failed update changing nothing.
     */
    @Test
    void literalResults() {
        for (X86MapCodeTest.Flavour f : X86MapCodeTest.FLAVOURS) {
            MapDef def = MapDef.of("m", f.type(), 5, 12, 2, 0);
            HashLayout l = HashLayout.of(def, f.cpus());
            try (Arena arena = Arena.ofConfined(); NativeUpdate nat = new NativeUpdate(l);
                    GuardedKey key = new GuardedKey(5); GuardedKey value = new GuardedKey(12)) {
                HashTableMap m = newMap(def, f.cpus(), arena);
                byte[] k1 = {1, 2, 3, 4, 5};
                byte[] k2 = {9, 9, 9, 9, 9};
                byte[] k3 = {7, 0, 0, 0, 7};
                byte[] v1 = bytes(12, 0x10);
                byte[] v2 = bytes(12, 0x40);
                byte[] v3 = bytes(12, 0x70);
                int cpu = f.cpus() - 1;
                Update u = (k, v, flags, c) -> {
                    key.set(k, true);
                    value.set(v, true);
                    return nat.call(m.address(), key.segment.address(), value.segment.address(), flags, c);
                };
                String in = f.toString();
                assertEquals(ENOENT, u.call(k1, v1, BpfMaps.BPF_EXIST, cpu), in);
                assertEquals(0, m.count(), in);
                assertEquals(0, u.call(k1, v1, BpfMaps.BPF_NOEXIST, cpu), in);
                assertArrayEquals(perCpu(l, cpu, v1, null), m.lookupUser(k1), in);
                assertEquals(EEXIST, u.call(k1, v2, BpfMaps.BPF_NOEXIST, cpu), in);
                assertArrayEquals(perCpu(l, cpu, v1, null), m.lookupUser(k1), in);
                for (long bad : BAD_FLAGS) {
                    assertEquals(EINVAL, u.call(k1, v2, bad, cpu), in + " flags 0x" + Long.toHexString(bad));
                    assertEquals(EINVAL, u.call(k3, v2, bad, cpu), in + " flags 0x" + Long.toHexString(bad));
                }
                assertArrayEquals(perCpu(l, cpu, v1, null), m.lookupUser(k1), in);
                assertEquals(1, m.count(), in);
                // Replacing: BPF_EXIST, then BPF_ANY on CPU 0 (PERCPU_HASH keeps the other copy).
                assertEquals(0, u.call(k1, v2, BpfMaps.BPF_EXIST, cpu), in);
                assertArrayEquals(perCpu(l, cpu, v2, null), m.lookupUser(k1), in);
                assertEquals(0, u.call(k1, v3, BpfMaps.BPF_ANY, 0), in);
                assertArrayEquals(perCpu(l, 0, v3, cpu == 0 ? null : perCpu(l, cpu, v2, null)), m.lookupUser(k1), in);
                if (f.perCpu()) {
                    byte[] before = blockBytes(m, l);
                    for (long bad : new long[] {f.cpus(), -1L, 1L << 32, Long.MIN_VALUE}) {
                        assertEquals(EINVAL, u.call(k1, v1, BpfMaps.BPF_ANY, bad), in + " cpu " + bad);
                        assertEquals(EINVAL, u.call(k3, v1, BpfMaps.BPF_ANY, bad), in + " cpu " + bad);
                    }
                    assertArrayEquals(before, blockBytes(m, l), in + ": a refused cpu changed the map");
                }
                // Full: k1, k2 in a map of 2.
                assertEquals(0, u.call(k2, v1, BpfMaps.BPF_ANY, 0), in);
                assertEquals(2, m.count(), in);
                if (f.type() == MapType.LRU_HASH) {
                    // k1 was replaced (ref 1), k2 is new (ref 0): the clock evicts k2.
                    assertEquals(0, u.call(k3, v2, BpfMaps.BPF_ANY, 0), in);
                    assertEquals(2, m.count(), in);
                    assertArrayEquals(v2, m.lookupUser(k3), in);
                    assertArrayEquals(v3, m.lookupUser(k1), in);
                    assertEquals(null, m.lookupUser(k2), in);
                } else {
                    byte[] before = blockBytes(m, l);
                    assertEquals(E2BIG, u.call(k3, v2, BpfMaps.BPF_ANY, 0), in);
                    assertEquals(E2BIG, u.call(k3, v2, BpfMaps.BPF_NOEXIST, 0), in);
                    assertEquals(ENOENT, u.call(k3, v2, BpfMaps.BPF_EXIST, 0), in);
                    assertArrayEquals(before, blockBytes(m, l), in + ": a failed update changed the map");
                    // A full map still replaces values.
                    assertEquals(0, u.call(k2, v2, BpfMaps.BPF_EXIST, 0), in);
                    assertArrayEquals(perCpu(l, 0, v2, null), m.lookupUser(k2), in);
                }
                assertEquals(0, (int) LOCK_WORD.getVolatile(lockWord(m), 0L), in + ": lock released");
            }
        }
    }

    @FunctionalInterface
    private interface Update {
        long call(byte[] key, byte[] value, long flags, long cpu);
    }

    private static byte[] bytes(int n, int from) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (from + i);
        }
        return b;
    }

    /** A user-side value of the layout: {@code v} at {@code cpu}'s copy, the rest from {@code rest} or zero. */
    private static byte[] perCpu(HashLayout l, int cpu, byte[] v, byte[] rest) {
        if (!l.perCpu()) {
            return v.clone();
        }
        byte[] out = rest != null ? rest.clone() : new byte[l.cpus() * l.stride()];
        System.arraycopy(v, 0, out, cpu * l.stride(), v.length);
        return out;
    }

    // ---------------------------------------------------------------- equal hashes

    /**
     * Two keys with the same 32-bit hash are different keys: BPF_NOEXIST inserts the second,
     * BPF_EXIST refuses it until then, and replacing one leaves the other's value alone.
     */
    @Test
    void fullHashCollisions() {
        for (int ks : new int[] {4, 5, 8, 12, 24}) {
            byte[][] pair = X86MapCodeTest.hashCollision(ks, new Random(ks));
            for (X86MapCodeTest.Flavour f : X86MapCodeTest.FLAVOURS) {
                MapDef def = MapDef.of("m", f.type(), ks, 12, 8, 0);
                HashLayout l = HashLayout.of(def, f.cpus());
                try (Arena arena = Arena.ofConfined(); NativeUpdate nat = new NativeUpdate(l);
                        GuardedKey key = new GuardedKey(ks); GuardedKey value = new GuardedKey(12)) {
                    Twins t = new Twins(newMap(def, f.cpus(), arena), newMap(def, f.cpus(), arena), l);
                    long[][] steps = {{0, BpfMaps.BPF_NOEXIST}, {1, BpfMaps.BPF_EXIST}, {1, BpfMaps.BPF_NOEXIST},
                        {1, BpfMaps.BPF_NOEXIST}, {0, BpfMaps.BPF_EXIST}, {1, BpfMaps.BPF_ANY}};
                    long[] want = {0, ENOENT, 0, EEXIST, 0, 0};
                    for (int s = 0; s < steps.length; s++) {
                        long got = t.update(nat, key, value, pair[(int) steps[s][0]], bytes(12, s * 16), steps[s][1],
                                f.cpus() - 1);
                        assertEquals(want[s], got, t.history("step " + s + ", " + f));
                    }
                }
            }
        }
    }

    /**
     * Key comparison at every byte of every key size: entry A's hash word is forged (in both
     * maps alike) to the hash of B, a key that differs from A in one byte; BPF_NOEXIST of B
     * walks onto A's entry with an equal hash, and only that byte tells the keys apart.
     */
    @Test
    void keysDifferingInOneByte() {
        int[] sizes = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 23, 24, 25, 33, 40, 64, 65, 100};
        Random rnd = new Random(77);
        int forged = 0;
        for (int ks : sizes) {
            X86MapCodeTest.Flavour f = X86MapCodeTest.FLAVOURS[ks % X86MapCodeTest.FLAVOURS.length];
            MapDef def = MapDef.of("m", f.type(), ks, 8, 2, 0);
            HashLayout l = HashLayout.of(def, f.cpus());
            try (Arena arena = Arena.ofConfined(); NativeUpdate nat = new NativeUpdate(l);
                    GuardedKey key = new GuardedKey(ks); GuardedKey value = new GuardedKey(8)) {
                for (int at = 0; at < ks; at++) {
                    byte[] a = new byte[ks];
                    rnd.nextBytes(a);
                    int ha = HashTableMap.hash(MemorySegment.ofArray(a), ks);
                    // B differs from A in byte `at` only; its hash must name A's bucket (mask 1).
                    byte[] b = null;
                    for (int bit = 0; bit < 8 && b == null; bit++) {
                        byte[] c = a.clone();
                        c[at] ^= (byte) (1 << bit);
                        if (((HashTableMap.hash(MemorySegment.ofArray(c), ks) ^ ha) & l.mask()) == 0) {
                            b = c;
                        }
                    }
                    if (b == null) {
                        continue;
                    }
                    Twins t = new Twins(newMap(def, f.cpus(), arena), newMap(def, f.cpus(), arena), l);
                    assertEquals(0, t.update(nat, key, value, a, bytes(8, 1), BpfMaps.BPF_ANY, 0));
                    int hb = HashTableMap.hash(MemorySegment.ofArray(b), ks);
                    // A is entry 1 in both maps.
                    for (MemorySegment s : new MemorySegment[] {t.sa, t.sb}) {
                        s.set(INT, l.entriesOffset() + HashTableMap.ENT_HASH, hb);
                    }
                    long got = t.update(nat, key, value, b, bytes(8, 2), BpfMaps.BPF_NOEXIST, 0);
                    assertEquals(0, got, t.history(f + " key " + ks + ": keys differing in byte " + at + " only"));
                    forged++;
                }
            }
        }
        assertTrue(forged > 300, "only " + forged + " forged pairs");
    }

    // ---------------------------------------------------------------- bounds

    /**
     * Every key size with value sizes 1..64 (and every flavour): keys and values against a
     * PROT_NONE page on either side, the map's block too, through an insert, a replacement and
     * a refused insert each; a read of a byte past a key or value, or a write outside the
     * block, faults (and kills the JVM, which fails the build).
     */
    @Test
    void keysValuesAndTheBlockAgainstGuardPages() {
        int i = 0;
        for (int vs = 1; vs <= 64; vs++) {
            for (int j = 0; j < 2; j++, i++) {
                bounds(X86MapCodeTest.FLAVOURS[i % X86MapCodeTest.FLAVOURS.length], KEY_SIZES[i % KEY_SIZES.length], vs, j == 0, vs * 31 + j);
            }
        }
        // Keys up to the 512-byte limit, and values larger than a per-CPU one may be.
        int[][] large = {{100, 8}, {255, 3}, {512, 1}, {512, 64}, {6, 100}, {3, 1000}, {129, 4096}};
        for (int[] kv : large) {
            for (int j = 0; j < 4; j++, i++) {
                X86MapCodeTest.Flavour f = X86MapCodeTest.FLAVOURS[j];
                if (!f.perCpu() || kv[1] <= 64) {
                    bounds(f, kv[0], kv[1], (j & 1) == 0, i);
                }
            }
        }
    }

    /**
     * One map of {@code f}, key size {@code ks}, value size {@code vs} and max_entries 2 against
     * a guard page, and a twin in ordinary memory: inserts, replacements and refused inserts
     * with the key and the value each at a page's end and at a page's start.
     */
    private static void bounds(X86MapCodeTest.Flavour f, int ks, int vs, boolean blockAtEnd, long seed) {
        MapDef def = MapDef.of("m", f.type(), ks, vs, 2, 0);
        HashLayout l = HashLayout.of(def, f.cpus());
        try (Arena arena = Arena.ofConfined(); GuardedArena guarded = new GuardedArena(blockAtEnd);
                NativeUpdate nat = new NativeUpdate(l); GuardedKey key = new GuardedKey(ks);
                GuardedKey value = new GuardedKey(vs)) {
            Twins t = new Twins(newMap(def, f.cpus(), arena), newMap(def, f.cpus(), guarded), l);
            Random rnd = new Random(seed);
            List<byte[]> keys = keyPool(rnd, ks, 3);
            // {flags, key}: insert, replace, NOEXIST insert, a third key (full), EXIST, ANY.
            long[][] steps = {{0, 0}, {0, 0}, {1, 1}, {0, 2}, {2, 1}, {0, 1}};
            for (long[] s : steps) {
                for (int place = 0; place < 4; place++) {
                    byte[] v = new byte[vs];
                    rnd.nextBytes(v);
                    t.update(nat, key, (place & 1) == 0, value, (place & 2) == 0, keys.get((int) s[1]), v, s[0],
                            f.cpus() - 1);
                }
            }
        }
    }

    // ---------------------------------------------------------------- the lock

    /**
     * With the header lock held by the test, an update (inserting, evicting, or failing with
     * -EEXIST) waits without touching the map; after the release it completes, leaves the map
     * as Java's update does, and releases the lock.
     */
    @Test
    void updateWaitsForTheLock() throws Exception {
        for (MapType type : new MapType[] {MapType.HASH, MapType.LRU_HASH, MapType.PERCPU_HASH}) {
            int cpus = type == MapType.PERCPU_HASH ? 2 : 1;
            MapDef def = MapDef.of("m", type, 12, 20, 4, 0);
            HashLayout l = HashLayout.of(def, cpus);
            // Auto arenas: if the update never returns, its thread keeps the memory alive.
            Arena arena = Arena.ofAuto();
            NativeUpdate nat = new NativeUpdate(l);
            HashTableMap a = newMap(def, cpus, arena);
            HashTableMap b = newMap(def, cpus, arena);
            Twins t = new Twins(a, b, l);
            Random rnd = new Random(17);
            List<byte[]> keys = keyPool(rnd, 12, 6);
            MemorySegment k = arena.allocate(12);
            MemorySegment v = arena.allocate(20);
            // Three keys in; then: a new key (LRU_HASH: the map is full at the last one), an
            // existing key with BPF_NOEXIST, and one more new key.
            for (int j = 0; j < 3; j++) {
                k.copyFrom(MemorySegment.ofArray(keys.get(j)));
                assertEquals(0, a.update(k, v, 0, 0));
                assertEquals(0, b.update(k, v, 0, 0));
            }
            long[][] cases = {{3, BpfMaps.BPF_NOEXIST}, {0, BpfMaps.BPF_NOEXIST}, {4, BpfMaps.BPF_ANY}};
            for (long[] c : cases) {
                k.copyFrom(MemorySegment.ofArray(keys.get((int) c[0])));
                byte[] vb = new byte[20];
                rnd.nextBytes(vb);
                v.copyFrom(MemorySegment.ofArray(vb));
                MemorySegment lock = lockWord(b);
                LOCK_WORD.setVolatile(lock, 0L, 1);
                byte[] before = blockBytes(b, l);
                AtomicLong result = new AtomicLong(Long.MIN_VALUE);
                AtomicReference<Throwable> failure = new AtomicReference<>();
                Thread th = Thread.ofPlatform().daemon().start(() -> {
                    try {
                        result.set(nat.call(b.address(), k.address(), v.address(), c[1], cpus - 1));
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                });
                th.join(300);
                String what = type.id() + " update of key " + c[0] + " flags " + c[1];
                assertTrue(th.isAlive(), what + " did not wait for the lock (returned " + result.get() + ")");
                assertEquals(1, (int) LOCK_WORD.getVolatile(lock, 0L), what + ": lock word changed while held");
                // Bytes after the lock word: nothing may change before the lock is taken.
                byte[] during = blockBytes(b, l);
                assertArrayEquals(before, during, what + " changed the map before taking the lock");
                LOCK_WORD.setVolatile(lock, 0L, 0);
                th.join(10_000);
                assertFalse(th.isAlive(), what + " did not finish after the lock was released");
                if (failure.get() != null) {
                    throw new AssertionError(what, failure.get());
                }
                int want = a.update(k, v, c[1], cpus - 1);
                t.log(what + " -> " + result.get());
                assertEquals(want, result.get(), what);
                assertEquals(0, (int) LOCK_WORD.getVolatile(lock, 0L), what + ": lock not released");
                t.assertSame();
            }
            nat.close();
        }
    }

    // ---------------------------------------------------------------- concurrency

    /**
     * Native updates on one thread, Java updates, lookups and deletes on another, on an
     * LRU_HASH and a HASH map for about half a second; then each map must be consistent: count()
     * is the number of keys(), the keys are distinct, each key's value is one written for it,
     * and the entries are split exactly between bucket chains and the free list.
     */
    @Test
    void nativeAndJavaWritersTogether() throws Exception {
        int ks = 8;
        int vs = 24;
        int max = 32;
        Arena arena = Arena.ofAuto();
        MapType[] types = {MapType.LRU_HASH, MapType.HASH};
        HashTableMap[] maps = new HashTableMap[2];
        NativeUpdate[] nats = new NativeUpdate[2];
        for (int m = 0; m < 2; m++) {
            MapDef def = MapDef.of("race" + m, types[m], ks, vs, max, 0);
            maps[m] = newMap(def, 1, arena);
            nats[m] = new NativeUpdate(HashLayout.of(def, 1));
        }
        int keys = max + max / 2;
        AtomicBoolean stop = new AtomicBoolean();
        AtomicBoolean stopJava = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong nativeCalls = new AtomicLong();
        AtomicLong javaCalls = new AtomicLong();
        AtomicLong nativeExists = new AtomicLong();
        long[] lastSeq = new long[2];
        Thread nativeWriter = Thread.ofPlatform().daemon().start(() -> {
            MemorySegment k = Arena.ofAuto().allocate(ks);
            MemorySegment v = Arena.ofAuto().allocate(vs);
            Random r = new Random(1);
            long seq = 0;
            try {
                while (!stop.get()) {
                    int m = r.nextInt(2);
                    long key = r.nextInt(keys);
                    long flags = r.nextInt(3);
                    k.set(LE_LONG, 0, key);
                    raceValue(v, key, 1, ++seq);
                    long rc = nats[m].call(maps[m].address(), k.address(), v.address(), flags, 0);
                    if (rc != 0 && rc != EEXIST && rc != ENOENT && (rc != E2BIG || types[m] != MapType.HASH)) {
                        throw new AssertionError(types[m].id() + " native update returned " + rc);
                    }
                    if (rc == EEXIST) {
                        nativeExists.incrementAndGet();
                    }
                    nativeCalls.incrementAndGet();
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
            lastSeq[1] = seq;
        });
        Thread javaWriter = Thread.ofPlatform().daemon().start(() -> {
            MemorySegment k = Arena.ofAuto().allocate(ks);
            MemorySegment v = Arena.ofAuto().allocate(vs);
            Random r = new Random(2);
            long seq = 0;
            try {
                while (!stopJava.get()) {
                    int m = r.nextInt(2);
                    long key = r.nextInt(keys);
                    k.set(LE_LONG, 0, key);
                    int kind = r.nextInt(10);
                    if (kind < 5) {
                        raceValue(v, key, 0, ++seq);
                        maps[m].update(k, v, r.nextInt(3), 0);
                    } else if (kind < 8) {
                        maps[m].lookup(k, 0);
                    } else {
                        maps[m].delete(k);
                    }
                    javaCalls.incrementAndGet();
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
            lastSeq[0] = seq;
        });
        Thread.sleep(500);
        // Java stops first and the native writer goes on for a few hundred updates alone, so
        // that some of its values are certainly left even when the scheduler starved it at the end
        stopJava.set(true);
        javaWriter.join(10_000);
        long alone = nativeCalls.get() + 300;
        for (long deadline = System.nanoTime() + 10_000_000_000L; nativeCalls.get() < alone && System.nanoTime() < deadline; ) {
            Thread.onSpinWait();
        }
        stop.set(true);
        nativeWriter.join(10_000);
        assertFalse(nativeWriter.isAlive() || javaWriter.isAlive(), "a writer is stuck");
        if (failure.get() != null) {
            throw new AssertionError("writer failed", failure.get());
        }
        assertTrue(nativeCalls.get() > 200 && javaCalls.get() > 200,
                "only " + nativeCalls.get() + " native and " + javaCalls.get() + " Java operations");
        // A native update that does nothing would leave only Java's values and never see -EEXIST.
        assertTrue(nativeExists.get() > 0, "the native updates never found a key present");
        int nativeValues = 0;
        for (int m = 0; m < 2; m++) {
            HashTableMap map = maps[m];
            String in = types[m].id();
            assertEquals(0, (int) LOCK_WORD.getVolatile(lockWord(map), 0L), in + ": lock word");
            List<byte[]> present = map.keys();
            assertEquals(map.count(), present.size(), in + ": count() against keys()");
            assertTrue(present.size() <= max, in + ": " + present.size() + " keys");
            Set<Long> distinct = new HashSet<>();
            for (byte[] key : present) {
                long kv = MemorySegment.ofArray(key).get(LE_LONG, 0);
                assertTrue(distinct.add(kv), in + ": key " + kv + " twice");
                assertTrue(kv >= 0 && kv < keys, in + ": key " + kv + " never written");
                byte[] value = map.lookupUser(key);
                assertNotNull(value, in + ": key " + kv + " listed but not found");
                MemorySegment vseg = MemorySegment.ofArray(value);
                long tagged = vseg.get(LE_LONG, 0);
                int writer = (int) (tagged >>> 56);
                long seq = tagged & ((1L << 56) - 1);
                assertTrue(writer <= 1 && seq >= 1 && seq <= lastSeq[writer],
                        in + ": key " + kv + " has a value nobody wrote: " + HEX.formatHex(value));
                MemorySegment want = Arena.ofAuto().allocate(vs);
                raceValue(want, kv, writer, seq);
                assertArrayEquals(want.toArray(ValueLayout.JAVA_BYTE), value,
                        in + ": key " + kv + " holds a value written for another key or a torn one");
                nativeValues += writer;
            }
            assertStructure(map, HashLayout.of(map));
        }
        assertTrue(nativeValues > 0, "no value written by the native update is left");
        for (NativeUpdate n : nats) {
            n.close();
        }
    }

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The value a racing writer stores for {@code key}: its tag and sequence number, the key, and a mix of both. */
    private static void raceValue(MemorySegment v, long key, int writer, long seq) {
        long tagged = (long) writer << 56 | seq;
        v.set(LE_LONG, 0, tagged);
        v.set(LE_LONG, 8, key);
        v.set(LE_LONG, 16, (tagged ^ key * 0x9E37_79B9_7F4A_7C15L) * 0xBF58_476D_1CE4_E5B9L);
    }

    /**
     * Walks the block directly, bounded: every bucket chain ends, each linked entry's hash is
     * its key's and names its bucket, the free list and the chains hold each entry exactly
     * once between them, and the header's count is the number of linked entries.
     */
    private static void assertStructure(HashTableMap map, HashLayout l) {
        MemorySegment s = MemorySegment.ofAddress(map.address()).reinterpret(blockSize(l));
        String in = map.def().type().id();
        int[] seen = new int[l.maxEntries() + 1];
        int linked = 0;
        for (int bucket = 0; bucket < l.buckets(); bucket++) {
            int n = s.get(INT, HashTableMap.HEADER_SIZE + 4L * bucket);
            for (int steps = 0; n != 0; steps++) {
                assertTrue(steps <= l.maxEntries() && n >= 1 && n <= l.maxEntries(),
                        in + ": bucket " + bucket + " chain broken at entry " + n);
                assertEquals(0, seen[n]++, in + ": entry " + n + " linked twice");
                long e = l.entriesOffset() + (long) (n - 1) * l.entrySize();
                int h = s.get(INT, e + HashTableMap.ENT_HASH);
                assertEquals(bucket, h & l.mask(), in + ": entry " + n + " in the wrong bucket");
                assertEquals(HashTableMap.hash(s.asSlice(e + HashTableMap.ENT_KEY, l.keySize()), l.keySize()), h,
                        in + ": entry " + n + " hash");
                linked++;
                n = s.get(INT, e + HashTableMap.ENT_NEXT);
            }
        }
        assertEquals(linked, s.get(INT, HashTableMap.HDR_COUNT), in + ": count word");
        int n = s.get(INT, HashTableMap.HDR_FREE);
        for (int steps = 0; n != 0; steps++) {
            assertTrue(steps < l.maxEntries() && n >= 1 && n <= l.maxEntries(), in + ": free list broken at " + n);
            assertEquals(0, seen[n]++, in + ": entry " + n + " both linked and free, or free twice");
            n = s.get(INT, l.entriesOffset() + (long) (n - 1) * l.entrySize() + HashTableMap.ENT_FREE_NEXT);
        }
        for (int e = 1; e <= l.maxEntries(); e++) {
            assertEquals(1, seen[e], in + ": entry " + e + " neither linked nor free");
        }
    }

    // ---------------------------------------------------------------- the harness itself

    /**
     * The harness must see what it is meant to catch: each callee-saved register changed, a
     * write into the caller's frame, the direction flag left set; and it must pass the five
     * arguments through and accept what the contract allows (the scratch registers, pushes and
     * stores below rsp).
     */
    @Test
    void harnessCatchesClobbers() {
        X86Reg[] args = {X86Reg.RDI, X86Reg.RSI, X86Reg.RDX, X86Reg.RCX, X86Reg.R8};
        long[] values = {0x1111_2222_3333_4440L, 0x55, -7, 1L << 40, 3};
        for (int i = 0; i < args.length; i++) {
            X86Reg r = args[i];
            assertEquals(values[i], runStub(a -> a.mov(64, X86Reg.RAX, r)), "argument " + r);
        }
        assertEquals(-22L, runStub(a -> {
            for (X86Reg r : new X86Reg[] {X86Reg.RCX, X86Reg.RDX, X86Reg.RSI, X86Reg.RDI, X86Reg.R8, X86Reg.R9,
                X86Reg.R10, X86Reg.R11}) {
                a.mov(64, r, -1);
            }
            a.push(X86Reg.RBX);
            a.mov(64, X86Reg.RBX, 0);
            a.mov(64, X86Address.of(X86Reg.RSP, -200), X86Reg.RBX);
            a.pop(X86Reg.RBX);
            a.mov(64, X86Reg.RAX, -22);
        }), "what the contract allows");
        for (X86Reg r : HARNESS_CANARIED) {
            assertEquals(CLOBBERED, runStub(a -> a.add(64, r, 8)), "clobbered " + r);
        }
        for (int off = 8; off < 8 + 8 * FRAME_WORDS; off += 8) {
            int o = off;
            assertEquals(CLOBBERED, runStub(a -> a.mov(64, X86Address.of(X86Reg.RSP, o), X86Reg.RAX)),
                    "store at rsp+" + off);
        }
        assertEquals(CLOBBERED, runStub(X86Assembler::std), "direction flag left set");
    }

    private static long runStub(Consumer<X86Assembler> body) {
        byte[] code = harnessed(a -> {
            int start = a.position();
            a.xor(32, X86Reg.RAX, X86Reg.RAX);
            body.accept(a);
            a.ret();
            return start;
        });
        try (ExecutableMemory m = ExecutableMemory.of(code)) {
            return NativeUpdate.invoke(m, 0x1111_2222_3333_4440L, 0x55, -7, 1L << 40, 3);
        }
    }

    // ---------------------------------------------------------------- fixtures

    /** Two maps made from one MapDef and the operations applied to them, for messages. */
    private static final class Twins {
        final HashTableMap a;
        final HashTableMap b;
        final HashLayout l;
        final MemorySegment sa;
        final MemorySegment sb;
        private final ArrayDeque<String> recent = new ArrayDeque<>();
        private int ops;

        Twins(HashTableMap a, HashTableMap b, HashLayout l) {
            this.a = a;
            this.b = b;
            this.l = l;
            this.sa = MemorySegment.ofAddress(a.address()).reinterpret(blockSize(l));
            this.sb = MemorySegment.ofAddress(b.address()).reinterpret(blockSize(l));
        }

        void log(String op) {
            ops++;
            recent.addLast("#" + ops + " " + op);
            if (recent.size() > 12) {
                recent.removeFirst();
            }
        }

        /**
         * One update of {@code k} to {@code v}: Java's on A, the generated one on B, with the
         * key and value placed at the end (or start) of their pages; the return codes, the lock
         * word and the blocks must agree. {@return the native result}
         */
        long update(NativeUpdate nat, GuardedKey key, boolean keyAtEnd, GuardedKey value, boolean valueAtEnd,
                byte[] k, byte[] v, long flags, long cpu) {
            key.set(k, keyAtEnd);
            value.set(v, valueAtEnd);
            String what = "update " + HEX.formatHex(k) + " flags 0x" + Long.toHexString(flags) + " cpu " + cpu
                    + " (key at page " + (keyAtEnd ? "end" : "start") + ", value at page "
                    + (valueAtEnd ? "end" : "start") + ")";
            long want = l.perCpu() && (cpu < 0 || cpu >= l.cpus())
                    ? EINVAL : a.update(key.segment, value.segment, flags, (int) cpu);
            long got = nat.call(b.address(), key.segment.address(), value.segment.address(), flags, cpu);
            log(what + " -> " + got);
            assertEquals(want, got, history("return code of " + what));
            assertEquals(0, lockB(), history("lock word after " + what));
            assertSame();
            return got;
        }

        long update(NativeUpdate nat, GuardedKey key, GuardedKey value, byte[] k, byte[] v, long flags, long cpu) {
            return update(nat, key, (ops & 1) == 0, value, (ops & 2) == 0, k, v, flags, cpu);
        }

        int lockB() {
            return (int) LOCK_WORD.getVolatile(sb, 0L);
        }

        String history(String what) {
            return a.def() + " (" + l + "): " + what + "; last operations:\n  " + String.join("\n  ", recent);
        }

        /** Every byte of the two blocks, free entries included. */
        void assertSame() {
            long at = MemorySegment.mismatch(sa, 0, sa.byteSize(), sb, 0, sb.byteSize());
            if (at != -1) {
                StringBuilder diffs = new StringBuilder();
                int shown = 0;
                for (long off = at; off < sa.byteSize() && shown < 8; off++) {
                    byte x = sa.get(ValueLayout.JAVA_BYTE, off);
                    byte y = sb.get(ValueLayout.JAVA_BYTE, off);
                    if (x != y) {
                        diffs.append(String.format("%n    +%d %s: java %02x, native %02x", off, describe(l, off), x, y));
                        shown++;
                    }
                }
                fail(history("blocks differ" + diffs));
            }
        }
    }

    /** {@return what lies at {@code off} in a block of layout {@code l}} */
    static String describe(HashLayout l, long off) {
        if (off < HashTableMap.HEADER_SIZE) {
            String[] names = {"lock", "count", "free", "mask", "entry_size", "key_size", "value_size",
                "value_stride", "cpus", "max_entries", "clock", "map type"};
            return "header " + (off / 4 < names.length ? names[(int) off / 4] : "reserved");
        }
        if (off < l.entriesOffset()) {
            long bucket = (off - HashTableMap.HEADER_SIZE) / 4;
            return bucket < l.buckets() ? "bucket " + bucket : "padding before the entries";
        }
        long e = off - l.entriesOffset();
        long n = e / l.entrySize() + 1;
        int f = (int) (e % l.entrySize());
        String field;
        if (f < HashTableMap.ENT_KEY) {
            field = new String[] {"next", "hash", "ref", "free_next"}[f / 4];
        } else if (f < l.valueOffset()) {
            field = "key byte " + (f - HashTableMap.ENT_KEY);
        } else {
            int v = f - l.valueOffset();
            field = "value" + (l.perCpu() ? " of cpu " + v / l.stride() : "") + " byte " + v % l.stride();
        }
        return "entry " + n + " " + field;
    }

    private static HashTableMap newMap(MapDef def, int cpus, Arena arena) {
        HashTableMap m = (HashTableMap) BpfMaps.create(def, cpus, arena);
        return m;
    }

    static long blockSize(HashLayout l) {
        return l.entriesOffset() + (long) l.maxEntries() * l.entrySize();
    }

    /** A copy of a map's block after its lock word. */
    private static byte[] blockBytes(HashTableMap m, HashLayout l) {
        return MemorySegment.ofAddress(m.address()).reinterpret(blockSize(l)).asSlice(4)
                .toArray(ValueLayout.JAVA_BYTE);
    }

    private static MemorySegment lockWord(HashTableMap m) {
        return MemorySegment.ofAddress(m.address()).reinterpret(4);
    }

    /**
     * An arena whose allocations lie against a PROT_NONE page: ending at the end of their
     * pages ({@code atEnd}) or starting at their start, so a write past the map's block (or
     * before it) faults instead of corrupting a neighbour.
     */
    static final class GuardedArena implements Arena {
        private final Arena scope = Arena.ofConfined();
        private final boolean atEnd;
        private final List<GuardedKey> mappings = new ArrayList<>();

        GuardedArena(boolean atEnd) {
            this.atEnd = atEnd;
        }

        @Override
        public MemorySegment allocate(long byteSize, long byteAlignment) {
            GuardedKey g = new GuardedKey(byteSize);
            mappings.add(g);
            MemorySegment s = g.place(atEnd && byteSize % byteAlignment == 0);
            assertEquals(0, s.address() % byteAlignment, "alignment");
            return s;
        }

        @Override
        public MemorySegment.Scope scope() {
            return scope.scope();
        }

        @Override
        public void close() {
            mappings.forEach(GuardedKey::close);
            scope.close();
        }
    }

    /** The generated update of one layout behind the harness, called through FFM. */
    static final class NativeUpdate implements AutoCloseable {
        private static final MethodHandle CALL = Linker.nativeLinker().downcallHandle(FunctionDescriptor.of(
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
        private final ExecutableMemory code;

        NativeUpdate(HashLayout layout) {
            this.code = ExecutableMemory.of(harnessed(a -> X86MapCode.emitUpdate(a, layout)));
        }

        /** {@return update(table, key, value, flags, cpu)}, failing when the harness saw a clobber */
        long call(long table, long key, long value, long flags, long cpu) {
            long r = invoke(code, table, key, value, flags, cpu);
            assertNotEquals(CLOBBERED, r, "callee-saved register, rsp, the caller's frame or the direction flag clobbered");
            return r;
        }

        static long invoke(ExecutableMemory code, long a0, long a1, long a2, long a3, long a4) {
            try {
                return (long) CALL.invokeExact(code.entry(), a0, a1, a2, a3, a4);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }

        @Override
        public void close() {
            code.close();
        }
    }

    /** rbp gets rsp; the others canaries. */
    private static final X86Reg[] HARNESS_CANARIED = {
        X86Reg.RBX, X86Reg.RBP, X86Reg.R12, X86Reg.R13, X86Reg.R14, X86Reg.R15,
    };
    /** Canaried words of the harness's own frame, right above the callee's return address. */
    private static final int FRAME_WORDS = 8;
    private static final long CANARY = 0x5A5A_0123_4567_89A5L;
    private static final long FRAME_CANARY = 0x3C3C_F00D_0000_0000L;

    /**
     * A function {@code long f(a0..a4)} that saves the callee-saved registers, loads them with
     * canaries (rbp with rsp), fills {@link #FRAME_WORDS} words of its own frame above the
     * return address and puts junk in rax, r9, r10 and r11, calls the emitted function with rsp
     * 16-byte aligned and the five arguments untouched, and returns {@link #CLOBBERED} instead
     * of its result when a canary changed, rsp moved or the direction flag is set. There is no
     * red-zone check: the update may use the stack below rsp.
     */
    static byte[] harnessed(java.util.function.ToIntFunction<X86Assembler> emitter) {
        X86Assembler a = new X86Assembler();
        Label callee = new Label();
        Label bad = new Label();
        Label done = new Label();
        for (X86Reg r : HARNESS_CANARIED) {
            a.push(r);
        }
        // Entry rsp = 8 mod 16; six pushes keep that; 8 more bytes align the call.
        int frame = 8 * FRAME_WORDS + 8;
        a.sub(64, X86Reg.RSP, frame);
        for (int i = 0; i < HARNESS_CANARIED.length; i++) {
            if (HARNESS_CANARIED[i] == X86Reg.RBP) {
                a.mov(64, X86Reg.RBP, X86Reg.RSP);
            } else {
                a.movabs(HARNESS_CANARIED[i], CANARY + i);
            }
        }
        for (int i = 0; i < FRAME_WORDS + 1; i++) {
            a.movabs(X86Reg.R11, FRAME_CANARY + i);
            a.mov(64, X86Address.of(X86Reg.RSP, 8 * i), X86Reg.R11);
        }
        a.movabs(X86Reg.RAX, 0x0DD0_0DD0_0DD0_0DD0L);
        a.movabs(X86Reg.R9, 0x0DD1_0DD1_0DD1_0DD1L);
        a.movabs(X86Reg.R10, 0x0DD2_0DD2_0DD2_0DD2L);
        a.call(callee);
        a.mov(64, X86Reg.R9, X86Reg.RAX);
        for (int i = 0; i < FRAME_WORDS + 1; i++) {
            a.movabs(X86Reg.R11, FRAME_CANARY + i);
            a.mov(64, X86Reg.R10, X86Address.of(X86Reg.RSP, 8 * i));
            a.cmp(64, X86Reg.R10, X86Reg.R11);
            a.jcc(Condition.NE, bad);
        }
        for (int i = 0; i < HARNESS_CANARIED.length; i++) {
            if (HARNESS_CANARIED[i] == X86Reg.RBP) {
                a.cmp(64, X86Reg.RBP, X86Reg.RSP);
            } else {
                a.movabs(X86Reg.R11, CANARY + i);
                a.cmp(64, HARNESS_CANARIED[i], X86Reg.R11);
            }
            a.jcc(Condition.NE, bad);
        }
        // The direction flag: one STOSB moves rdi up when it is clear, down when set.
        a.mov(64, X86Reg.RDI, X86Reg.RSP);
        a.mov(32, X86Reg.RCX, 1);
        a.repStosb();
        a.lea(64, X86Reg.RCX, X86Address.of(X86Reg.RSP, 1));
        a.cmp(64, X86Reg.RDI, X86Reg.RCX);
        a.jcc(Condition.NE, bad);
        a.mov(64, X86Reg.RAX, X86Reg.R9);
        a.jmp(done);
        a.bind(bad);
        a.movabs(X86Reg.RAX, CLOBBERED);
        a.bind(done);
        a.cld();
        a.add(64, X86Reg.RSP, frame);
        for (int i = HARNESS_CANARIED.length - 1; i >= 0; i--) {
            a.pop(HARNESS_CANARIED[i]);
        }
        a.ret();
        a.bind(callee);
        int at = emitter.applyAsInt(a);
        assertEquals(callee.position(), at, "the emitter's offset");
        return a.toByteArray();
    }
}
