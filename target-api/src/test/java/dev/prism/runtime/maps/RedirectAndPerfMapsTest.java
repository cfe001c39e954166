package dev.prism.runtime.maps;

import static dev.prism.runtime.maps.MapTesting.mem;
import static dev.prism.runtime.maps.MapTesting.u32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RedirectAndPerfMapsTest {
    private final Arena arena = Arena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    private RedirectMap map(MapType t, int value, int max) {
        return (RedirectMap) BpfMaps.create(MapDef.of("m", t, 4, value, max, 0), 1, arena);
    }

    /** {@return slot k's word in the map's off-heap table} */
    private static long word(RedirectMap m, long k) {
        return java.lang.foreign.MemorySegment.ofAddress(m.tableAddress()).reinterpret(8 * (k + 1))
                .get(java.lang.foreign.ValueLayout.JAVA_LONG, 8 * k);
    }

    /** The table JIT code reads follows every update and delete, and says what {@link RedirectMap#target} says. */
    @Test
    void arrayTypesKeepTheirTargetsInTheTable() {
        java.util.Random rnd = new java.util.Random(7);
        for (MapType t : new MapType[] {MapType.DEVMAP, MapType.CPUMAP, MapType.XSKMAP}) {
            RedirectMap m = map(t, 4, 8);
            assertTrue(m.tableAddress() != 0, t.id());
            for (int step = 0; step < 500; step++) {
                long k = rnd.nextInt(10);
                if (rnd.nextInt(3) == 0) {
                    m.delete(mem(arena, u32((int) k)));
                } else {
                    m.updateUser(u32((int) k), u32(rnd.nextInt(4) == 0 ? 0 : 1 + rnd.nextInt(100)), BpfMaps.BPF_ANY);
                }
                for (long s = 0; s < 8; s++) {
                    Long target = m.target(s);
                    long w = word(m, s);
                    if (target == null) {
                        assertEquals(0, w, t.id() + " slot " + s);
                    } else {
                        dev.prism.target.RunResult.Redirect r = RedirectMap.redirect(w, "m");
                        assertEquals(target, r.target(), t.id() + " slot " + s);
                        assertEquals(t == MapType.CPUMAP ? "CPU" : t == MapType.XSKMAP ? "QUEUE" : "IFINDEX", r.kind().name());
                    }
                }
            }
        }
        assertEquals(0, map(MapType.DEVMAP_HASH, 4, 8).tableAddress(), "devmap_hash redirects go through Java");
    }

    @Test
    void devmapTargetsAreTheIfindexInTheValue() {
        RedirectMap d = map(MapType.DEVMAP, 4, 4);
        assertNull(d.target(1));
        assertEquals(0, d.updateUser(u32(1), u32(7), BpfMaps.BPF_ANY));
        assertEquals(7L, d.target(1));
        assertEquals(7L, d.target(0x1_0000_0001L), "the key is a u32");
        assertEquals(-MapErrno.EINVAL, d.updateUser(u32(2), u32(0), BpfMaps.BPF_ANY), "ifindex 0 is no device");
        assertEquals(-MapErrno.E2BIG, d.updateUser(u32(4), u32(7), BpfMaps.BPF_ANY));
        assertEquals(4, d.keys().size(), "an array's get_next_key walks every index");
        assertEquals(0, d.delete(mem(arena, u32(1))));
        assertNull(d.target(1));
    }

    @Test
    void devmapHashHoldsKeysUpToMaxEntries() {
        RedirectMap d = map(MapType.DEVMAP_HASH, 8, 2);
        assertEquals(0, d.updateUser(u32(100), new byte[] {3, 0, 0, 0, -1, -1, -1, -1}, BpfMaps.BPF_ANY));
        assertEquals(0, d.updateUser(u32(200), new byte[] {4, 0, 0, 0, 0, 0, 0, 0}, BpfMaps.BPF_ANY));
        assertEquals(-MapErrno.E2BIG, d.updateUser(u32(300), new byte[] {5, 0, 0, 0, 0, 0, 0, 0}, BpfMaps.BPF_ANY));
        assertEquals(-MapErrno.EINVAL, d.updateUser(u32(100), new byte[] {5, 0, 0, 0, 9, 0, 0, 0}, BpfMaps.BPF_ANY),
                "a devmap program (fd 9) is not supported");
        assertEquals(3L, d.target(100));
        assertEquals(2, d.keys().size());
        assertEquals(-MapErrno.ENOENT, d.delete(mem(arena, u32(300))));
    }

    @Test
    void cpumapTargetsAreTheKeyAndQueueSizeZeroEmpties() {
        RedirectMap c = map(MapType.CPUMAP, 4, 2);
        assertEquals(0, c.updateUser(u32(1), u32(64), BpfMaps.BPF_ANY));
        assertEquals(1L, c.target(1));
        assertEquals(-RedirectMap.EOVERFLOW, c.updateUser(u32(0), u32(16385), BpfMaps.BPF_ANY));
        assertEquals(0, c.updateUser(u32(1), u32(0), BpfMaps.BPF_ANY));
        assertNull(c.target(1));
        assertThrows(IllegalArgumentException.class,
                () -> BpfMaps.create(MapDef.of("c", MapType.CPUMAP, 4, 4, 2, BpfMaps.BPF_F_RDONLY), 1, arena),
                "cpu_map_alloc takes BPF_F_NUMA_NODE only");
        assertThrows(IllegalArgumentException.class,
                () -> BpfMaps.create(MapDef.of("x", MapType.XSKMAP, 4, 8, 2, 0), 1, arena), "an xsk value is a 4-byte fd");
    }

    @Test
    void perfEventArrayRecordsGoToTheRunningCpusSlot() {
        PerfEventArrayMap p = (PerfEventArrayMap) BpfMaps.create(MapDef.of("ev", MapType.PERF_EVENT_ARRAY, 4, 4, 2, 0), 1, arena);
        assertEquals(0, p.output(PerfEventArrayMap.BPF_F_CURRENT_CPU, 1, new byte[] {1, 2}));
        assertEquals(0, p.output(0, 0, new byte[] {3}));
        assertEquals(-PerfEventArrayMap.EOPNOTSUPP, p.output(1, 0, new byte[] {4}), "slot 1 is CPU 1's event");
        assertEquals(-MapErrno.E2BIG, p.output(2, 0, new byte[] {5}));
        assertEquals(0, p.delete(mem(arena, u32(0))));
        assertEquals(-MapErrno.ENOENT, p.output(0, 0, new byte[] {6}), "an emptied slot");
        var records = p.drain();
        assertEquals(2, records.size());
        assertEquals(1, records.get(0).cpu());
        assertArrayEquals(new byte[] {1, 2}, records.get(0).data());
        assertArrayEquals(new byte[] {3}, records.get(1).data());
        assertTrue(p.drain().isEmpty(), "drained once");
        assertThrows(UnsupportedOperationException.class, () -> p.lookupUser(u32(0)));
    }
}
