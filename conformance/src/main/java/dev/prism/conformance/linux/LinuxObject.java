package dev.prism.conformance.linux;

import dev.prism.error.TargetException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.sys.BpfMap;
import dev.prism.sys.LinuxBpf;
import dev.prism.sys.ProgType;
import dev.prism.sys.RingBufConsumer;
import dev.prism.sys.TestRun;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The programs of one object loaded into the running kernel, sharing its maps: what libbpf's
 * {@code bpf_object__load} does, without BTF.
 * <ol>
 *   <li>One kernel map per {@link MapDef} of the first program, in index order (BPF_MAP_CREATE
 *       with the definition's type, sizes, max_entries, map_flags and name).</li>
 *   <li>Global data ({@code .data}, {@code .rodata}, {@code .bss}: a definition with initial
 *       data or read-only) gets element 0 written with the initial data, zero-padded to the value
 *       size. A read-only one is created with {@code BPF_F_RDONLY_PROG} and frozen after that
 *       write, as libbpf does for {@code .rodata}, so the verifier may treat its contents as
 *       constants (and user space can no longer write it).</li>
 *   <li>Every program is loaded with {@code fd_array} = the map fds in index order, which makes
 *       its {@code lddw map_idx N} / {@code lddw map_value_idx N, OFF} instructions (src 5 and 6,
 *       BPF_PSEUDO_MAP_IDX and BPF_PSEUDO_MAP_IDX_VALUE) refer to map N.</li>
 * </ol>
 * Runs are {@code BPF_PROG_TEST_RUN} of the first program; the maps keep their contents across
 * runs until {@link #close()}.
 */
final class LinuxObject implements Executable {
    /** BPF_F_RDONLY_PROG (include/uapi/linux/bpf.h): programs may only read the map. */
    static final int BPF_F_RDONLY_PROG = 1 << 7;
    /** data_out room beyond the packet: an XDP program may grow it (adjust_head/meta/tail). */
    static final int DATA_OUT_CAPACITY = 4096 + 256;

    private final List<Program> programs;
    private final List<MapDef> defs;
    private final List<BpfMap> maps = new ArrayList<>();
    private final int[] progFds;
    private final Map<String, RingBufConsumer> consumers = new HashMap<>();
    private boolean closed;

    private LinuxObject(List<Program> programs) {
        this.programs = List.copyOf(programs);
        this.defs = programs.get(0).maps();
        this.progFds = new int[programs.size()];
        Arrays.fill(progFds, -1);
    }

    /**
     * {@return the programs loaded into the kernel with their maps created}
     *
     * @throws TargetException when a program's type cannot be loaded, when the programs do not
     *                         share one map list, or when the kernel refuses a map or a program
     *                         (the message then carries the verifier log)
     */
    static LinuxObject load(List<Program> programs) {
        if (programs.isEmpty()) {
            throw new TargetException("no program to load");
        }
        List<MapDef> defs = programs.get(0).maps();
        for (Program p : programs) {
            progType(p);
            if (!p.maps().isEmpty() && !p.maps().equals(defs)) {
                throw new TargetException("program " + p.name() + " has maps " + p.maps() + ", not those of "
                        + programs.get(0).name() + " (" + defs + "): the programs of one object share its maps");
            }
        }
        LinuxObject object = new LinuxObject(programs);
        try {
            object.createMaps();
            object.loadPrograms();
        } catch (RuntimeException e) {
            try {
                object.close();
            } catch (RuntimeException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
        return object;
    }

    /** {@return the kernel's program type for {@code p}} @throws TargetException for raw programs */
    static ProgType progType(Program p) {
        return switch (p.type()) {
            case XDP -> ProgType.XDP;
            case TC -> ProgType.SCHED_CLS;
            case SOCKET -> ProgType.SOCKET_FILTER;
            case RAW -> throw new TargetException("not supported: raw program " + p.name()
                    + " in an object; raw programs load one at a time");
        };
    }

    private void createMaps() {
        for (MapDef def : defs) {
            boolean globalData = def.initialData().length > 0 || def.readOnly();
            int flags = def.readOnly() ? def.flags() | BPF_F_RDONLY_PROG : def.flags();
            // A ring buffer has no key or value; its max_entries is the data size in bytes.
            boolean ring = def.type() == MapType.RINGBUF;
            BpfMap map;
            try {
                map = LinuxBpf.mapCreate(def.type(), ring ? 0 : def.keySize(), ring ? 0 : def.valueSize(),
                        def.maxEntries(), flags, LinuxBpf.objectName(def.name()));
            } catch (TargetException | IllegalArgumentException e) {
                throw new TargetException("cannot create map " + def.name() + ": " + e.getMessage(), e);
            }
            maps.add(map);
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
    }

    private void loadPrograms() {
        int[] fdArray = maps.stream().mapToInt(BpfMap::fd).toArray();
        for (int i = 0; i < programs.size(); i++) {
            Program p = programs.get(i);
            try {
                progFds[i] = LinuxBpf.progLoad(progType(p), p.bytes(), p.name(), fdArray);
            } catch (TargetException e) {
                throw new TargetException("kernel rejected " + p.name() + ": " + e.getMessage(), e);
            }
        }
    }

    @Override
    public RunResult run(RunInput input) {
        checkOpen();
        Program entry = programs.get(0);
        byte[] packet = input.packet();
        if (packet == null) {
            if (entry.type() == ProgramType.XDP) {
                throw new IllegalArgumentException("an XDP program needs a packet");
            }
            packet = input.mem();
        }
        TestRun run = LinuxBpf.testRun(progFds[0], packet, Math.max(DATA_OUT_CAPACITY, packet.length + 256), 1);
        // XDP, sched_cls and socket filter programs return a u32 (bpf_prog_run's return type),
        // and the test run hands back that u32 as retval.
        return new RunResult(Integer.toUnsignedLong(run.retval()), new byte[0], run.dataOut());
    }

    @Override
    public MapAccess maps() {
        checkOpen();
        return new KernelMaps();
    }

    /** Unmaps the ring buffers and closes every program and map fd; later calls do nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Runnable> steps = new ArrayList<>();
        consumers.values().forEach(c -> steps.add(c::close));
        for (int fd : progFds) {
            if (fd >= 0) {
                steps.add(() -> LinuxBpf.close(fd));
            }
        }
        maps.forEach(m -> steps.add(() -> LinuxBpf.close(m.fd())));
        TargetException first = null;
        for (Runnable step : steps) {
            try {
                step.run();
            } catch (TargetException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        consumers.clear();
        if (first != null) {
            throw first;
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new TargetException("the kernel object of " + programs.get(0).name() + " is closed");
        }
    }

    /** {@link MapAccess} through bpf(): what user space sees of the kernel maps. */
    private final class KernelMaps implements MapAccess {
        @Override
        public List<MapDef> defs() {
            return defs;
        }

        private BpfMap map(String name) {
            checkOpen();
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

        @Override
        public byte[] lookup(String map, byte[] key) {
            BpfMap m = map(map);
            return named(map, "lookup", () -> LinuxBpf.mapLookup(m, key));
        }

        @Override
        public void update(String map, byte[] key, byte[] value, long flags) {
            BpfMap m = map(map);
            named(map, "update", () -> {
                LinuxBpf.mapUpdate(m, key, value, flags);
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
            for (int i = 0; i < programs.size(); i++) {
                Program p = programs.get(i);
                if (p.name().equals(program) || p.section().equals(program)) {
                    int fd = progFds[i];
                    named(progArray, "update", () -> {
                        LinuxBpf.mapUpdate(m, u32(index), u32(fd), LinuxBpf.BPF_ANY);
                        return null;
                    });
                    return;
                }
            }
            throw new TargetException("no program '" + program + "' (programs: "
                    + String.join(", ", programs.stream().map(Program::name).toList()) + ")");
        }
    }

    private static byte[] u32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }
}
