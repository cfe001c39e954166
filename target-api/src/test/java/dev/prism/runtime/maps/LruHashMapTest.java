package dev.prism.runtime.maps;

import static dev.prism.runtime.maps.MapTesting.mem;
import static dev.prism.runtime.maps.MapTesting.u32;
import static dev.prism.runtime.maps.MapTesting.u64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import java.lang.foreign.Arena;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * LRU_HASH. Linux's LRU is approximate, so these tests assert only what holds for any
 * reasonable LRU: a full map takes new keys by evicting, keeps exactly max_entries keys, and
 * does not evict keys used since the others were inserted while unused keys remain.
 */
class LruHashMapTest {
    private final Arena arena = Arena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    private HashTableMap lru(int maxEntries) {
        return (HashTableMap) BpfMaps.create(MapDef.of("lru", MapType.LRU_HASH, 4, 8, maxEntries, 0), 1, arena);
    }

    private Set<Integer> keySet(HashTableMap m) {
        Set<Integer> keys = new HashSet<>();
        m.keys().forEach(k -> keys.add(MapTesting.readIntLe(k)));
        return keys;
    }

    @Test
    void insertingIntoAFullMapEvictsOne() {
        HashTableMap m = lru(16);
        for (int i = 0; i < 16; i++) {
            assertEquals(0, m.updateUser(u32(i), u64(i), 0));
        }
        assertEquals(0, m.updateUser(u32(16), u64(16), 0), "no -E2BIG: an element is evicted");
        assertEquals(16, m.count());
        Set<Integer> keys = keySet(m);
        assertEquals(16, keys.size());
        assertEquals(true, keys.contains(16), "the new key is in");
        int evicted = 0;
        for (int i = 0; i < 16; i++) {
            byte[] v = m.lookupUser(u32(i));
            if (v == null) {
                evicted++;
            } else {
                assertArrayEquals(u64(i), v, "survivors keep their values");
            }
        }
        assertEquals(1, evicted);
    }

    @Test
    void manyInsertionsAlwaysSucceedAndKeepMaxEntries() {
        HashTableMap m = lru(32);
        for (int i = 0; i < 1000; i++) {
            assertEquals(0, m.updateUser(u32(i), u64(i), BpfMaps.BPF_NOEXIST), "insert " + i);
            assertEquals(Math.min(i + 1, 32), m.count());
            assertArrayEquals(u64(i), m.lookupUser(u32(i)), "the newest key is present");
        }
        assertEquals(32, m.keys().size());
    }

    @Test
    void recentlyUsedKeysSurvive() {
        int max = 64;
        HashTableMap m = lru(max);
        for (int i = 0; i < max; i++) {
            m.updateUser(u32(i), u64(i), 0);
        }
        // A program uses keys 0..7 (lookups from a program mark them used).
        for (int i = 0; i < 8; i++) {
            assertNotEquals(0, m.lookup(mem(arena, u32(i)), 0));
        }
        for (int i = 0; i < max / 2; i++) {
            assertEquals(0, m.updateUser(u32(1000 + i), u64(i), 0));
        }
        for (int i = 0; i < 8; i++) {
            assertNotNull(m.lookupUser(u32(i)), "recently used key " + i + " was evicted");
        }
        for (int i = 0; i < max / 2; i++) {
            assertNotNull(m.lookupUser(u32(1000 + i)), "newly inserted key " + i);
        }
        assertEquals(max, m.count());
    }

    @Test
    void flagsAndDeleteAsHash() {
        HashTableMap m = lru(4);
        assertEquals(-2, m.updateUser(u32(1), u64(1), BpfMaps.BPF_EXIST));
        assertEquals(0, m.updateUser(u32(1), u64(1), BpfMaps.BPF_NOEXIST));
        assertEquals(-17, m.updateUser(u32(1), u64(2), BpfMaps.BPF_NOEXIST));
        assertEquals(-22, m.updateUser(u32(1), u64(2), 4), "BPF_F_LOCK: lru update refuses flags above BPF_EXIST");
        assertEquals(0, m.updateUser(u32(1), u64(3), BpfMaps.BPF_EXIST));
        assertArrayEquals(u64(3), m.lookupUser(u32(1)));
        assertEquals(0, m.deleteUser(u32(1)));
        assertEquals(-2, m.deleteUser(u32(1)));
        assertNull(m.lookupUser(u32(1)));
        assertEquals(0, m.count());
    }
}
