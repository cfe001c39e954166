package dev.prism.csd;

import dev.prism.error.TargetException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.runtime.MapSetAccess;
import dev.prism.runtime.maps.ArrayMap;
import dev.prism.runtime.maps.BpfMap;
import dev.prism.runtime.maps.BpfMaps;
import dev.prism.target.MapAccess;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The ARRAY maps of cross-built firmware. The harness holds a device copy per loaded kernel
 * (the {@link ArrayMap} layout: max_entries elements of round_up(value_size, 8) bytes); user
 * space reads and writes a host copy, Prism's own {@link ArrayMap}s. One copy is the newest at
 * any time: before a kernel runs, the newest copy moves to its device copy (from the host, or
 * from the kernel that ran last); before user space touches a map, the device copy of the
 * kernel that ran last comes back. Several kernels of one program (a raw program built per
 * memory size) share one set this way.
 */
final class CrossMaps implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final Program program;
    private final List<BpfMap> maps = new ArrayList<>();
    /** The kernel whose device copy is the newest, or null when the host copy is. */
    private QemuFirmwareKernel newest;
    /** Kernels whose device copy is as new as the newest copy. */
    private final List<QemuFirmwareKernel> current = new ArrayList<>();

    CrossMaps(Program program) {
        this.program = program;
        try {
            for (MapDef d : program.maps()) {
                if (d.type() != MapType.ARRAY) {
                    throw TargetException.unsupported("map " + d.name() + " of type " + d.type().id()
                            + " in cross-built firmware (ARRAY only)");
                }
                try {
                    maps.add(BpfMaps.create(d, 1, arena));
                } catch (IllegalArgumentException e) {
                    throw new TargetException("cannot create the maps: " + e.getMessage(), e);
                }
            }
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** {@return per map: stride, max_entries, value_size (what the harness allocates)} */
    List<long[]> shapes() {
        List<long[]> s = new ArrayList<>();
        for (BpfMap m : maps) {
            ArrayMap a = (ArrayMap) m;
            s.add(new long[] {a.stride(), a.def().maxEntries(), a.def().valueSize()});
        }
        return s;
    }

    private MemorySegment memory(int i) {
        ArrayMap a = (ArrayMap) maps.get(i);
        return MemorySegment.ofAddress(a.valuesAddress()).reinterpret((long) a.stride() * a.def().maxEntries());
    }

    /** Makes {@code k}'s device copy the newest; call with this object's lock held, then run. */
    void beforeRun(QemuFirmwareKernel k) {
        if (maps.isEmpty() || current.contains(k)) {
            newest = k;
            current.removeIf(x -> x != k);
            return;
        }
        toHost();
        for (int i = 0; i < maps.size(); i++) {
            k.putMap(i, memory(i).toArray(ValueLayout.JAVA_BYTE));
        }
        newest = k;
        current.clear();
        current.add(k);
    }

    /** Brings the newest device copy back to the host copy. */
    private void toHost() {
        if (newest == null) {
            return;
        }
        for (int i = 0; i < maps.size(); i++) {
            byte[] b = newest.getMap(i);
            MemorySegment.copy(b, 0, memory(i), ValueLayout.JAVA_BYTE, 0, b.length);
        }
        newest = null;
    }

    /** The host copy changed: no device copy is current. */
    private void hostChanged() {
        current.clear();
    }

    /** A kernel is gone: its copy can no longer be the newest. */
    synchronized void forget(QemuFirmwareKernel k) {
        if (newest == k) {
            toHost();
        }
        current.remove(k);
    }

    MapAccess access() {
        MapAccess host = new MapSetAccess(maps, List.of(program));
        return new MapAccess() {
            @Override
            public List<MapDef> defs() {
                return host.defs();
            }

            @Override
            public byte[] lookup(String map, byte[] key) {
                synchronized (CrossMaps.this) {
                    toHost();
                    return host.lookup(map, key);
                }
            }

            @Override
            public void update(String map, byte[] key, byte[] value, long flags) {
                synchronized (CrossMaps.this) {
                    toHost();
                    hostChanged();
                    host.update(map, key, value, flags);
                }
            }

            @Override
            public boolean delete(String map, byte[] key) {
                synchronized (CrossMaps.this) {
                    toHost();
                    hostChanged();
                    return host.delete(map, key);
                }
            }

            @Override
            public List<byte[]> keys(String map) {
                synchronized (CrossMaps.this) {
                    toHost();
                    return host.keys(map);
                }
            }

            @Override
            public List<byte[]> drain(String ringbuf) {
                return host.drain(ringbuf);
            }

            @Override
            public void setProgram(String progArray, int index, String name) {
                host.setProgram(progArray, index, name);
            }
        };
    }

    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            maps.forEach(BpfMap::close);
            arena.close();
        }
    }
}
