package dev.prism.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.runtime.maps.BpfMaps;
import dev.prism.runtime.maps.LpmTrieMap;
import dev.prism.sys.ExecutableMemory;
import dev.prism.testing.Host;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The generated LPM lookup against {@link LpmTrieMap#lookup}, the Java longest-prefix match:
 * random tries of every data size the native index holds, with prefixes of random lengths
 * (clustered, so lookups meet several candidate lengths), present, absent and deleted ones, keys
 * with prefixlen above max_prefixlen, and enough delete/insert churn to rebuild the index.
 */
class X86LpmCodeTest {
    @BeforeAll
    static void host() {
        X86Target x86 = new X86Target();
        Host.require("x86-64", x86.availability().available(), x86.availability().reason());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8})
    void nativeLookupIsJavasLongestPrefixMatch(int dataSize) {
        Random rnd = new Random(dataSize * 7919L);
        int maxEntries = 64;
        int valueSize = 1 + rnd.nextInt(20);
        MapDef def = MapDef.of("lpm", MapType.LPM_TRIE, 4 + dataSize, valueSize, maxEntries, 1 /* BPF_F_NO_PREALLOC */);
        X86Assembler a = new X86Assembler();
        X86LpmCode.emitLookup(a, dataSize, (valueSize + 7) & ~7);
        try (Arena arena = Arena.ofConfined(); ExecutableMemory code = ExecutableMemory.of(a.toByteArray())) {
            LpmTrieMap map = (LpmTrieMap) BpfMaps.create(def, 1, arena);
            // keys end exactly at the end of their allocation: a read past them would leave the key
            MemorySegment key = arena.allocate(4 + dataSize, 1);
            byte[] base = new byte[dataSize];
            rnd.nextBytes(base);
            List<byte[]> stored = new ArrayList<>();
            int checked = 0;
            for (int round = 0; round < 40; round++) {
                // churn: delete some stored prefixes, insert new ones near the base data
                for (int i = 0; i < stored.size(); i++) {
                    if (rnd.nextInt(3) == 0) {
                        assertEquals(0, map.deleteUser(stored.get(i)));
                        stored.remove(i--);
                    }
                }
                while (stored.size() < maxEntries / 2 + rnd.nextInt(maxEntries / 2)) {
                    byte[] k = masked(randomKey(rnd, base, dataSize));
                    byte[] v = new byte[valueSize];
                    rnd.nextBytes(v);
                    if (map.updateUser(k, v, 0) == 0 && map.lookupUser(k) != null && !contains(stored, k)) {
                        stored.add(k);
                    }
                }
                for (int q = 0; q < 200; q++) {
                    byte[] k = randomKey(rnd, base, dataSize);
                    if (rnd.nextInt(10) == 0) {
                        k[0] = (byte) (dataSize * 8 + 1 + rnd.nextInt(3)); // longer than the trie's prefixes
                    }
                    MemorySegment.copy(k, 0, key, ValueLayout.JAVA_BYTE, 0, k.length);
                    long want = map.lookup(key, 0);
                    long got = code.invoke(map.nativeAddress(), key.address(), 0);
                    assertEquals(want, got, "lookup of " + java.util.HexFormat.of().formatHex(k));
                    checked++;
                }
            }
            assertEquals(40 * 200, checked);
        }
    }

    private static boolean contains(List<byte[]> keys, byte[] k) {
        return keys.stream().anyMatch(s -> java.util.Arrays.equals(s, k));
    }

    /** {@return the key with its data bits from prefixlen on cleared: one byte string per stored prefix} */
    private static byte[] masked(byte[] k) {
        int len = k[0] & 0xff;
        for (int bit = len; bit < (k.length - 4) * 8; bit++) {
            k[4 + bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        return k;
    }

    /** A key whose data differs from {@code base} in a few low bits, with a random prefix length. */
    private static byte[] randomKey(Random rnd, byte[] base, int dataSize) {
        byte[] k = new byte[4 + dataSize];
        int len = rnd.nextInt(dataSize * 8 + 1);
        k[0] = (byte) len;
        System.arraycopy(base, 0, k, 4, dataSize);
        int flips = rnd.nextInt(3);
        for (int f = 0; f < flips; f++) {
            int bit = dataSize * 8 - 1 - rnd.nextInt(Math.min(12, dataSize * 8));
            k[4 + bit / 8] ^= (byte) (0x80 >>> (bit % 8));
        }
        return k;
    }
}
