package dev.prism.arm64;

import static dev.prism.arm64.A64LeafHarness.CLOBBERED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.arm64.A64LeafHarness.GuardedKey;
import dev.prism.arm64.emu.A64Machine;
import dev.prism.arm64.emu.Unicorn;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.runtime.maps.BpfMaps;
import dev.prism.runtime.maps.LpmTrieMap;
import dev.prism.testing.Host;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The generated LPM lookup of {@link A64LpmCode} against {@link LpmTrieMap#lookup}, the Java
 * longest-prefix match, ported from x86-64's X86LpmCodeTest: random tries of every data size
 * the native index holds, with prefixes of random lengths (clustered, so lookups meet several
 * candidate lengths), present, absent and deleted ones, keys with prefixlen above
 * max_prefixlen, and delete/insert churn that rebuilds the index (each rebuild moves it to a
 * fresh block, which is mapped into the emulator before the next lookup;
 * {@link #lookupsFollowTheIndexToFreshBlocks} makes sure of several rebuilds per data size).
 *
 * <p>Each lookup runs in the emulator behind {@link A64LeafHarness}, which checks the registers
 * the contract preserves, sp and the stack below it. Keys lie against pages the emulator never
 * maps, so a read past either end of a key faults; the map's memory (handle, index blocks,
 * slab) is mapped read-only, so a write to it faults too.
 */
class A64LpmCodeTest {
    private static final HexFormat HEX = HexFormat.of();

    @BeforeAll
    static void host() {
        Host.require("arm64", Unicorn.availability().available(), Unicorn.availability().reason());
    }

    /** X86LpmCodeTest's shape: 64 entries, values of 1..20 bytes (strides 8, 16, 24). */
    @ParameterizedTest(name = "data size {0}")
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8})
    void nativeLookupIsJavasLongestPrefixMatch(int dataSize) {
        Random rnd = new Random(dataSize * 7919L);
        int valueSize = 1 + rnd.nextInt(20);
        // ARMv8.0 (no LSE) on odd sizes: the lookup must run on every arm64 core
        compareWithJava(dataSize, valueSize, 64, 12, 2, rnd, dataSize % 2 == 0 ? Unicorn.CpuModel.MAX
                : Unicorn.CpuModel.CORTEX_A57);
    }

    /**
     * Value strides that are not powers of two (24, 40) and ones that are (8, 16, 32, 64), with
     * larger tries (slots, and so value offsets, up to max_entries - 1; bigger index blocks).
     */
    @ParameterizedTest(name = "data size {0}, value size {1}, max_entries {2}")
    @CsvSource({
        "1, 20, 64, 8, 2",
        "4, 20, 300, 20, 3",
        "8, 20, 64, 12, 2",
        "5, 33, 200, 16, 3",
        "3, 32, 64, 12, 2",
        "6, 64, 500, 24, 3",
        "7, 8, 64, 12, 2",
        "2, 16, 200, 16, 3",
    })
    void strides(int dataSize, int valueSize, int maxEntries, int spread, int maxFlips) {
        Random rnd = new Random(dataSize * 31L + valueSize * 1009L + maxEntries);
        compareWithJava(dataSize, valueSize, maxEntries, spread, maxFlips, rnd, Unicorn.CpuModel.MAX);
    }

    /**
     * Rebuilds, several of them: batches of fresh prefixes of one length each inserted and
     * deleted again, lookups after every delete (so the first lookup on each new block comes
     * right after the delete that published it), a few prefixes near the base data stored
     * throughout.
     */
    @ParameterizedTest(name = "data size {0}")
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8})
    void lookupsFollowTheIndexToFreshBlocks(int dataSize) {
        Random rnd = new Random(dataSize * 104729L);
        int maxEntries = 64;
        int valueSize = 20;
        MapDef def = MapDef.of("lpm", MapType.LPM_TRIE, 4 + dataSize, valueSize, maxEntries, 1 /* BPF_F_NO_PREALLOC */);
        try (Arena arena = Arena.ofConfined(); Fixture fx = new Fixture(def, 24, arena, Unicorn.CpuModel.MAX)) {
            LpmTrieMap map = fx.map;
            GuardedKey key = new GuardedKey(4 + dataSize, arena, fx.machine);
            byte[] base = new byte[dataSize];
            rnd.nextBytes(base);
            List<byte[]> stable = new ArrayList<>();
            while (stable.size() < 8) {
                byte[] k = masked(randomKey(rnd, base, dataSize, 12, 2));
                if (!contains(stable, k)) {
                    assertEquals(0, map.updateUser(k, new byte[valueSize], 0));
                    stable.add(k);
                }
            }
            int batches = 0;
            for (; fx.blocks < 5 && batches < 500; batches++) {
                int len = 1 + rnd.nextInt(dataSize * 8);
                List<byte[]> batch = new ArrayList<>();
                for (int tries = 0; tries < 200 && batch.size() < maxEntries - stable.size(); tries++) {
                    byte[] k = anyKey(rnd, dataSize);
                    k[0] = (byte) len;
                    masked(k);
                    if (!contains(stable, k) && !contains(batch, k)) {
                        assertEquals(0, map.updateUser(k, new byte[valueSize], 0));
                        batch.add(k);
                    }
                }
                for (byte[] k : batch) {
                    fx.check(key, k, rnd);
                }
                for (byte[] k : batch) {
                    assertEquals(0, map.deleteUser(k));
                    fx.check(key, k, rnd);
                    fx.check(key, stable.get(rnd.nextInt(stable.size())), rnd);
                    fx.check(key, randomKey(rnd, base, dataSize, 12, 2), rnd);
                }
            }
            assertTrue(fx.blocks >= 5, "only " + (fx.blocks - 1) + " rebuilds in " + batches + " batches");
        }
    }

    private static void compareWithJava(int dataSize, int valueSize, int maxEntries, int spread, int maxFlips, Random rnd,
            Unicorn.CpuModel cpu) {
        int stride = (valueSize + 7) & ~7;
        MapDef def = MapDef.of("lpm", MapType.LPM_TRIE, 4 + dataSize, valueSize, maxEntries, 1 /* BPF_F_NO_PREALLOC */);
        try (Arena arena = Arena.ofConfined(); Fixture fx = new Fixture(def, stride, arena, cpu)) {
            LpmTrieMap map = fx.map;
            assertEquals(stride, map.stride());
            GuardedKey key = new GuardedKey(4 + dataSize, arena, fx.machine);
            byte[] base = new byte[dataSize];
            rnd.nextBytes(base);
            List<byte[]> stored = new ArrayList<>();
            int checked = 0;
            // an empty trie matches nothing
            for (int q = 0; q < 20; q++) {
                checked += fx.check(key, randomKey(rnd, base, dataSize, spread, maxFlips), rnd);
            }
            int rounds = 40;
            for (int round = 0; round < rounds; round++) {
                // churn: delete some stored prefixes, insert new ones near the base data
                List<byte[]> deleted = new ArrayList<>();
                for (int i = 0; i < stored.size(); i++) {
                    if (rnd.nextInt(3) == 0) {
                        assertEquals(0, map.deleteUser(stored.get(i)));
                        deleted.add(stored.remove(i--));
                    }
                }
                int target = maxEntries / 2 + rnd.nextInt(maxEntries / 2);
                for (int tries = 0; stored.size() < target; tries++) {
                    assertTrue(tries < 100 * maxEntries, "too few distinct prefixes near the base data");
                    byte[] k = masked(randomKey(rnd, base, dataSize, spread, maxFlips));
                    byte[] v = new byte[valueSize];
                    rnd.nextBytes(v);
                    if (map.updateUser(k, v, 0) == 0 && map.lookupUser(k) != null && !contains(stored, k)) {
                        stored.add(k);
                    }
                }
                // Re-inserted prefixes near the base mostly reuse their own deleted entries; prefixes
                // anywhere, inserted and deleted again, leave deleted entries all over the index,
                // so rebuilds come (and move the index to a fresh block)
                for (int i = 0; i < maxEntries / 4; i++) {
                    byte[] k = masked(anyKey(rnd, dataSize));
                    if (!contains(stored, k) && map.updateUser(k, new byte[valueSize], 0) == 0) {
                        assertEquals(0, map.deleteUser(k));
                    }
                }
                for (int q = 0; q < 200; q++) {
                    byte[] k = randomKey(rnd, base, dataSize, spread, maxFlips);
                    int r = rnd.nextInt(20);
                    if (r < 2) {
                        k[0] = (byte) (dataSize * 8 + 1 + rnd.nextInt(3)); // longer than the trie's prefixes
                    } else if (r == 2) {
                        // a u32 prefixlen whose low byte alone would be in range
                        k[1 + rnd.nextInt(3)] = (byte) (1 << rnd.nextInt(8));
                    }
                    checked += fx.check(key, k, rnd);
                }
                // every stored prefix exactly, and with the key's full length
                for (byte[] s : stored) {
                    checked += fx.check(key, s, rnd);
                    byte[] full = s.clone();
                    full[0] = (byte) (dataSize * 8);
                    checked += fx.check(key, full, rnd);
                }
                // the prefixes deleted this round (some are found again, or a shorter match)
                for (byte[] d : deleted) {
                    checked += fx.check(key, d, rnd);
                }
            }
            assertTrue(checked >= 20 + rounds * 200, "only " + checked + " lookups");
            // hits, and misses both past max_prefixlen and after trying every length down to 0
            assertTrue(fx.hits > 0 && fx.misses > fx.inRangeMisses && fx.inRangeMisses > 0, fx.hits + " hits and "
                    + fx.misses + " misses (" + fx.inRangeMisses + " in range) of " + checked + " lookups");
        }
    }

    /**
     * A trie, its generated lookup behind the harness on a machine of its own, with the handle,
     * every index block the lookups met and the slab mapped read-only at their host addresses.
     */
    private static final class Fixture implements AutoCloseable {
        final MapDef def;
        final LpmTrieMap map;
        final A64Machine machine;
        final long code;
        private final MemorySegment handle;
        private long block;
        /** Index blocks mapped (one per rebuild the lookups met, the first included). */
        int blocks;
        int hits;
        int misses;
        int inRangeMisses;
        boolean atEnd;

        Fixture(MapDef def, int stride, Arena arena, Unicorn.CpuModel cpu) {
            this.def = def;
            this.map = (LpmTrieMap) BpfMaps.create(def, 1, arena);
            assertNotEquals(0, map.nativeAddress());
            this.handle = MemorySegment.ofAddress(map.nativeAddress()).reinterpret(8);
            this.machine = new A64Machine(cpu, A64Machine.DEFAULT_BUDGET, null);
            try {
                machine.map(handle.address(), 8, Unicorn.PROT_READ);
                mapCurrentBlock();
                long slab = MemorySegment.ofAddress(block).reinterpret(LpmTrieMap.IX_ENTRIES)
                        .get(ValueLayout.JAVA_LONG, LpmTrieMap.IX_SLAB);
                machine.map(slab, (long) def.maxEntries() * stride, Unicorn.PROT_READ);
                int dataSize = def.keySize() - 4;
                this.code = machine.loadRaw(A64LeafHarness.harnessed(a -> A64LpmCode.emitLookup(a, dataSize, stride)));
            } catch (RuntimeException | Error e) {
                machine.close();
                throw e;
            }
        }

        /** Maps the index block the handle names now, when it is new (a rebuild moved it). */
        private void mapCurrentBlock() {
            long b = handle.get(ValueLayout.JAVA_LONG, LpmTrieMap.NX_BLOCK);
            if (b != block) {
                int mask = MemorySegment.ofAddress(b).reinterpret(LpmTrieMap.IX_ENTRIES)
                        .get(ValueLayout.JAVA_INT, LpmTrieMap.IX_MASK);
                machine.map(b, LpmTrieMap.IX_ENTRIES + (mask + 1L) * LpmTrieMap.IX_ENTRY_SIZE, Unicorn.PROT_READ);
                block = b;
                blocks++;
            }
        }

        /** Looks {@code k} up natively (the key at its page's end and start by turns) and in Java; {@return 1} */
        int check(GuardedKey key, byte[] k, Random rnd) {
            key.set(k, atEnd);
            atEnd = !atEnd;
            long want = map.lookup(key.segment, 0);
            mapCurrentBlock();
            // x2, which the lookup ignores, holds garbage
            long got = machine.call(code, map.nativeAddress(), key.segment.address(), rnd.nextLong());
            assertNotEquals(CLOBBERED, got, "a preserved register, sp or the stack below it clobbered");
            assertEquals(want, got, () -> String.format("%s data size %d: lookup of %s: native 0x%x, java 0x%x", def,
                    def.keySize() - 4, HEX.formatHex(k), got, want));
            if (got == 0) {
                misses++;
                if (Integer.toUnsignedLong(key.segment.get(ValueLayout.JAVA_INT_UNALIGNED, 0)) <= (def.keySize() - 4) * 8L) {
                    inRangeMisses++;
                }
            } else {
                hits++;
            }
            return 1;
        }

        @Override
        public void close() {
            machine.close();
        }
    }

    private static boolean contains(List<byte[]> keys, byte[] k) {
        return keys.stream().anyMatch(s -> Arrays.equals(s, k));
    }

    /** {@return the key with its data bits from prefixlen on cleared: one byte string per stored prefix} */
    private static byte[] masked(byte[] k) {
        int len = k[0] & 0xff;
        for (int bit = len; bit < (k.length - 4) * 8; bit++) {
            k[4 + bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        return k;
    }

    /** A key of random data, with a random prefix length of at least 1. */
    private static byte[] anyKey(Random rnd, int dataSize) {
        byte[] k = new byte[4 + dataSize];
        rnd.nextBytes(k);
        k[0] = (byte) (1 + rnd.nextInt(dataSize * 8));
        k[1] = k[2] = k[3] = 0;
        return k;
    }

    /**
     * A key whose data differs from {@code base} in up to {@code maxFlips} of its last
     * {@code spread} bits, with a random prefix length.
     */
    private static byte[] randomKey(Random rnd, byte[] base, int dataSize, int spread, int maxFlips) {
        byte[] k = new byte[4 + dataSize];
        int len = rnd.nextInt(dataSize * 8 + 1);
        k[0] = (byte) len;
        System.arraycopy(base, 0, k, 4, dataSize);
        int flips = rnd.nextInt(maxFlips + 1);
        for (int f = 0; f < flips; f++) {
            int bit = dataSize * 8 - 1 - rnd.nextInt(Math.min(spread, dataSize * 8));
            k[4 + bit / 8] ^= (byte) (0x80 >>> (bit % 8));
        }
        return k;
    }
}
