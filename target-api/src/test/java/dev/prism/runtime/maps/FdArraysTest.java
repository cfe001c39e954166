package dev.prism.runtime.maps;

import static dev.prism.runtime.maps.MapTesting.mem;
import static dev.prism.runtime.maps.MapTesting.u32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** fd_array_map_delete_elem's rules, shared by prog_array, perf_event_array and array_of_maps (kernel/bpf/arraymap.c). */
class FdArraysTest {
    private final Arena arena = Arena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    private BpfMap[] fdArrays() {
        return new BpfMap[] {
            BpfMaps.create(MapDef.of("p", MapType.PROG_ARRAY, 4, 4, 3, 0), 1, arena),
            BpfMaps.create(MapDef.of("e", MapType.PERF_EVENT_ARRAY, 4, 4, 3, 0), 1, arena),
            BpfMaps.create(MapDef.ofMaps("o", MapType.ARRAY_OF_MAPS, 4, 3, 0,
                    new MapDef.Inner(MapDef.of("t", MapType.ARRAY, 4, 8, 4, 0), new TreeMap<>())), 1, arena),
        };
    }

    @Test
    void deletePastMaxEntriesIsE2big() {
        for (BpfMap m : fdArrays()) {
            assertEquals(-MapErrno.E2BIG, m.delete(mem(arena, u32(3))), m.def().type() + ": index == max_entries");
            assertEquals(-MapErrno.E2BIG, m.delete(mem(arena, u32(-1))), m.def().type() + ": the index is a u32");
        }
    }

    @Test
    void deletingAnEmptySlotIsEnoent() {
        ProgArrayMap p = (ProgArrayMap) fdArrays()[0];
        assertEquals(-MapErrno.ENOENT, p.delete(mem(arena, u32(1))), "never filled");
        p.set(1, "prog");
        assertEquals(0, p.delete(mem(arena, u32(1))));
        assertEquals(-MapErrno.ENOENT, p.delete(mem(arena, u32(1))), "emptied already");
        // perf_event_array slots start with the event of their CPU
        BpfMap e = fdArrays()[1];
        assertEquals(0, e.delete(mem(arena, u32(2))));
        assertEquals(-MapErrno.ENOENT, e.delete(mem(arena, u32(2))));
    }

    @Test
    void keysAreEveryIndex() {
        for (BpfMap m : fdArrays()) {
            List<byte[]> keys = m.keys();
            assertEquals(3, keys.size(), m.def().type().id());
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(u32(i), keys.get(i), m.def().type() + " key " + i);
            }
        }
    }
}
