package dev.prism.runtime;

import dev.prism.error.TargetException;
import dev.prism.program.MapDef;
import dev.prism.program.Program;
import dev.prism.runtime.maps.BpfMap;
import dev.prism.runtime.maps.MapErrno;
import dev.prism.runtime.maps.ProgArrayMap;
import dev.prism.runtime.maps.RingBufMap;
import dev.prism.target.MapAccess;
import java.util.List;

/**
 * {@link MapAccess} over off-heap {@link BpfMap}s that Prism itself holds (the interpreter's,
 * native JITs'): the bpf() syscall's semantics and errno names, shared so every such target
 * answers user space alike. PROG_ARRAY slots hold the index of a program in {@code programs}.
 */
public record MapSetAccess(List<BpfMap> maps, List<Program> programs) implements MapAccess {
    @Override
    public List<MapDef> defs() {
        return maps.stream().map(BpfMap::def).toList();
    }

    private BpfMap map(String name) {
        dev.prism.target.InnerMapName inner;
        try {
            inner = dev.prism.target.InnerMapName.parse(name);
        } catch (IllegalArgumentException e) {
            throw new TargetException(e.getMessage());
        }
        if (inner != null) {
            if (!(map(inner.outer()) instanceof dev.prism.runtime.maps.MapOfMaps outer)) {
                throw new TargetException("map " + inner.outer() + " holds no maps (" + name + ")");
            }
            if (inner.key().length != outer.def().keySize()) {
                throw new TargetException("map " + name + ": the key is " + inner.key().length + " bytes, map "
                        + inner.outer() + " has " + outer.def().keySize() + "-byte keys");
            }
            BpfMap m = outer.innerAt(inner.key());
            if (m == null) {
                throw new TargetException("map " + name + ": that slot of " + inner.outer() + " holds no map");
            }
            return m;
        }
        for (BpfMap m : maps) {
            if (m.def().name().equals(name)) {
                return m;
            }
        }
        throw new TargetException("no map '" + name + "' (maps: "
                + String.join(", ", maps.stream().map(m -> m.def().name()).toList()) + ")");
    }

    @Override
    public byte[] lookup(String map, byte[] key) {
        try {
            return map(map).lookupUser(key);
        } catch (UnsupportedOperationException e) {
            throw new TargetException("map " + map + ": lookup failed with EINVAL (" + e.getMessage() + ")");
        }
    }

    @Override
    public void update(String map, byte[] key, byte[] value, long flags) {
        int rc = map(map).updateUser(key, value, flags);
        if (rc != 0) {
            throw new TargetException("map " + map + ": update failed with " + errnoName(-rc));
        }
    }

    private static String errnoName(int errno) {
        return switch (errno) {
            case MapErrno.ENOENT -> "ENOENT (no such element)";
            case MapErrno.E2BIG -> "E2BIG (map full or index out of range)";
            case MapErrno.EEXIST -> "EEXIST (element exists)";
            case MapErrno.EINVAL -> "EINVAL (invalid argument)";
            case MapErrno.ENOSPC -> "ENOSPC (no space)";
            default -> "errno " + errno;
        };
    }

    @Override
    public boolean delete(String map, byte[] key) {
        int rc = map(map).deleteUser(key);
        if (rc != 0 && rc != -MapErrno.ENOENT) {
            throw new TargetException("map " + map + ": delete failed with " + errnoName(-rc));
        }
        return rc == 0;
    }

    @Override
    public List<byte[]> keys(String map) {
        BpfMap m = map(map);
        if (m instanceof RingBufMap) {
            throw new TargetException("map " + map + ": a ring buffer has no keys (ENOTSUPP); use drain");
        }
        return m.keys();
    }

    @Override
    public List<byte[]> drain(String ringbuf) {
        if (map(ringbuf) instanceof RingBufMap r) {
            return r.drain();
        }
        if (map(ringbuf) instanceof dev.prism.runtime.maps.PerfEventArrayMap p) {
            return p.drain().stream().map(dev.prism.runtime.maps.PerfEventArrayMap.Record::data).toList();
        }
        throw new TargetException("map " + ringbuf + " is not a ring buffer");
    }

    @Override
    public void setProgram(String progArray, int index, String program) {
        if (!(map(progArray) instanceof ProgArrayMap pa)) {
            throw new TargetException("map '" + progArray + "' is not a prog_array");
        }
        for (int i = 0; i < programs.size(); i++) {
            Program p = programs.get(i);
            if (p.name().equals(program) || p.section().equals(program)) {
                pa.set(index, i);
                return;
            }
        }
        throw new TargetException("no program '" + program + "' (programs: "
                + String.join(", ", programs.stream().map(Program::name).toList()) + ")");
    }
}
