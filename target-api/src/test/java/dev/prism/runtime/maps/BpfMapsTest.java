package dev.prism.runtime.maps;

import static dev.prism.runtime.maps.MapTesting.u32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

class BpfMapsTest {
    @Test
    void createDispatchesOnTheType() {
        try (Arena arena = Arena.ofConfined()) {
            int nopre = BpfMaps.BPF_F_NO_PREALLOC;
            assertInstanceOf(ArrayMap.class, BpfMaps.create(MapDef.of("a", MapType.ARRAY, 4, 4, 1, 0), 1, arena));
            assertInstanceOf(ArrayMap.class, BpfMaps.create(MapDef.of("a", MapType.PERCPU_ARRAY, 4, 4, 1, 0), 2, arena));
            assertInstanceOf(HashTableMap.class, BpfMaps.create(MapDef.of("h", MapType.HASH, 4, 4, 1, 0), 1, arena));
            assertInstanceOf(HashTableMap.class, BpfMaps.create(MapDef.of("h", MapType.PERCPU_HASH, 4, 4, 1, 0), 2, arena));
            assertInstanceOf(HashTableMap.class, BpfMaps.create(MapDef.of("h", MapType.LRU_HASH, 4, 4, 1, 0), 1, arena));
            assertInstanceOf(LpmTrieMap.class, BpfMaps.create(MapDef.of("l", MapType.LPM_TRIE, 8, 4, 1, nopre), 1, arena));
            assertInstanceOf(RingBufMap.class, BpfMaps.create(MapDef.of("r", MapType.RINGBUF, 0, 0, 4096, 0), 1, arena));
            assertInstanceOf(ProgArrayMap.class, BpfMaps.create(MapDef.of("p", MapType.PROG_ARRAY, 4, 4, 1, 0), 1, arena));
        }
    }

    @Test
    void perCpuUserValuesHoldEveryCpu() {
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(5 * 16, BpfMaps.create(MapDef.of("a", MapType.PERCPU_ARRAY, 4, 12, 1, 0), 5, arena).userValueSize());
            assertEquals(5 * 8, BpfMaps.create(MapDef.of("h", MapType.PERCPU_HASH, 4, 1, 1, 0), 5, arena).userValueSize());
            assertEquals(12, BpfMaps.create(MapDef.of("a", MapType.ARRAY, 4, 12, 1, 0), 5, arena).userValueSize());
        }
    }

    @Test
    void cpusMustBePositive() {
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class,
                    () -> BpfMaps.create(MapDef.of("a", MapType.PERCPU_ARRAY, 4, 4, 1, 0), 0, arena));
        }
    }

    @Test
    void closingTheArenaFreesTheMemory() {
        Arena arena = Arena.ofShared();
        BpfMap m = BpfMaps.create(MapDef.of("h", MapType.HASH, 4, 4, 8, 0), 1, arena);
        m.updateUser(u32(1), u32(2), 0);
        arena.close();
        assertThrows(IllegalStateException.class, () -> m.lookupUser(u32(1)), "the map's memory is gone");
    }
}
