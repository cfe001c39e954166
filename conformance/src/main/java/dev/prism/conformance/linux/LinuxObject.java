package dev.prism.conformance.linux;

import dev.prism.error.TargetException;
import dev.prism.program.MapDef;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.program.SkbContext;
import dev.prism.runtime.SkbBuffer;
import dev.prism.target.SkbFields;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import dev.prism.isa.Insn;
import dev.prism.sys.FuncInfoBtf;
import dev.prism.sys.LinuxBpf;
import dev.prism.sys.ProgType;
import dev.prism.sys.TestRun;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The programs of one object loaded into the running kernel, sharing its maps: what libbpf's
 * {@code bpf_object__load} does, without BTF.
 * <ol>
 *   <li>The maps of the first program, created in index order ({@link KernelMaps}: global data
 *       initialized, {@code .rodata} frozen).</li>
 *   <li>Every program is loaded with {@code fd_array} = the map fds in index order, which makes
 *       its {@code lddw map_idx N} / {@code lddw map_value_idx N, OFF} instructions (src 5 and 6,
 *       BPF_PSEUDO_MAP_IDX and BPF_PSEUDO_MAP_IDX_VALUE) refer to map N.</li>
 * </ol>
 * Runs are {@code BPF_PROG_TEST_RUN} of the first program; the maps keep their contents across
 * runs until {@link #close()}.
 */
final class LinuxObject implements Executable {
    /** BPF_F_RDONLY_PROG (include/uapi/linux/bpf.h): programs may only read the map. */
    static final int BPF_F_RDONLY_PROG = KernelMaps.BPF_F_RDONLY_PROG;
    /** data_out room beyond the packet: an XDP program may grow it (adjust_head/meta/tail). */
    static final int DATA_OUT_CAPACITY = 4096 + 256;

    private final List<Program> programs;
    private KernelMaps maps;
    private final int[] progFds;
    private boolean closed;

    private LinuxObject(List<Program> programs) {
        this.programs = List.copyOf(programs);
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
            object.maps = KernelMaps.create(defs, programs.get(0).name());
            object.loadPrograms();
        } catch (RuntimeException e) {
            throw Cleanup.closeAfter(e, object::close);
        }
        return object;
    }

    /** {@return the kernel's program type for {@code p}} @throws TargetException for raw programs */
    static ProgType progType(Program p) {
        return switch (p.type()) {
            case XDP -> ProgType.XDP;
            case TC -> ProgType.SCHED_CLS;
            case SOCKET -> ProgType.SOCKET_FILTER;
            case RAW -> throw TargetException.unsupported("raw program " + p.name()
                    + " in an object; raw programs load one at a time");
            case CSD -> throw TargetException.unsupported("csd program " + p.name()
                    + " in the kernel (csd is Prism's own program type; Linux has none like it)");
        };
    }

    private void loadPrograms() {
        int[] fdArray = maps.fds();
        for (int i = 0; i < programs.size(); i++) {
            Program p = programs.get(i);
            try {
                // bpf_loop callbacks (lddw code) load only with func_info: describe each subprogram
                Insn[] slots = p.slots();
                FuncInfoBtf funcs = FuncInfoBtf.needed(slots)
                        ? FuncInfoBtf.of(slots, pc -> p.functionAt(pc).map(dev.prism.program.Function::name).orElse(null)) : null;
                progFds[i] = LinuxBpf.progLoad(progType(p), p.bytes(), p.name(), fdArray, funcs);
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
        if (entry.type() == ProgramType.TC) {
            return runSkb(packet, input.skb());
        }
        byte[] in = packet;
        // Prism's runs are on CPU 0: with perf event arrays (whose events take records only from
        // their own CPU) the kernel's test run is made on CPU 0 too.
        TestRun run = maps.hasPerfEvents()
                ? LinuxBpf.onCpu(0, () -> LinuxBpf.testRun(progFds[0], in, Math.max(DATA_OUT_CAPACITY, in.length + 256), 1))
                : LinuxBpf.testRun(progFds[0], packet, Math.max(DATA_OUT_CAPACITY, packet.length + 256), 1);
        // XDP, sched_cls and socket filter programs return a u32 (bpf_prog_run's return type),
        // and the test run hands back that u32 as retval. The test run does not follow an
        // XDP_REDIRECT nor say where it would go (without BPF_F_TEST_XDP_LIVE_FRAMES it only
        // runs the program): the redirect target stays null. Perf event records are read back
        // from the rings of the events KernelMaps put in the perf event arrays.
        return new RunResult(Integer.toUnsignedLong(run.retval()), new byte[0], run.dataOut(), null,
                maps.hasPerfEvents() ? maps.drainEvents() : List.of());
    }

    /**
     * A tc (SCHED_CLS) run: ctx_in is a {@code struct __sk_buff} with the input's mark, priority
     * and cb (the test run refuses nonzero fields it does not take); ctx_out gives them back
     * after the run. tc_classid is not in ctx_out (convert_skb_to___skb does not copy it), so the
     * result reports it as unknown. data_out is the skb from data (the MAC header) for len bytes,
     * which skb_change_head and skb_adjust_room may grow up to BPF_SKB_MAX_LEN.
     */
    private RunResult runSkb(byte[] packet, SkbFields in) {
        SkbFields f = in == null ? SkbFields.ZERO : in;
        ByteBuffer ctx = ByteBuffer.allocate(SkbContext.USER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        ctx.putInt(SkbContext.USER_MARK, f.mark());
        ctx.putInt(SkbContext.USER_PRIORITY, f.priority());
        ctx.put(SkbContext.USER_CB, f.cb());
        LinuxBpf.ContextRun r = LinuxBpf.testRunWithContext(progFds[0], packet, SkbBuffer.MAX_LEN + 256, ctx.array());
        ByteBuffer out = ByteBuffer.wrap(Arrays.copyOf(r.ctxOut(), SkbContext.USER_SIZE)).order(ByteOrder.LITTLE_ENDIAN);
        byte[] cb = Arrays.copyOfRange(r.ctxOut(), SkbContext.USER_CB, SkbContext.USER_CB + SkbFields.CB_SIZE);
        SkbFields after = new SkbFields(out.getInt(SkbContext.USER_MARK), out.getInt(SkbContext.USER_PRIORITY), cb, null);
        return new RunResult(Integer.toUnsignedLong(r.run().retval()), new byte[0], r.run().dataOut(), after);
    }

    /**
     * {@inheritDoc} One {@code BPF_PROG_TEST_RUN} with {@code repeat} repetitions; the answer is
     * the kernel's {@code duration}: the time of the repetition loop divided by {@code repeat}
     * (net/bpf/test_run.c, bpf_test_timer_continue), in whole nanoseconds, without the system
     * call. Every repetition runs on the same buffer, so a program that rewrites the packet or
     * moves data_meta sees its own output from the second repetition on, as it would not on a
     * target that builds each run's input afresh.
     */
    @Override
    public double nanosPerRun(RunInput input, int repeat) {
        if (repeat <= 0) {
            throw new IllegalArgumentException("repeat must be positive, was " + repeat);
        }
        checkOpen();
        byte[] packet = input.packet();
        if (packet == null) {
            if (programs.get(0).type() == ProgramType.XDP) {
                throw new IllegalArgumentException("an XDP program needs a packet");
            }
            packet = input.mem();
        }
        int capacity = programs.get(0).type() == ProgramType.TC ? SkbBuffer.MAX_LEN + 256 : Math.max(DATA_OUT_CAPACITY, packet.length + 256);
        return LinuxBpf.testRun(progFds[0], packet, capacity, repeat).durationNs();
    }

    @Override
    public MapAccess maps() {
        checkOpen();
        return maps.access(this::programFd);
    }

    /** {@return the fd of the loaded program named (function or section) {@code program}} */
    private int programFd(String program) {
        for (int i = 0; i < programs.size(); i++) {
            Program p = programs.get(i);
            if (p.name().equals(program) || p.section().equals(program)) {
                return progFds[i];
            }
        }
        throw new TargetException("no program '" + program + "' (programs: "
                + String.join(", ", programs.stream().map(Program::name).toList()) + ")");
    }

    /** Unmaps the ring buffers and closes every program and map fd; later calls do nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Runnable> steps = new ArrayList<>();
        for (int fd : progFds) {
            if (fd >= 0) {
                steps.add(() -> LinuxBpf.close(fd));
            }
        }
        if (maps != null) {
            steps.add(maps::close);
        }
        Cleanup.runAll(steps);
    }

    private void checkOpen() {
        if (closed) {
            throw new TargetException("the kernel object of " + programs.get(0).name() + " is closed");
        }
    }
}
