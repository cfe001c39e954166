package dev.prism.runtime.maps;

import static dev.prism.runtime.maps.MapTesting.mem;
import static dev.prism.runtime.maps.MapTesting.u32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MapOfMapsTest {
    private final Arena arena = Arena.ofShared();
    private static final MapDef TEMPLATE = MapDef.of("t", MapType.ARRAY, 4, 8, 4, 0);

    @AfterEach
    void close() {
        arena.close();
    }

    /** maps: 0 = inner a, 1 = inner b, 2 = wrong shape, 3 = outer (slot 2 initialized with b) */
    private List<BpfMap> object(MapType outerType) {
        List<BpfMap> maps = new ArrayList<>();
        maps.add(BpfMaps.create(MapDef.of("a", MapType.ARRAY, 4, 8, 4, 0), 1, arena));
        maps.add(BpfMaps.create(MapDef.of("b", MapType.ARRAY, 4, 8, 4, 0), 1, arena));
        maps.add(BpfMaps.create(MapDef.of("c", MapType.ARRAY, 4, 8, 5, 0), 1, arena));
        maps.add(BpfMaps.create(MapDef.ofMaps("outer", outerType, 4, 4, 0,
                new MapDef.Inner(TEMPLATE, new TreeMap<>(Map.of(2, "b")))), 1, arena));
        // handles as a runtime would give them: 1000 + index
        dev.prism.runtime.RunExtras.bindMapsInMaps(maps, m -> 1000 + maps.indexOf(m));
        return maps;
    }

    @Test
    void arrayOfMapsLookupGivesTheInnerHandle() {
        List<BpfMap> maps = object(MapType.ARRAY_OF_MAPS);
        MapOfMaps outer = (MapOfMaps) maps.get(3);
        assertEquals(1001, outer.lookup(mem(arena, u32(2)), 0), "slot 2 holds b from the initializer");
        assertEquals(0, outer.lookup(mem(arena, u32(1)), 0), "an empty slot");
        assertEquals(0, outer.lookup(mem(arena, u32(4)), 0), "past max_entries");
        // the JIT's inlined lookup reads the handle at handlesAddress + 8 * index
        assertEquals(1001, MemorySegment.ofAddress(outer.handlesAddress() + 16).reinterpret(8).get(ValueLayout.JAVA_LONG, 0));
        assertSame(maps.get(1), outer.innerAt(u32(2)));
        assertArrayEquals(u32(1), outer.lookupUser(u32(2)), "user space sees the inner map's index");
        assertNull(outer.lookupUser(u32(0)));
    }

    @Test
    void userSpacePutsAndRemovesInnerMaps() {
        List<BpfMap> maps = object(MapType.ARRAY_OF_MAPS);
        MapOfMaps outer = (MapOfMaps) maps.get(3);
        assertEquals(0, outer.updateUser(u32(0), u32(0), BpfMaps.BPF_ANY));
        assertEquals(1000, outer.lookup(mem(arena, u32(0)), 0));
        assertEquals(-MapErrno.EINVAL, outer.updateUser(u32(1), u32(2), BpfMaps.BPF_ANY),
                "c has 5 entries, the template 4 (array_map_meta_equal)");
        assertEquals(-MapOfMaps.EBADF, outer.updateUser(u32(1), u32(9), BpfMaps.BPF_ANY), "no map 9");
        assertEquals(-MapErrno.EINVAL, outer.updateUser(u32(1), u32(3), BpfMaps.BPF_ANY), "not itself");
        assertEquals(-MapErrno.EEXIST, outer.updateUser(u32(1), u32(0), BpfMaps.BPF_NOEXIST), "array slots always exist");
        assertEquals(-MapErrno.E2BIG, outer.updateUser(u32(4), u32(0), BpfMaps.BPF_ANY));
        assertEquals(0, outer.delete(mem(arena, u32(0))));
        assertEquals(-MapErrno.ENOENT, outer.delete(mem(arena, u32(0))), "already empty");
        assertEquals(0, outer.lookup(mem(arena, u32(0)), 0));
        assertEquals(-MapErrno.EINVAL, outer.update(mem(arena, u32(0)), mem(arena, u32(0)), 0, 0),
                "programs do not write map-in-maps");
    }

    @Test
    void hashOfMapsHoldsOnlyItsKeys() {
        List<BpfMap> maps = object(MapType.HASH_OF_MAPS);
        MapOfMaps outer = (MapOfMaps) maps.get(3);
        assertEquals(1001, outer.lookup(mem(arena, u32(2)), 0));
        assertEquals(1, outer.keys().size());
        assertEquals(-MapErrno.ENOENT, outer.updateUser(u32(7), u32(0), BpfMaps.BPF_EXIST));
        assertEquals(0, outer.updateUser(u32(7), u32(0), BpfMaps.BPF_NOEXIST));
        assertEquals(-MapErrno.EEXIST, outer.updateUser(u32(7), u32(1), BpfMaps.BPF_NOEXIST));
        assertEquals(1000, outer.lookup(mem(arena, u32(7)), 0));
        assertEquals(0, outer.delete(mem(arena, u32(7))));
        assertNull(outer.innerAt(u32(7)));
    }

    @Test
    void anInitializerThatDoesNotFitIsRefused() {
        List<BpfMap> maps = new ArrayList<>();
        maps.add(BpfMaps.create(MapDef.of("c", MapType.ARRAY, 4, 8, 5, 0), 1, arena));
        maps.add(BpfMaps.create(MapDef.ofMaps("outer", MapType.ARRAY_OF_MAPS, 4, 4, 0,
                new MapDef.Inner(TEMPLATE, new TreeMap<>(Map.of(0, "c")))), 1, arena));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> dev.prism.runtime.RunExtras.bindMapsInMaps(maps, m -> 1));
        assertEquals("map outer: cannot put map 'c' in slot 0 (errno 22)", e.getMessage());
    }

    @Test
    void innerMapFlagsRelaxArraySizes() {
        MapDef.Inner relaxed = new MapDef.Inner(MapDef.of("t", MapType.ARRAY, 4, 8, 4, BpfMaps.BPF_F_INNER_MAP), new TreeMap<>());
        assertNull(relaxed.mismatch(MapDef.of("big", MapType.ARRAY, 4, 8, 100, BpfMaps.BPF_F_INNER_MAP)));
        assertEquals("array big has max_entries 100, the inner map template 4 (and no BPF_F_INNER_MAP)",
                new MapDef.Inner(TEMPLATE, new TreeMap<>()).mismatch(MapDef.of("big", MapType.ARRAY, 4, 8, 100, 0)));
    }
}
