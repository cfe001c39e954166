package dev.prism.conformance.linux;

import dev.prism.error.TargetException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.sys.BpfMap;
import dev.prism.sys.LinuxBpf;
import dev.prism.sys.RingBufConsumer;
import dev.prism.target.MapAccess;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The kernel maps of one object, created from its {@link MapDef}s in index order, and user-space
 * access to them through bpf(): what {@link LinuxObject} and raw programs with maps
 * ({@link LinuxTarget}) share.
 * <ol>
 *   <li>One kernel map per definition (BPF_MAP_CREATE with the definition's type, sizes,
 *       max_entries, map_flags and name).</li>
 *   <li>Global data ({@code .data}, {@code .rodata}, {@code .bss}: a definition with initial
 *       data or read-only) gets element 0 written with the initial data, zero-padded to the value
 *       size. A read-only one is created with {@code BPF_F_RDONLY_PROG} and frozen after that
 *       write, as libbpf does for {@code .rodata}, so the verifier may treat its contents as
 *       constants (and user space can no longer write it).</li>
 * </ol>
 * {@link #fds()} is the {@code fd_array} programs are loaded with, so that their
 * {@code lddw map_idx N} / {@code map_value_idx N, OFF} (src 5 and 6) refer to map N.
 */
final class KernelMaps implements AutoCloseable {
    /** BPF_F_RDONLY_PROG (include/uapi/linux/bpf.h): programs may only read the map. */
    static final int BPF_F_RDONLY_PROG = 1 << 7;

    /** How {@link MapAccess#setProgram} finds the fd of a loaded program by name. */
    interface ProgramFds {
        /** {@return the fd of the program named {@code program}} @throws TargetException when there is none */
        int fd(String program);
    }

    private final String owner;
    private final List<MapDef> defs;
    private final List<BpfMap> maps = new ArrayList<>();
    private final Map<String, RingBufConsumer> consumers = new HashMap<>();
    /** Per PERF_EVENT_ARRAY (by map name): one perf event per slot i < possible CPUs, on CPU i. */
    private final Map<String, List<dev.prism.sys.PerfEventReader>> perfReaders = new java.util.LinkedHashMap<>();
    /** Ring pages per perf event (32 KiB with 4 KiB pages): records are drained after every run. */
    static final int PERF_RING_PAGES = 8;
    /** The kernel's id of each map, by index, once asked for. */
    private int[] ids;
    private boolean closed;

    private KernelMaps(List<MapDef> defs, String owner) {
        this.owner = owner;
        this.defs = List.copyOf(defs);
    }

    /**
     * {@return the maps of {@code defs}, created in the kernel}
     *
     * @param owner the program the maps belong to, for messages
     *
     * @throws TargetException when the kernel refuses a map (the ones created so far are closed)
     */
    static KernelMaps create(List<MapDef> defs, String owner) {
        KernelMaps k = new KernelMaps(defs, owner);
        try {
            for (MapDef def : defs) {
                k.createOne(def);
            }
            k.fillMapsInMaps();
        } catch (RuntimeException e) {
            throw Cleanup.closeAfter(e, k::close);
        }
        return k;
    }

    private void createOne(MapDef def) {
        boolean globalData = def.initialData().length > 0 || def.readOnly();
        int flags = def.readOnly() ? def.flags() | BPF_F_RDONLY_PROG : def.flags();
        // A ring buffer has no key or value; its max_entries is the data size in bytes.
        boolean ring = def.type() == MapType.RINGBUF;
        BpfMap map;
        BpfMap template = null;
        try {
            if (def.inner() != null) {
                // inner_map_fd: a map of the template's shape, closed once the outer map exists
                MapDef t = def.inner().template();
                template = LinuxBpf.mapCreate(t.type(), t.keySize(), t.valueSize(), t.maxEntries(), t.flags(),
                        LinuxBpf.objectName(def.name() + ".inner"));
            }
            map = LinuxBpf.mapCreate(def.type(), ring ? 0 : def.keySize(), ring ? 0 : def.valueSize(),
                    def.maxEntries(), flags, LinuxBpf.objectName(def.name()), template == null ? 0 : template.fd());
        } catch (TargetException | IllegalArgumentException e) {
            if (template != null) {
                LinuxBpf.close(template.fd());
            }
            throw new TargetException("cannot create map " + def.name() + ": " + e.getMessage(), e);
        }
        if (template != null) {
            LinuxBpf.close(template.fd());
        }
        maps.add(map);
        if (def.type() == MapType.PERF_EVENT_ARRAY) {
            attachPerfEvents(def, map);
        }
        if (globalData) {
            try {
                LinuxBpf.mapUpdate(map, new byte[def.keySize()], Arrays.copyOf(def.initialData(), def.valueSize()),
                        LinuxBpf.BPF_ANY);
                if (def.readOnly()) {
                    LinuxBpf.mapFreeze(map);
                }
            } catch (TargetException | IllegalArgumentException e) {
                throw new TargetException("cannot initialize global data map " + def.name() + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Opens a PERF_COUNT_SW_BPF_OUTPUT event with a ring on each possible CPU below max_entries and
     * writes its fd into the slot of that CPU, as libbpf's perf_buffer__new does: Prism's perf
     * event arrays start with every slot's CPU listening, and so must the kernel's.
     */
    private void attachPerfEvents(MapDef def, BpfMap map) {
        List<dev.prism.sys.PerfEventReader> readers = new ArrayList<>();
        perfReaders.put(def.name(), readers);
        int cpus = Math.min(def.maxEntries(), LinuxBpf.possibleCpus());
        for (int cpu = 0; cpu < cpus; cpu++) {
            dev.prism.sys.PerfEventReader r = dev.prism.sys.PerfEventReader.open(cpu, PERF_RING_PAGES);
            readers.add(r);
            LinuxBpf.mapUpdate(map, u32(cpu), u32(r.fd()), LinuxBpf.BPF_ANY);
        }
    }

    /**
     * {@return every record the perf event arrays' rings hold, removing them: by map, then CPU,
     * oldest first}; a record is the raw sample, padded by the kernel to 4 bytes short of a
     * multiple of 8
     */
    List<dev.prism.target.RunResult.Event> drainEvents() {
        List<dev.prism.target.RunResult.Event> out = new ArrayList<>();
        for (var e : perfReaders.entrySet()) {
            for (dev.prism.sys.PerfEventReader r : e.getValue()) {
                for (byte[] data : r.drain()) {
                    out.add(new dev.prism.target.RunResult.Event(e.getKey(), r.cpu(), data));
                }
                if (r.lost() > 0) {
                    throw new TargetException("perf event array " + e.getKey() + ": the ring of cpu " + r.cpu()
                            + " lost " + r.lost() + " records");
                }
            }
        }
        return out;
    }

    /** {@return whether the maps include a perf event array} */
    boolean hasPerfEvents() {
        return !perfReaders.isEmpty();
    }

    /** Puts the object's inner maps into the slots its map-in-map initializers name, as libbpf does at load. */
    private void fillMapsInMaps() {
        for (int i = 0; i < defs.size(); i++) {
            MapDef def = defs.get(i);
            if (def.inner() == null) {
                continue;
            }
            for (var slot : def.inner().slots().entrySet()) {
                int inner = indexOf(slot.getValue());
                try {
                    LinuxBpf.mapUpdate(maps.get(i), u32(slot.getKey()), u32(maps.get(inner).fd()), LinuxBpf.BPF_ANY);
                } catch (TargetException | IllegalArgumentException e) {
                    throw new TargetException("cannot put map " + slot.getValue() + " in slot " + slot.getKey() + " of "
                            + def.name() + ": " + e.getMessage(), e);
                }
            }
        }
    }

    private int indexOf(String name) {
        for (int i = 0; i < defs.size(); i++) {
            if (defs.get(i).name().equals(name)) {
                return i;
            }
        }
        throw new TargetException("no map '" + name + "' (maps: " + String.join(", ", defs.stream().map(MapDef::name).toList()) + ")");
    }

    /** {@return the index of the map whose kernel id is {@code id}, or -1} */
    private int indexOfId(int id) {
        if (ids == null) {
            ids = maps.stream().mapToInt(LinuxBpf::mapId).toArray();
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == id) {
                return i;
            }
        }
        return -1;
    }

    /** {@return the definitions, in index order} */
    List<MapDef> defs() {
        return defs;
    }

    /** {@return the map fds in index order: the fd_array of every program using these maps} */
    int[] fds() {
        return maps.stream().mapToInt(BpfMap::fd).toArray();
    }

    /** {@return user-space access; {@code programs} resolves prog_array values (null: no programs to place)} */
    MapAccess access(ProgramFds programs) {
        checkOpen();
        return new Access(programs);
    }

    /** Unmaps the ring buffers and closes every map fd; later calls do nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Runnable> steps = new ArrayList<>();
        consumers.values().forEach(c -> steps.add(c::close));
        perfReaders.values().forEach(rs -> rs.forEach(r -> steps.add(r::close)));
        maps.forEach(m -> steps.add(() -> LinuxBpf.close(m.fd())));
        consumers.clear();
        Cleanup.runAll(steps);
    }

    private void checkOpen() {
        if (closed) {
            throw new TargetException("the kernel object of " + owner + " is closed");
        }
    }

    /** {@link MapAccess} through bpf(): what user space sees of the kernel maps. */
    private final class Access implements MapAccess {
        private final ProgramFds programs;

        Access(ProgramFds programs) {
            this.programs = programs;
        }

        @Override
        public List<MapDef> defs() {
            return defs;
        }

        private BpfMap map(String name) {
            checkOpen();
            dev.prism.target.InnerMapName inner;
            try {
                inner = dev.prism.target.InnerMapName.parse(name);
            } catch (IllegalArgumentException e) {
                throw new TargetException(e.getMessage());
            }
            if (inner != null) {
                // outer[k]: the kernel answers the inner map's id, which names one of the object's maps
                BpfMap outer = map(inner.outer());
                if (!outer.type().ofMaps()) {
                    throw new TargetException("map " + inner.outer() + " holds no maps (" + name + ")");
                }
                byte[] id = named(name, "lookup", () -> LinuxBpf.mapLookup(outer, inner.key()));
                int index = id == null ? -1 : indexOfId(ByteBuffer.wrap(id).order(ByteOrder.LITTLE_ENDIAN).getInt());
                if (index < 0) {
                    throw new TargetException("map " + name + ": that slot of " + inner.outer() + " holds no map of the object");
                }
                return maps.get(index);
            }
            for (int i = 0; i < defs.size(); i++) {
                if (defs.get(i).name().equals(name)) {
                    return maps.get(i);
                }
            }
            throw new TargetException("no map '" + name + "' (maps: "
                    + String.join(", ", defs.stream().map(MapDef::name).toList()) + ")");
        }

        /** {@return what {@code call} returns; a failing bpf() call is reported as "map NAME: OP failed: ..."} */
        private static <T> T named(String map, String op, Supplier<T> call) {
            try {
                return call.get();
            } catch (TargetException e) {
                throw new TargetException("map " + map + ": " + op + " failed: " + e.getMessage(), e);
            }
        }

        /**
         * {@inheritDoc} For a map-in-map the kernel answers the inner map's id; it is turned into
         * the inner map's index in the object's map list, Prism's user-space value for one.
         */
        @Override
        public byte[] lookup(String map, byte[] key) {
            BpfMap m = map(map);
            byte[] v = named(map, "lookup", () -> LinuxBpf.mapLookup(m, key));
            if (v != null && m.type().ofMaps()) {
                int index = indexOfId(ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getInt());
                return index < 0 ? v : u32(index);
            }
            return v;
        }

        /**
         * {@inheritDoc} For a map-in-map the value is the index of a map of the object, sent to
         * the kernel as that map's fd. XSKMAP entries are refused: they need AF_XDP sockets.
         */
        @Override
        public void update(String map, byte[] key, byte[] value, long flags) {
            BpfMap m = map(map);
            if (m.type() == MapType.XSKMAP) {
                throw TargetException.unsupported("xskmap entries on the Linux kernel (map " + map
                        + "): they hold AF_XDP sockets, which the oracle does not open");
            }
            byte[] v = value;
            if (m.type().ofMaps() && value.length == 4) {
                int index = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN).getInt();
                if (index < 0 || index >= maps.size()) {
                    throw new TargetException("map " + map + ": update failed: map index " + index + " is no map of the object (EBADF)");
                }
                v = u32(maps.get(index).fd());
            }
            byte[] sent = v;
            named(map, "update", () -> {
                LinuxBpf.mapUpdate(m, key, sent, flags);
                return null;
            });
        }

        /** {@inheritDoc} Errors other than ENOENT (EINVAL: an array element) are thrown. */
        @Override
        public boolean delete(String map, byte[] key) {
            BpfMap m = map(map);
            return named(map, "delete", () -> LinuxBpf.mapDelete(m, key));
        }

        /**
         * {@inheritDoc} In the kernel's BPF_MAP_GET_NEXT_KEY order; at most max_entries keys, so
         * a hash map that changes meanwhile cannot keep the walk going forever.
         */
        @Override
        public List<byte[]> keys(String map) {
            BpfMap m = map(map);
            return named(map, "get_next_key", () -> {
                List<byte[]> keys = new ArrayList<>();
                byte[] key = LinuxBpf.mapNextKey(m, null);
                while (key != null && keys.size() < m.maxEntries()) {
                    keys.add(key);
                    key = LinuxBpf.mapNextKey(m, key);
                }
                return keys;
            });
        }

        @Override
        public List<byte[]> drain(String ringbuf) {
            BpfMap m = map(ringbuf);
            if (m.type() != MapType.RINGBUF) {
                throw new TargetException("map " + ringbuf + " is not a ring buffer");
            }
            return consumers.computeIfAbsent(ringbuf, n -> RingBufConsumer.open(m)).drain();
        }

        /** Writes the program's fd into the slot, as user space does: the kernel takes a reference. */
        @Override
        public void setProgram(String progArray, int index, String program) {
            BpfMap m = map(progArray);
            if (m.type() != MapType.PROG_ARRAY) {
                throw new TargetException("map '" + progArray + "' is not a prog_array");
            }
            if (programs == null) {
                throw TargetException.unsupported("no program to place in prog_array " + progArray
                        + " (raw programs load one at a time, and tail calls need a context)");
            }
            int fd = programs.fd(program);
            named(progArray, "update", () -> {
                LinuxBpf.mapUpdate(m, u32(index), u32(fd), LinuxBpf.BPF_ANY);
                return null;
            });
        }
    }

    private static byte[] u32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }
}
