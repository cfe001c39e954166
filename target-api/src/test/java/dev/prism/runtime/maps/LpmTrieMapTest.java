package dev.prism.runtime.maps;

import static dev.prism.runtime.maps.MapTesting.mem;
import static dev.prism.runtime.maps.MapTesting.readInt;
import static dev.prism.runtime.maps.MapTesting.u32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LpmTrieMapTest {
    private final Arena arena = Arena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    private LpmTrieMap trie(int keySize, int maxEntries) {
        return (LpmTrieMap) BpfMaps.create(
                MapDef.of("routes", MapType.LPM_TRIE, keySize, 4, maxEntries, BpfMaps.BPF_F_NO_PREALLOC), 1, arena);
    }

    /** {@return an IPv4 LPM key: u32 prefixlen (host order), then the address in network order} */
    private static byte[] v4(int prefixLen, int a, int b, int c, int d) {
        return MapTesting.concat(u32(prefixLen), new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
    }

    private static Integer valueOf(LpmTrieMap m, byte[] key) {
        byte[] v = m.lookupUser(key);
        return v == null ? null : MapTesting.readIntLe(v);
    }

    private LpmTrieMap routes() {
        LpmTrieMap m = trie(8, 16);
        assertEquals(0, m.updateUser(v4(8, 10, 0, 0, 0), u32(8), 0));
        assertEquals(0, m.updateUser(v4(16, 10, 1, 0, 0), u32(16), 0));
        assertEquals(0, m.updateUser(v4(24, 10, 1, 2, 0), u32(24), 0));
        assertEquals(0, m.updateUser(v4(0, 0, 0, 0, 0), u32(0), 0));
        return m;
    }

    @Test
    void longestPrefixWins() {
        LpmTrieMap m = routes();
        assertEquals(24, valueOf(m, v4(32, 10, 1, 2, 3)));
        assertEquals(24, valueOf(m, v4(32, 10, 1, 2, 255)));
        assertEquals(16, valueOf(m, v4(32, 10, 1, 3, 4)));
        assertEquals(16, valueOf(m, v4(32, 10, 1, 255, 0)));
        assertEquals(8, valueOf(m, v4(32, 10, 2, 0, 1)));
        assertEquals(8, valueOf(m, v4(32, 10, 255, 2, 3)));
        assertEquals(0, valueOf(m, v4(32, 11, 1, 2, 3)), "the default route");
        assertEquals(0, valueOf(m, v4(32, 192, 168, 0, 1)));
        assertEquals(4, m.count());
    }

    @Test
    void theKeysPrefixLengthBoundsTheMatch() {
        LpmTrieMap m = routes();
        assertEquals(16, valueOf(m, v4(23, 10, 1, 2, 3)), "a /24 is longer than the key's 23 bits");
        assertEquals(24, valueOf(m, v4(24, 10, 1, 2, 3)));
        assertEquals(8, valueOf(m, v4(15, 10, 1, 2, 3)));
        assertEquals(0, valueOf(m, v4(7, 10, 1, 2, 3)));
        assertEquals(null, valueOf(m, v4(33, 10, 1, 2, 3)), "a prefixlen above 32 matches nothing (trie_lookup_elem; checked against Linux 6.18 by the map suite)");
    }

    @Test
    void withoutADefaultRouteAMissIsAbsent() {
        LpmTrieMap m = routes();
        assertEquals(0, m.deleteUser(v4(0, 0, 0, 0, 0)));
        assertNull(m.lookupUser(v4(32, 11, 0, 0, 1)));
        assertEquals(0, m.lookup(mem(arena, v4(32, 11, 0, 0, 1)), 0));
        assertEquals(8, valueOf(m, v4(32, 10, 9, 9, 9)));
    }

    @Test
    void prefixesNeedNotBeWholeBytes() {
        LpmTrieMap m = trie(8, 8);
        assertEquals(0, m.updateUser(v4(20, 192, 168, 0, 0), u32(20), 0));
        assertEquals(0, m.updateUser(v4(23, 192, 168, 14, 0), u32(23), 0));
        assertEquals(20, valueOf(m, v4(32, 192, 168, 12, 255)), "192.168.0.0/20 covers 192.168.0-15.x");
        assertNull(m.lookupUser(v4(32, 192, 168, 16, 0)));
        assertEquals(23, valueOf(m, v4(32, 192, 168, 14, 7)), "192.168.14.0/23 covers 14-15");
        assertEquals(23, valueOf(m, v4(32, 192, 168, 15, 7)));
        assertEquals(20, valueOf(m, v4(32, 192, 168, 13, 7)));
    }

    @Test
    void updateAndDeleteActOnTheExactPrefix() {
        LpmTrieMap m = routes();
        assertEquals(0, m.deleteUser(v4(16, 10, 1, 0, 0)));
        assertEquals(24, valueOf(m, v4(32, 10, 1, 2, 3)));
        assertEquals(8, valueOf(m, v4(32, 10, 1, 3, 4)), "the /16 is gone, the /8 stays");
        assertEquals(-2, m.deleteUser(v4(16, 10, 1, 0, 0)), "-ENOENT");
        assertEquals(-2, m.deleteUser(v4(9, 10, 0, 0, 0)), "a /9 was never stored");
        assertEquals(-22, m.deleteUser(v4(33, 10, 0, 0, 0)), "prefixlen above 32: -EINVAL");
        // Bits past the prefix length do not matter: 10.1.2.99/24 is 10.1.2.0/24.
        assertEquals(0, m.updateUser(v4(24, 10, 1, 2, 99), u32(240), BpfMaps.BPF_EXIST));
        assertEquals(240, valueOf(m, v4(32, 10, 1, 2, 3)));
        assertEquals(0, m.deleteUser(v4(24, 10, 1, 2, 200)));
        assertEquals(8, valueOf(m, v4(32, 10, 1, 2, 3)));
    }

    @Test
    void flagsAndCapacity() {
        LpmTrieMap m = trie(8, 2);
        assertEquals(-22, m.updateUser(v4(33, 1, 2, 3, 4), u32(1), 0), "prefixlen above (key_size - 4) * 8");
        assertEquals(-22, m.updateUser(v4(8, 1, 0, 0, 0), u32(1), 3));
        assertEquals(-22, m.updateUser(v4(8, 1, 0, 0, 0), u32(1), BpfMaps.BPF_F_LOCK));
        assertEquals(-2, m.updateUser(v4(8, 1, 0, 0, 0), u32(1), BpfMaps.BPF_EXIST));
        assertEquals(0, m.updateUser(v4(8, 1, 0, 0, 0), u32(1), BpfMaps.BPF_NOEXIST));
        assertEquals(-17, m.updateUser(v4(8, 1, 0, 0, 0), u32(2), BpfMaps.BPF_NOEXIST));
        assertEquals(0, m.updateUser(v4(8, 2, 0, 0, 0), u32(2), 0));
        assertEquals(-28, m.updateUser(v4(8, 3, 0, 0, 0), u32(3), 0), "full: -ENOSPC");
        assertEquals(0, m.updateUser(v4(8, 2, 0, 0, 0), u32(22), 0), "replacing in a full trie works");
        assertEquals(22, valueOf(m, v4(32, 2, 5, 5, 5)));
        assertEquals(0, m.deleteUser(v4(8, 1, 0, 0, 0)));
        assertEquals(0, m.updateUser(v4(8, 3, 0, 0, 0), u32(3), 0), "its slot is free again");
        assertEquals(3, valueOf(m, v4(32, 3, 0, 0, 1)));
        assertEquals(22, valueOf(m, v4(32, 2, 0, 0, 1)));
    }

    @Test
    void lookupReturnsAnAddressInTheValueRegion() {
        LpmTrieMap m = routes();
        long addr = m.lookup(mem(arena, v4(32, 10, 1, 2, 3)), 0);
        assertNotEquals(0, addr);
        assertEquals(24, readInt(addr));
        assertTrue(m.regions().getFirst().contains(addr, 4));
        assertEquals("map value routes", m.regions().getFirst().name());
        assertEquals(0, m.update(mem(arena, v4(24, 10, 1, 2, 0)), mem(arena, u32(25)), BpfMaps.BPF_ANY, 0));
        assertEquals(25, readInt(addr), "a replaced value stays in its slot");
    }

    @Test
    void keysComeMoreSpecificFirst() {
        LpmTrieMap m = routes();
        assertEquals(0, m.updateUser(v4(16, 192, 168, 0, 0), u32(1), 0));
        assertEquals(0, m.updateUser(v4(24, 10, 1, 1, 0), u32(1), 0));
        List<byte[]> keys = m.keys();
        // Post-order over the trie (Linux's trie_get_next_key): children (bit 0, then bit 1)
        // before their parent; 10.x starts with bit 0, 192.x with bit 1; 0/0 contains all.
        List<byte[]> expected = List.of(v4(24, 10, 1, 1, 0), v4(24, 10, 1, 2, 0), v4(16, 10, 1, 0, 0),
                v4(8, 10, 0, 0, 0), v4(16, 192, 168, 0, 0), v4(0, 0, 0, 0, 0));
        assertEquals(expected.size(), keys.size());
        for (int i = 0; i < keys.size(); i++) {
            assertArrayEquals(expected.get(i), keys.get(i), "key " + i);
        }
    }

    @Test
    void keysKeepTheDataAsWritten() {
        LpmTrieMap m = trie(8, 4);
        assertEquals(0, m.updateUser(v4(8, 10, 1, 2, 3), u32(1), 0));
        assertArrayEquals(v4(8, 10, 1, 2, 3), m.keys().getFirst());
        assertEquals(1, valueOf(m, v4(32, 10, 200, 0, 1)));
    }

    @Test
    void ipv6Keys() {
        LpmTrieMap m = trie(20, 4);
        assertEquals(128, m.maxPrefixLen());
        byte[] net = new byte[16];
        net[0] = 0x20;
        net[1] = 0x01;
        net[2] = 0x0d;
        net[3] = (byte) 0xb8;
        assertEquals(0, m.updateUser(MapTesting.concat(u32(32), net), u32(32), 0));
        byte[] host = net.clone();
        host[15] = 1;
        assertEquals(0, m.updateUser(MapTesting.concat(u32(128), host), u32(128), 0));
        assertEquals(128, valueOf(m, MapTesting.concat(u32(128), host)));
        byte[] other = net.clone();
        other[15] = 2;
        assertEquals(32, valueOf(m, MapTesting.concat(u32(128), other)));
        assertEquals(-22, m.updateUser(MapTesting.concat(u32(129), host), u32(0), 0));
    }

    @Test
    void creationRequiresNoPrealloc() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BpfMaps.create(MapDef.of("t", MapType.LPM_TRIE, 8, 4, 4, 0), 1, arena));
        assertTrue(e.getMessage().contains("BPF_F_NO_PREALLOC"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BpfMaps.create(
                MapDef.of("t", MapType.LPM_TRIE, 4, 4, 4, BpfMaps.BPF_F_NO_PREALLOC), 1, arena), "no data byte");
        assertThrows(IllegalArgumentException.class, () -> BpfMaps.create(
                MapDef.of("t", MapType.LPM_TRIE, 261, 4, 4, BpfMaps.BPF_F_NO_PREALLOC), 1, arena), "over 256 data bytes");
        assertThrows(IllegalArgumentException.class, () -> trie(8, 4).lookupUser(new byte[4]));
    }

    /**
     * The native index's hash spreads prefixes whose data sits only in the high bits (IPv4 /24s,
     * data[3] = 0) over the whole index, so linear probing stays short: 2,000 random /24s in an
     * index of 8,192 entries, the size max_entries 2,000 gets. A hash that let the mask see only
     * the low product bits started them at 32 distinct entries, about 32 probes a lookup.
     */
    @Test
    void nativeHashSpreadsIpv4Slash24s() {
        java.util.Random rnd = new java.util.Random(24);
        java.util.Set<Long> prefixes = new java.util.HashSet<>();
        while (prefixes.size() < 2_000) {
            prefixes.add((long) rnd.nextInt(1 << 24) << 40);
        }
        long mask = 8_191;
        java.util.Set<Long> starts = new java.util.HashSet<>();
        java.util.Set<Long> taken = new java.util.HashSet<>();
        long probes = 0;
        for (long bits : prefixes) {
            long i = LpmTrieMap.nativeHash(bits, 24) & mask;
            starts.add(i);
            for (probes++; !taken.add(i); probes++) {
                i = (i + 1) & mask;
            }
        }
        assertTrue(starts.size() > 1_500, "distinct first entries: " + starts.size());
        assertTrue(probes < 2_000 * 2, "probes to insert all: " + probes);
    }
}
