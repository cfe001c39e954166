package dev.prism.runtime.maps;

import static dev.prism.runtime.maps.MapTesting.layoutLookup;
import static dev.prism.runtime.maps.MapTesting.mem;
import static dev.prism.runtime.maps.MapTesting.read;
import static dev.prism.runtime.maps.MapTesting.readInt;
import static dev.prism.runtime.maps.MapTesting.readLong;
import static dev.prism.runtime.maps.MapTesting.referenceHash;
import static dev.prism.runtime.maps.MapTesting.u32;
import static dev.prism.runtime.maps.MapTesting.u64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.runtime.Region;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HashTableMapTest {
    private final Arena arena = Arena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    private HashTableMap hash(int keySize, int valueSize, int maxEntries) {
        return (HashTableMap) BpfMaps.create(MapDef.of("h", MapType.HASH, keySize, valueSize, maxEntries, 0), 1, arena);
    }

    /** A key of {@code size} bytes derived from {@code n}, distinct for distinct n (size >= 4) or n < 256. */
    private static byte[] key(int size, int n) {
        byte[] k = new byte[size];
        Random r = new Random(n);
        r.nextBytes(k);
        byte[] id = u32(n);
        System.arraycopy(id, 0, k, 0, Math.min(4, size));
        return k;
    }

    @Test
    void hashIsTheDocumentedFunction() {
        Random r = new Random(1);
        for (int size = 1; size <= 70; size++) {
            byte[] k = new byte[size];
            r.nextBytes(k);
            assertEquals(referenceHash(k), HashTableMap.hash(MemorySegment.ofArray(k), size), "size " + size);
        }
        // Only the first keySize bytes count: trailing bytes of a longer buffer are ignored.
        byte[] k = {1, 2, 3, 4, 5, 6, 7};
        assertEquals(referenceHash(new byte[] {1, 2, 3}), HashTableMap.hash(MemorySegment.ofArray(k), 3));
    }

    @ParameterizedTest(name = "key size {0}")
    @ValueSource(ints = {1, 4, 13, 16, 64})
    void insertLookupDeleteReinsert(int keySize) {
        int n = keySize == 1 ? 200 : 300;
        HashTableMap m = hash(keySize, 8, n);
        for (int i = 0; i < n; i++) {
            assertEquals(0, m.update(mem(arena, key(keySize, i)), mem(arena, u64(i * 3L)), BpfMaps.BPF_ANY, 0));
        }
        assertEquals(n, m.count());
        for (int i = 0; i < n; i++) {
            long addr = m.lookup(mem(arena, key(keySize, i)), 0);
            assertNotEquals(0, addr, "key " + i);
            assertEquals(i * 3L, readLong(addr));
            assertEquals(addr, layoutLookup(m, key(keySize, i)), "the documented layout finds the same value");
        }
        for (int i = 0; i < n; i += 2) {
            assertEquals(0, m.delete(mem(arena, key(keySize, i))));
        }
        assertEquals(n - (n + 1) / 2, m.count());
        for (int i = 0; i < n; i++) {
            byte[] v = m.lookupUser(key(keySize, i));
            if (i % 2 == 0) {
                assertNull(v, "deleted " + i);
                assertEquals(0, layoutLookup(m, key(keySize, i)));
            } else {
                assertArrayEquals(u64(i * 3L), v);
            }
        }
        for (int i = 0; i < n; i += 2) {
            assertEquals(0, m.updateUser(key(keySize, i), u64(-i), BpfMaps.BPF_NOEXIST), "reinsert " + i);
        }
        for (int i = 0; i < n; i++) {
            assertArrayEquals(u64(i % 2 == 0 ? -i : i * 3L), m.lookupUser(key(keySize, i)));
        }
        assertEquals(n, m.keys().size());
    }

    @Test
    void flagsAndErrorsFollowHtabMapUpdateElem() {
        HashTableMap m = hash(4, 4, 4);
        MemorySegment k = mem(arena, u32(1));
        MemorySegment v = mem(arena, u32(10));
        assertEquals(-2, m.update(k, v, BpfMaps.BPF_EXIST, 0), "BPF_EXIST on a missing key: -ENOENT");
        assertEquals(0, m.count());
        assertEquals(0, m.update(k, v, BpfMaps.BPF_NOEXIST, 0));
        assertEquals(-17, m.update(k, mem(arena, u32(11)), BpfMaps.BPF_NOEXIST, 0), "-EEXIST");
        assertArrayEquals(u32(10), m.lookupUser(u32(1)), "a failed update changes nothing");
        assertEquals(0, m.update(k, mem(arena, u32(12)), BpfMaps.BPF_EXIST, 0));
        assertEquals(0, m.update(k, mem(arena, u32(13)), BpfMaps.BPF_ANY, 0));
        assertArrayEquals(u32(13), m.lookupUser(u32(1)));
        for (long bad : new long[] {3, 4, 5, 6, 8, 1L << 32, -1L}) {
            assertEquals(-22, m.update(k, v, bad, 0), "flags " + bad);
            assertEquals(-22, m.updateUser(u32(9), u32(0), bad), "flags " + bad);
        }
        assertEquals(0, m.delete(k));
        assertEquals(-2, m.delete(k), "delete of a missing key: -ENOENT");
        assertEquals(-2, m.deleteUser(u32(1)));
        assertEquals(0, m.lookup(k, 0));
    }

    @Test
    void replacingAValueKeepsItsAddress() {
        HashTableMap m = hash(4, 16, 8);
        assertEquals(0, m.updateUser(u32(5), new byte[16], 0));
        long addr = m.lookup(mem(arena, u32(5)), 0);
        byte[] v = MapTesting.concat(u64(1), u64(2));
        assertEquals(0, m.updateUser(u32(5), v, BpfMaps.BPF_EXIST));
        assertEquals(addr, m.lookup(mem(arena, u32(5)), 0));
        assertArrayEquals(v, read(addr, 16));
    }

    @Test
    void fullMapRefusesNewKeysWithE2big() {
        HashTableMap m = hash(4, 4, 8);
        for (int i = 0; i < 8; i++) {
            assertEquals(0, m.updateUser(u32(i), u32(i), 0));
        }
        assertEquals(-7, m.updateUser(u32(8), u32(8), 0), "a new key in a full map: -E2BIG");
        assertEquals(-7, m.updateUser(u32(8), u32(8), BpfMaps.BPF_NOEXIST));
        assertEquals(-2, m.updateUser(u32(8), u32(8), BpfMaps.BPF_EXIST), "flags are checked before capacity");
        assertEquals(0, m.updateUser(u32(3), u32(33), 0), "replacing in a full map works");
        assertEquals(0, m.updateUser(u32(3), u32(34), BpfMaps.BPF_EXIST));
        assertEquals(8, m.count());
        assertEquals(0, m.deleteUser(u32(0)));
        assertEquals(0, m.updateUser(u32(8), u32(8), 0), "room again after a delete");
        assertEquals(-7, m.updateUser(u32(9), u32(9), 0));
        Set<Integer> keys = new HashSet<>();
        for (byte[] k : m.keys()) {
            keys.add(MapTesting.readIntLe(k));
        }
        assertEquals(Set.of(1, 2, 3, 4, 5, 6, 7, 8), keys);
    }

    @Test
    void manyKeysInOneBucket() {
        int max = 64;
        HashTableMap m = hash(4, 8, max);
        assertEquals(max - 1, m.bucketMask());
        // Every key whose hash lands in bucket 5: one chain of 64 entries.
        List<Integer> chain = new ArrayList<>();
        for (int k = 0; chain.size() < max; k++) {
            if ((referenceHash(u32(k)) & (max - 1)) == 5) {
                chain.add(k);
            }
        }
        for (int k : chain) {
            assertEquals(0, m.updateUser(u32(k), u64(k), 0));
        }
        for (int b = 0; b < max; b++) {
            int head = readInt(m.bucketsAddress() + 4L * b);
            assertEquals(b == 5, head != 0, "bucket " + b);
        }
        for (int k : chain) {
            assertEquals(k, readLong(m.lookup(mem(arena, u32(k)), 0)));
        }
        for (int i = 1; i < chain.size(); i += 2) {
            assertEquals(0, m.deleteUser(u32(chain.get(i))), "delete from the middle of the chain");
        }
        for (int i = 0; i < chain.size(); i++) {
            byte[] v = m.lookupUser(u32(chain.get(i)));
            if (i % 2 == 1) {
                assertNull(v);
            } else {
                assertArrayEquals(u64(chain.get(i)), v);
            }
        }
        assertEquals(0, m.deleteUser(u32(chain.getFirst())), "the first inserted is the chain's tail");
        assertEquals(max / 2 - 1, m.count());
        for (int i = 0; i < chain.size(); i++) {
            long viaLayout = layoutLookup(m, u32(chain.get(i)));
            if (i == 0 || i % 2 == 1) {
                assertEquals(0, viaLayout, "deleted key " + chain.get(i));
            } else {
                assertNotEquals(0, viaLayout, "key " + chain.get(i));
                assertEquals(m.lookup(mem(arena, u32(chain.get(i))), 0), viaLayout);
            }
        }
        assertEquals(max / 2 - 1, m.keys().size());
    }

    @Test
    void keysWithEqualHashesStayApart() {
        Map<Integer, Integer> seen = new HashMap<>();
        int a = -1;
        int b = -1;
        for (int k = 0; a < 0; k++) {
            Integer prev = seen.putIfAbsent(referenceHash(u32(k)), k);
            if (prev != null) {
                a = prev;
                b = k;
            }
        }
        HashTableMap m = hash(4, 8, 4);
        assertEquals(0, m.updateUser(u32(a), u64(1), 0));
        assertEquals(0, m.updateUser(u32(b), u64(2), 0));
        assertArrayEquals(u64(1), m.lookupUser(u32(a)));
        assertArrayEquals(u64(2), m.lookupUser(u32(b)));
        assertEquals(-17, m.updateUser(u32(b), u64(3), BpfMaps.BPF_NOEXIST));
        assertEquals(0, m.deleteUser(u32(a)));
        assertNull(m.lookupUser(u32(a)));
        assertArrayEquals(u64(2), m.lookupUser(u32(b)));
    }

    @Test
    void keysAreStableAndComplete() {
        HashTableMap m = hash(4, 4, 32);
        for (int i = 0; i < 20; i++) {
            m.updateUser(u32(i * 7), u32(i), 0);
        }
        List<byte[]> first = m.keys();
        List<byte[]> second = m.keys();
        assertEquals(20, first.size());
        Set<Integer> ids = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            assertArrayEquals(first.get(i), second.get(i), "same order on each call");
            ids.add(MapTesting.readIntLe(first.get(i)));
        }
        Set<Integer> expected = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            expected.add(i * 7);
        }
        assertEquals(expected, ids);
    }

    @Test
    void regionHoldsEveryValue() {
        HashTableMap m = hash(13, 12, 10);
        Region r = m.regions().getFirst();
        assertEquals("map value h", r.name());
        assertEquals(m.entriesAddress(), r.base());
        assertEquals(10L * m.entrySize(), r.segment().byteSize());
        assertEquals(16 + 16 + 16, m.entrySize(), "header 16, key round8(13), value round8(12)");
        for (int i = 0; i < 10; i++) {
            m.updateUser(key(13, i), new byte[12], 0);
            assertTrue(r.contains(m.lookup(mem(arena, key(13, i)), 0), 12));
        }
    }

    @Test
    void perCpuHashKeepsOneCopyPerCpu() {
        int cpus = 4;
        HashTableMap m = (HashTableMap) BpfMaps.create(MapDef.of("pc", MapType.PERCPU_HASH, 4, 4, 8, 0), cpus, arena);
        MemorySegment k = mem(arena, u32(77));
        assertEquals(0, m.update(k, mem(arena, u32(5)), 0, 2), "a new entry from cpu 2");
        for (int c = 0; c < cpus; c++) {
            assertEquals(c == 2 ? 5 : 0, readInt(m.lookup(k, c)), "the other CPUs' copies start zero");
        }
        assertEquals(8, m.lookup(k, 1) - m.lookup(k, 0), "copies are round8(value_size) apart");
        assertEquals(0, m.update(k, mem(arena, u32(6)), BpfMaps.BPF_EXIST, 0));
        assertEquals(6, readInt(m.lookup(k, 0)));
        assertEquals(5, readInt(m.lookup(k, 2)), "an update from cpu 0 leaves cpu 2's copy");
        byte[] all = m.lookupUser(u32(77));
        assertEquals(cpus * 8, all.length);
        assertArrayEquals(MapTesting.concat(u32(6), new byte[4], new byte[8], u32(5), new byte[4], new byte[8]), all);
        byte[] write = new byte[cpus * 8];
        for (int c = 0; c < cpus; c++) {
            System.arraycopy(u32(100 + c), 0, write, 8 * c, 4);
        }
        assertEquals(0, m.updateUser(u32(78), write, BpfMaps.BPF_NOEXIST));
        for (int c = 0; c < cpus; c++) {
            assertEquals(100 + c, readInt(m.lookup(mem(arena, u32(78)), c)));
        }
        assertThrows(IllegalArgumentException.class, () -> m.updateUser(u32(79), u32(1), 0));
        assertThrows(IllegalArgumentException.class, () -> m.lookup(k, cpus));
    }

    @Test
    void headerDescribesTheLayout() {
        HashTableMap m = hash(6, 10, 100);
        long h = m.address();
        assertEquals(127, readInt(h + 12), "mask: 128 buckets for 100 entries");
        assertEquals(16 + 8 + 16, readInt(h + 16), "entry size");
        assertEquals(6, readInt(h + 20));
        assertEquals(10, readInt(h + 24));
        assertEquals(16, readInt(h + 28));
        assertEquals(1, readInt(h + 32));
        assertEquals(100, readInt(h + 36));
        assertEquals(MapType.HASH.code(), readInt(h + 44));
        assertEquals(h + 64, m.bucketsAddress());
        assertEquals(h + 64 + 4 * 128, m.entriesAddress());
        m.updateUser(new byte[6], new byte[10], 0);
        assertEquals(1, readInt(h + 4), "count");
    }

    @Test
    void sizesAndCreationAreChecked() {
        HashTableMap m = hash(4, 4, 4);
        assertThrows(IllegalArgumentException.class, () -> m.updateUser(new byte[5], u32(0), 0));
        assertThrows(IllegalArgumentException.class, () -> m.updateUser(u32(0), new byte[3], 0));
        assertThrows(IllegalArgumentException.class, () -> m.lookupUser(new byte[3]));
        assertThrows(IllegalArgumentException.class, () -> m.deleteUser(new byte[8]));
        assertThrows(IllegalArgumentException.class, () -> m.update(mem(arena, new byte[3]), mem(arena, u32(0)), 0, 0));
        assertThrows(IllegalArgumentException.class,
                () -> BpfMaps.create(MapDef.of("k0", MapType.HASH, 0, 4, 4, 0), 1, arena));
        assertThrows(IllegalArgumentException.class,
                () -> BpfMaps.create(MapDef.of("k513", MapType.HASH, 513, 4, 4, 0), 1, arena));
        assertThrows(IllegalArgumentException.class,
                () -> BpfMaps.create(MapDef.of("mm", MapType.HASH, 4, 4, 4, BpfMaps.BPF_F_MMAPABLE), 1, arena));
        assertThrows(IllegalArgumentException.class, () -> BpfMaps.create(
                MapDef.of("lru", MapType.LRU_HASH, 4, 4, 4, BpfMaps.BPF_F_NO_PREALLOC), 1, arena));
        assertThrows(IllegalArgumentException.class, () -> BpfMaps.create(
                MapDef.of("ncl", MapType.HASH, 4, 4, 4, BpfMaps.BPF_F_NO_COMMON_LRU), 1, arena));
        BpfMaps.create(MapDef.of("np", MapType.HASH, 4, 4, 4, BpfMaps.BPF_F_NO_PREALLOC), 1, arena);
    }
}
