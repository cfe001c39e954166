package dev.prism.runtime.maps;

import static dev.prism.runtime.maps.MapTesting.at;
import static dev.prism.runtime.maps.MapTesting.mem;
import static dev.prism.runtime.maps.MapTesting.read;
import static dev.prism.runtime.maps.MapTesting.readLong;
import static dev.prism.runtime.maps.MapTesting.u32;
import static dev.prism.runtime.maps.MapTesting.u64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.runtime.Region;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ArrayMapTest {
    private final Arena arena = Arena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    private ArrayMap array(int valueSize, int maxEntries) {
        return (ArrayMap) BpfMaps.create(MapDef.of("a", MapType.ARRAY, 4, valueSize, maxEntries, 0), 1, arena);
    }

    private MemorySegment key(int index) {
        return mem(arena, u32(index));
    }

    @Test
    void elementsStartZeroAndLieAtIndexTimesStride() {
        ArrayMap m = array(12, 5);
        assertEquals(16, m.stride(), "round_up(12, 8)");
        for (int i = 0; i < 5; i++) {
            long addr = m.lookup(key(i), 0);
            assertEquals(m.valuesAddress() + 16L * i, addr);
            assertArrayEquals(new byte[12], read(addr, 12));
        }
    }

    @Test
    void updateIsVisibleThroughLookupAddressAndUserLookup() {
        ArrayMap m = array(8, 4);
        assertEquals(0, m.update(key(2), mem(arena, u64(0x1122334455667788L)), BpfMaps.BPF_ANY, 0));
        assertEquals(0x1122334455667788L, readLong(m.lookup(key(2), 0)));
        assertArrayEquals(u64(0x1122334455667788L), m.lookupUser(u32(2)));
        assertArrayEquals(new byte[8], m.lookupUser(u32(1)), "neighbours untouched");
        // A store through the returned address is the map's value.
        at(m.lookup(key(3), 0), 8).set(ValueLayout.JAVA_LONG, 0, 42L);
        assertArrayEquals(u64(42), m.lookupUser(u32(3)));
    }

    @Test
    void flagsFollowArrayMapUpdateElem() {
        ArrayMap m = array(4, 2);
        MemorySegment v = mem(arena, u32(7));
        assertEquals(0, m.update(key(0), v, 0, 0), "BPF_ANY");
        assertEquals(0, m.update(key(0), v, 2, 0), "BPF_EXIST: every element exists");
        assertEquals(-17, m.update(key(0), v, 1, 0), "BPF_NOEXIST: -EEXIST");
        assertEquals(-22, m.update(key(0), v, 3, 0), "unknown flag combination");
        assertEquals(-22, m.update(key(0), v, 4, 0), "BPF_F_LOCK without a spin lock");
        assertEquals(-17, m.update(key(0), v, 5, 0), "NOEXIST|F_LOCK: EEXIST is checked first");
        assertEquals(-22, m.update(key(0), v, 8, 0));
        assertEquals(-22, m.update(key(0), v, -1L, 0), "flags are a u64");
        assertEquals(-22, m.updateUser(u32(0), u32(7), 4), "the syscall refuses BPF_F_LOCK first");
        assertEquals(-17, m.updateUser(u32(0), u32(7), 1));
    }

    @Test
    void indexAtOrPastMaxEntries() {
        ArrayMap m = array(4, 3);
        MemorySegment v = mem(arena, u32(1));
        assertEquals(0, m.lookup(key(3), 0));
        assertEquals(0, m.lookup(key(-1), 0), "the index is a u32: 0xffffffff");
        assertEquals(-7, m.update(key(3), v, 0, 0), "array_map_update_elem: -E2BIG");
        assertEquals(-7, m.update(key(3), v, 1, 0), "E2BIG is checked before NOEXIST");
        assertEquals(-22, m.update(key(3), v, 3, 0), "flags are checked before the index");
        assertNull(m.lookupUser(u32(3)));
        assertEquals(-7, m.updateUser(u32(3), u32(1), 0));
    }

    @Test
    void deleteIsInvalid() {
        ArrayMap m = array(4, 3);
        assertEquals(-22, m.delete(key(0)));
        assertEquals(-22, m.deleteUser(u32(0)));
    }

    @Test
    void globalDataInitializesElementZero() {
        MapDef def = new MapDef(".data", MapType.ARRAY, 4, 6, 1, 0, new byte[] {1, 2, 3}, false);
        ArrayMap m = (ArrayMap) BpfMaps.create(def, 1, arena);
        assertArrayEquals(new byte[] {1, 2, 3, 0, 0, 0}, m.lookupUser(u32(0)));
    }

    @Test
    void keysAreEveryIndexInOrder() {
        List<byte[]> keys = array(4, 3).keys();
        assertEquals(3, keys.size());
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(u32(i), keys.get(i));
        }
    }

    @Test
    void regionCoversTheValuesAndIsReadOnlyForRodata() {
        ArrayMap m = array(12, 5);
        Region r = m.regions().getFirst();
        assertEquals("map value a", r.name());
        assertEquals(m.valuesAddress(), r.base());
        assertEquals(5 * 16, r.segment().byteSize());
        assertTrue(r.writable());
        assertTrue(r.contains(m.lookup(key(4), 0), 12));
        MapDef ro = new MapDef(".rodata", MapType.ARRAY, 4, 8, 1, BpfMaps.BPF_F_RDONLY_PROG, new byte[] {9}, true);
        assertFalse(BpfMaps.create(ro, 1, arena).regions().getFirst().writable());
    }

    @Test
    void perCpuCopiesAreIsolated() {
        int cpus = 3;
        ArrayMap m = (ArrayMap) BpfMaps.create(MapDef.of("p", MapType.PERCPU_ARRAY, 4, 4, 2, 0), cpus, arena);
        assertEquals(8, m.stride());
        assertEquals(0, m.update(key(1), mem(arena, u32(0xabcd)), 0, 1));
        for (int c = 0; c < cpus; c++) {
            long addr = m.lookup(key(1), c);
            assertEquals(m.valuesAddress() + (c * 2L + 1) * 8, addr, "CPU c's block at c * max_entries * stride");
            assertEquals(c == 1 ? 0xabcd : 0, MapTesting.readInt(addr), "cpu " + c);
        }
        // User space sees every CPU's copy, each rounded up to 8 bytes.
        byte[] all = m.lookupUser(u32(1));
        assertEquals(cpus * 8, all.length);
        assertArrayEquals(MapTesting.concat(new byte[8], u32(0xabcd), new byte[4], new byte[8]), all);
        byte[] write = MapTesting.concat(u32(10), new byte[4], u32(11), new byte[4], u32(12), new byte[4]);
        assertEquals(0, m.updateUser(u32(0), write, 0));
        for (int c = 0; c < cpus; c++) {
            assertEquals(10 + c, MapTesting.readInt(m.lookup(key(0), c)));
        }
        assertEquals(-17, m.updateUser(u32(0), write, 1));
        assertEquals(-7, m.updateUser(u32(2), write, 0));
        assertThrows(IllegalArgumentException.class, () -> m.updateUser(u32(0), u32(1), 0), "needs cpus * 8 bytes");
        assertThrows(IllegalArgumentException.class, () -> m.lookup(key(0), 3), "no cpu 3");
        assertEquals(cpus * 2 * 8, m.regions().getFirst().segment().byteSize());
    }

    @Test
    void sizesAreChecked() {
        ArrayMap m = array(8, 2);
        assertThrows(IllegalArgumentException.class, () -> m.lookupUser(new byte[3]));
        assertThrows(IllegalArgumentException.class, () -> m.updateUser(u32(0), new byte[7], 0));
        assertThrows(IllegalArgumentException.class, () -> m.update(key(0), mem(arena, new byte[4]), 0, 0));
        assertThrows(IllegalArgumentException.class, () -> m.lookup(mem(arena, new byte[2]), 0));
    }

    @Test
    void creationIsCheckedAsLinux() {
        assertThrows(IllegalArgumentException.class,
                () -> BpfMaps.create(MapDef.of("k", MapType.ARRAY, 8, 4, 1, 0), 1, arena), "key size must be 4");
        assertThrows(IllegalArgumentException.class,
                () -> BpfMaps.create(MapDef.of("v", MapType.ARRAY, 4, 0, 1, 0), 1, arena), "value size 0");
        assertThrows(IllegalArgumentException.class,
                () -> BpfMaps.create(MapDef.of("f", MapType.ARRAY, 4, 4, 1, BpfMaps.BPF_F_NO_PREALLOC), 1, arena));
        assertThrows(IllegalArgumentException.class, () -> BpfMaps.create(
                MapDef.of("m", MapType.PERCPU_ARRAY, 4, 4, 1, BpfMaps.BPF_F_MMAPABLE), 2, arena));
        assertThrows(IllegalArgumentException.class,
                () -> BpfMaps.create(MapDef.of("big", MapType.PERCPU_ARRAY, 4, 32769, 1, 0), 1, arena));
        assertThrows(IllegalArgumentException.class,
                () -> BpfMaps.create(MapDef.of("huge", MapType.ARRAY, 4, 1 << 20, 1 << 12, 0), 1, arena), "4 GiB");
        BpfMaps.create(MapDef.of("ok", MapType.ARRAY, 4, 4, 1, BpfMaps.BPF_F_MMAPABLE | BpfMaps.BPF_F_RDONLY_PROG), 1, arena);
    }
}
