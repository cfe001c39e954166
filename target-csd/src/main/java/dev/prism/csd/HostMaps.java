package dev.prism.csd;

import dev.prism.error.TargetException;
import dev.prism.program.MapDef;
import dev.prism.program.Program;
import dev.prism.runtime.MapSetAccess;
import dev.prism.runtime.Region;
import dev.prism.runtime.maps.ArrayMap;
import dev.prism.runtime.maps.BpfMap;
import dev.prism.runtime.maps.BpfMaps;
import dev.prism.runtime.maps.HashTableMap;
import dev.prism.target.MapAccess;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The maps of host firmware: Prism's off-heap maps (one CPU) and the two tables the runtime
 * block points to, {@code maps} (map index -&gt; the handle lddw map_idx yields: an ARRAY's
 * element 0, a hash map's table block, else a token only helpers take) and {@code values}
 * (an ARRAY's element 0 for lddw map_value, else 0). Several kernels may share one set (a raw
 * program built per memory size keeps one set of maps).
 */
final class HostMaps implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final Program program;
    final List<BpfMap> maps = new ArrayList<>();
    final long[] handles;
    final MemorySegment handleTable;
    final MemorySegment valueTable;
    final List<Region> regions = new ArrayList<>();
    final List<BpfMap> regionOwner = new ArrayList<>();

    HostMaps(Program program) {
        this.program = program;
        try {
            List<MapDef> defs = program.maps();
            handles = new long[defs.size()];
            handleTable = arena.allocate(8L * Math.max(1, defs.size()), 8);
            valueTable = arena.allocate(8L * Math.max(1, defs.size()), 8);
            for (int i = 0; i < defs.size(); i++) {
                BpfMap m;
                try {
                    m = BpfMaps.create(defs.get(i), 1, arena);
                } catch (IllegalArgumentException e) {
                    throw new TargetException("cannot create the maps: " + e.getMessage(), e);
                }
                maps.add(m);
                handles[i] = switch (m) {
                    case ArrayMap a -> a.valuesAddress();
                    case HashTableMap h -> h.address();
                    default -> arena.allocate(8, 8).address();
                };
                handleTable.setAtIndex(ValueLayout.JAVA_LONG, i, handles[i]);
                valueTable.setAtIndex(ValueLayout.JAVA_LONG, i, m instanceof ArrayMap a ? a.valuesAddress() : 0);
                for (Region r : m.regions()) {
                    regions.add(r);
                    regionOwner.add(m);
                }
            }
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    BpfMap byHandle(long handle) {
        for (int i = 0; i < handles.length; i++) {
            if (handles[i] == handle) {
                return maps.get(i);
            }
        }
        throw new IllegalStateException(String.format("0x%x is not a map of this program", handle));
    }

    BpfMap owning(long address) {
        for (int i = 0; i < regions.size(); i++) {
            if (regions.get(i).contains(address, 1)) {
                return regionOwner.get(i);
            }
        }
        throw new IllegalStateException(String.format("0x%x is not in any map's memory", address));
    }

    MapAccess access() {
        return new MapSetAccess(maps, List.of(program));
    }

    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            maps.forEach(BpfMap::close);
            arena.close();
        }
    }
}
