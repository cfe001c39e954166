package dev.prism.runtime.maps;

import static dev.prism.runtime.maps.MapTesting.mem;
import static dev.prism.runtime.maps.MapTesting.u32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ProgArrayMapTest {
    private final Arena arena = Arena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    private ProgArrayMap jumps(int max) {
        return (ProgArrayMap) BpfMaps.create(MapDef.of("jmp", MapType.PROG_ARRAY, 4, 4, max, 0), 1, arena);
    }

    @Test
    void slotsHoldPrograms() {
        ProgArrayMap m = jumps(4);
        Object p = new Object();
        assertNull(m.get(1));
        m.set(1, p);
        assertSame(p, m.get(1));
        assertNull(m.get(4), "past max_entries: the tail call falls through");
        assertNull(m.get(-1), "the index is a u32");
        assertThrows(IllegalArgumentException.class, () -> m.set(4, p));
        m.set(1, null);
        assertNull(m.get(1));
    }

    @Test
    void deleteFollowsFdArrayMapDeleteElem() {
        ProgArrayMap m = jumps(4);
        m.set(2, "prog");
        assertEquals(-7, m.delete(mem(arena, u32(4))), "index past max_entries: -E2BIG");
        assertEquals(-2, m.delete(mem(arena, u32(1))), "empty slot: -ENOENT");
        assertEquals(0, m.deleteUser(u32(2)));
        assertNull(m.get(2));
        assertEquals(-2, m.delete(mem(arena, u32(2))));
    }

    @Test
    void programsCannotLookUpOrUpdate() {
        ProgArrayMap m = jumps(2);
        m.set(0, "prog");
        assertEquals(0, m.lookup(mem(arena, u32(0)), 0));
        assertEquals(-22, m.update(mem(arena, u32(0)), mem(arena, u32(3)), 0, 0));
        assertThrows(UnsupportedOperationException.class, () -> m.lookupUser(u32(0)));
        assertThrows(UnsupportedOperationException.class, () -> m.updateUser(u32(0), u32(3), 0));
        assertTrue(m.regions().isEmpty());
        List<byte[]> keys = m.keys();
        assertEquals(2, keys.size());
        assertArrayEquals(u32(1), keys.get(1));
    }

    @Test
    void creationChecksSizes() {
        assertThrows(IllegalArgumentException.class,
                () -> BpfMaps.create(MapDef.of("j", MapType.PROG_ARRAY, 4, 8, 2, 0), 1, arena));
        assertThrows(IllegalArgumentException.class,
                () -> BpfMaps.create(MapDef.of("j", MapType.PROG_ARRAY, 8, 4, 2, 0), 1, arena));
        assertThrows(IllegalArgumentException.class, () -> BpfMaps.create(
                MapDef.of("j", MapType.PROG_ARRAY, 4, 4, 2, BpfMaps.BPF_F_MMAPABLE), 1, arena));
    }
}
