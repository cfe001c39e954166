package dev.prism.runtime;

import dev.prism.error.TrapException;
import dev.prism.isa.AtomicOp;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.Operand;
import dev.prism.isa.Reg;
import dev.prism.isa.Semantics;
import dev.prism.isa.Size;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.maps.BpfMap;
import dev.prism.runtime.maps.BpfMaps;
import dev.prism.runtime.maps.ProgArrayMap;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * The reference interpreter: the definition of "correct" inside Prism (DESIGN.md, "Oracles").
 * It executes RFC 9669 semantics one instruction at a time and checks every memory access
 * against the regions the program may touch, so a bad program ends in a {@link TrapException}
 * naming the pc, the address, the size and the regions, never in a JVM error.
 *
 * <p>Program addresses are virtual, so runs are deterministic and a pointer's region can be read
 * off its value:
 * <pre>
 *   0x0000_0010_0000_0000  MEM_BASE      raw programs' input memory
 *   0x0000_0020_0000_0000  PACKET_BASE   the XDP frame (4096 bytes; only [data_meta, data_end) is accessible)
 *   0x0000_0030_0000_0000  CTX_BASE      struct xdp_md (Linux layout, read-only); for tc programs the
 *                                        normalized __sk_buff (SkbContext's host layout); for csd
 *                                        programs CsdContext (read-only)
 *   0x0000_0050_0000_0000  CSD_OUT_BASE  a csd program's output buffer (its chunk is at PACKET_BASE, read-only)
 *   0x0000_0f00_0000_0000  MAP_HANDLE    + 256 * i: the map with index i (lddw map_idx), not dereferenceable
 *   0x0000_1000_0000_0000  MAP_MEMORY    + 2^32 * k: the k-th region of map memory (values, ring buffers)
 *   0x0000_7e00_0000_0000  CODE_BASE     + 8 * pc: code addresses (lddw code, callx, bpf_loop callbacks)
 *   0x0000_7ff0_0000_0000  STACK_TOP     frame k (0 = entry) is [TOP - 512 (k+1), TOP - 512 k)
 * </pre>
 * Only the frames of active calls are addressable: a callee may use pointers into its callers'
 * frames (Linux allows passing them), nothing below its own frame.
 *
 * <p>Until the verifier rewrites context accesses (DESIGN.md, "Program types and contexts"), the
 * interpreter reads {@code struct xdp_md} in Linux's user layout itself: a 4-byte load of
 * data, data_end or data_meta yields the full 64-bit packet pointer, as Linux's
 * convert_ctx_access makes it.
 */
public final class Interpreter {
    /** Stack bytes per frame (RFC 9669 / Linux MAX_BPF_STACK). */
    public static final int FRAME_SIZE = 512;
    /** Frames allowed at once, the entry function included (Linux MAX_CALL_FRAMES). */
    public static final int MAX_FRAMES = 8;
    /** Instructions executed before a run is stopped. */
    public static final long DEFAULT_BUDGET = 1_000_000;
    /** Linux MAX_TAIL_CALL_CNT: the 34th tail call in one run fails. */
    public static final int MAX_TAIL_CALLS = 33;
    /** bpf_loop's iteration limit (BPF_MAX_LOOPS). */
    public static final long MAX_LOOPS = 1L << 23;

    public static final long MEM_BASE = 0x0000_0010_0000_0000L;
    public static final long PACKET_BASE = 0x0000_0020_0000_0000L;
    public static final long CTX_BASE = 0x0000_0030_0000_0000L;
    public static final long MAP_HANDLE_BASE = 0x0000_0f00_0000_0000L;
    /** The keys bpf_for_each_map_elem hands its callbacks, one per nested call, ITER_KEY_STRIDE apart. */
    public static final long ITER_KEY_BASE = 0x0000_0040_0000_0000L;
    static final int ITER_KEY_STRIDE = 4096;
    public static final long MAP_MEMORY_BASE = 0x0000_1000_0000_0000L;
    public static final long CODE_BASE = 0x0000_7e00_0000_0000L;
    /** A csd program's output buffer. */
    public static final long CSD_OUT_BASE = 0x0000_0050_0000_0000L;
    public static final long STACK_TOP = 0x0000_7ff0_0000_0000L;

    /** The XDP context as a program sees it: struct xdp_md. */
    static final int XDP_MD_SIZE = 24;
    /** ingress_ifindex of Linux's XDP test run: the loopback device of the caller's netns. */
    static final int TEST_RUN_IFINDEX = 1;

    private static final long EINVAL = -22;
    private static final long E2BIG = -7;
    private static final long ENOENT = -2;

    private static final VarHandle I32 = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle I64 = ValueLayout.JAVA_LONG.varHandle();

    private final HelperTable helpers;
    private final long budget;
    private final Environment env;
    private boolean strictStack;

    /** @param budget instructions executed before the run traps */
    public Interpreter(HelperTable helpers, long budget, Environment env) {
        if (budget <= 0) {
            throw new IllegalArgumentException("budget must be positive, was " + budget);
        }
        this.helpers = helpers;
        this.budget = budget;
        this.env = env;
    }

    /**
     * {@return this interpreter, trapping on reads of stack bytes no instruction or helper wrote}
     * RFC 9669 leaves such reads undefined and the verifier refuses them; the strict mode lets
     * soundness tests catch a verifier that lets one through. Off by default (the stack then
     * reads as zeros, deterministically).
     */
    public Interpreter strictStack() {
        this.strictStack = true;
        return this;
    }

    /** Told of every instruction as it executes (profiling: the planner's cost estimates). */
    @FunctionalInterface
    public interface Observer {
        /** @param program the running program's index in the instance (tail calls change it) */
        void executed(int program, int pc, Insn insn);
    }

    private Observer observer;

    /** {@return this interpreter, telling {@code o} of every instruction executed} */
    public Interpreter observe(Observer o) {
        this.observer = o;
        return this;
    }

    public Interpreter(HelperTable helpers, long budget) {
        this(helpers, budget, Environment.host());
    }

    public Interpreter() {
        this(HelperTable.standard(), DEFAULT_BUDGET);
    }

    /**
     * The outcome of a run.
     *
     * @param r0          the value in r0 at the final exit
     * @param executed    instructions executed
     * @param memAfter    the input memory after the run (raw programs; empty when there was none)
     * @param packetAfter XDP: data_meta..data_end after the run (Linux's data_out); else null
     * @param redirect    XDP_REDIRECT: the target chosen; else null
     * @param events      the bpf_perf_event_output records of the run
     */
    public record Result(long r0, long executed, byte[] memAfter, byte[] packetAfter, dev.prism.target.SkbFields skbAfter,
                         dev.prism.target.RunResult.Redirect redirect, List<dev.prism.target.RunResult.Event> events) {
        public Result(long r0, long executed, byte[] memAfter, byte[] packetAfter) {
            this(r0, executed, memAfter, packetAfter, null, null, List.of());
        }
    }

    /**
     * Runs a {@code raw} program without maps: r1 = address of {@code mem} (0 when empty), r2 = its length.
     *
     * @throws TrapException when the program leaves the reference semantics
     */
    public Result runRaw(Program program, byte[] mem) {
        try (Instance instance = instantiate(List.of(program))) {
            return instance.run(mem, null);
        }
    }

    /** {@return programs of one object with their maps created, ready to run many times} */
    public Instance instantiate(List<Program> programs) {
        return new Instance(programs);
    }

    /**
     * Programs sharing one set of maps (one ELF object). Maps live until {@link #close()}. Runs
     * on one instance are serialized; several instances may run on several threads.
     */
    public final class Instance implements AutoCloseable {
        private final Arena arena = Arena.ofShared();
        private final List<Program> programs;
        private final List<BpfMap> maps = new ArrayList<>();
        /** Map memory by region, with the program address each region is seen at. */
        private final List<Region> mapRegions = new ArrayList<>();
        private final List<BpfMap> regionOwner = new ArrayList<>();

        private Instance(List<Program> programs) {
            if (programs.isEmpty()) {
                throw new IllegalArgumentException("no program to instantiate");
            }
            if (programs.stream().map(Program::contextLayout).distinct().count() > 1) {
                throw new IllegalArgumentException("the programs of one instance read their context in one layout");
            }
            this.programs = List.copyOf(programs);
            try {
                for (var def : programs.get(0).maps()) {
                    BpfMap m = BpfMaps.create(def, 1, arena);
                    maps.add(m);
                    for (Region r : m.regions()) {
                        long base = MAP_MEMORY_BASE + ((long) mapRegions.size() << 32);
                        mapRegions.add(new Region(r.name(), base, r.segment(), r.writable(), r.readable()));
                        regionOwner.add(m);
                    }
                }
                RunExtras.bindMapsInMaps(maps, m -> MAP_HANDLE_BASE + 256L * maps.indexOf(m));
            } catch (RuntimeException e) {
                arena.close();
                throw e;
            }
        }

        public List<Program> programs() {
            return programs;
        }

        /** {@return the maps, by the programs' map index} */
        public List<BpfMap> maps() {
            return maps;
        }

        /** {@return the map named {@code name}} @throws IllegalArgumentException naming the known maps */
        public BpfMap map(String name) {
            for (BpfMap m : maps) {
                if (m.def().name().equals(name)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("no map '" + name + "' (maps: "
                    + String.join(", ", maps.stream().map(m -> m.def().name()).toList()) + ")");
        }

        /** Points PROG_ARRAY slot {@code index} at the program named {@code program}. */
        public void setProgram(String progArray, int index, String program) {
            try {
                new MapSetAccess(maps, programs).setProgram(progArray, index, program);
            } catch (dev.prism.error.TargetException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }

        /**
         * Runs the entry program once: raw programs get {@code mem}, XDP programs {@code packet}.
         *
         * @throws TrapException when the program leaves the reference semantics
         */
        public synchronized Result run(byte[] mem, byte[] packet) {
            return run(mem, packet, null);
        }

        /**
         * Runs the entry program once; a tc program gets {@code packet} as its skb with
         * {@code skbIn}'s mark, priority and cb (null: all zero).
         *
         * @throws TrapException when the program leaves the reference semantics
         */
        public synchronized Result run(byte[] mem, byte[] packet, dev.prism.target.SkbFields skbIn) {
            Program entry = programs.get(0);
            try (Arena runArena = Arena.ofConfined()) {
                Run run = new Run(this, runArena);
                long r1;
                long r2 = 0;
                if (entry.type() == ProgramType.XDP) {
                    if (packet == null) {
                        throw new IllegalArgumentException("an XDP program needs a packet");
                    }
                    run.xdp = new XdpBuffer(runArena, packet);
                    if (entry.contextLayout() == Program.ContextLayout.HOST) {
                        run.hostCtx = runArena.allocate(dev.prism.program.XdpContext.HOST_SIZE, 8);
                        run.refreshHostCtx();
                    }
                    r1 = CTX_BASE;
                } else if (entry.type() == ProgramType.RAW) {
                    if (mem != null && mem.length > 0) {
                        MemorySegment seg = runArena.allocate(mem.length, 8);
                        MemorySegment.copy(mem, 0, seg, ValueLayout.JAVA_BYTE, 0, mem.length);
                        run.mem = new Region("mem", MEM_BASE, seg, true);
                    }
                    r1 = run.mem == null ? 0 : MEM_BASE;
                    r2 = mem == null ? 0 : mem.length;
                } else if (entry.type() == ProgramType.TC) {
                    if (packet == null) {
                        throw new IllegalArgumentException("a tc program needs a packet");
                    }
                    if (entry.contextLayout() != Program.ContextLayout.HOST) {
                        throw dev.prism.error.TargetException.unsupported("a tc program reading __sk_buff in its user"
                                + " layout (the interpreter runs tc programs as the verifier normalized them)");
                    }
                    run.skb = new SkbBuffer(runArena, packet, skbIn);
                    run.skb.writePointers(PACKET_BASE);
                    r1 = CTX_BASE;
                } else {
                    throw dev.prism.error.TargetException.unsupported("program type " + entry.type().id()
                            + " on the interpreter (raw, xdp and tc are)");
                }
                long r0 = run.start(entry, r1, r2);
                if (entry.type() != ProgramType.RAW) {
                    // bpf_prog_run returns u32: an attached program's result is the low half of r0
                    // (measured: lddw r0, 0x100000002 gives retval 2 in Linux's XDP test run).
                    r0 &= 0xffff_ffffL;
                }
                byte[] memAfter = run.mem == null ? new byte[0] : run.mem.segment().toArray(ValueLayout.JAVA_BYTE);
                if (run.skb != null) {
                    return new Result(r0, run.executed, memAfter, run.skb.packet(), run.skb.fields(), null,
                            RunExtras.drainEvents(maps));
                }
                return new Result(r0, run.executed, memAfter, run.xdp == null ? null : run.xdp.output(), null,
                        RunExtras.redirect(r0, run.xdp), RunExtras.drainEvents(maps));
            }
        }

        /**
         * Runs a {@code csd} entry program over one chunk (dev.prism.program.CsdContext): the
         * chunk is {@code namespace[chunkOffset, chunkOffset + chunkLength)}, read-only; the
         * program writes {@code out} in place (at most CsdContext.MAX_REGION bytes of it are
         * offered); prism_csd_read reads the whole namespace. {@return the outcome; r0 is the
         * full 64-bit register (bytes written or a negative errno), memAfter empty}
         *
         * @throws IllegalArgumentException when the chunk is outside the namespace or longer than
         *                                  CsdContext.MAX_REGION
         * @throws TrapException            when the program leaves the reference semantics
         */
        public synchronized Result runCsd(MemorySegment namespace, long chunkOffset, long chunkLength, MemorySegment out,
                                          long param0, long param1) {
            Program entry = programs.get(0);
            if (entry.type() != ProgramType.CSD) {
                throw new IllegalArgumentException("runCsd runs csd programs; this one is " + entry.type().id());
            }
            if (chunkOffset < 0 || chunkLength < 0 || chunkLength > dev.prism.program.CsdContext.MAX_REGION
                    || chunkOffset > namespace.byteSize() - chunkLength) {
                throw new IllegalArgumentException("chunk [" + chunkOffset + ", +" + chunkLength + ") is not inside the namespace of "
                        + namespace.byteSize() + " bytes, or longer than " + dev.prism.program.CsdContext.MAX_REGION);
            }
            long outLength = Math.min(out.byteSize(), dev.prism.program.CsdContext.MAX_REGION);
            try (Arena runArena = Arena.ofConfined()) {
                Run run = new Run(this, runArena);
                run.csdNamespace = namespace;
                run.csdData = new Region("data", PACKET_BASE, namespace.asSlice(chunkOffset, chunkLength), false);
                run.csdOut = new Region("out", CSD_OUT_BASE, out.asSlice(0, outLength), true);
                run.hostCtx = runArena.allocate(dev.prism.program.CsdContext.SIZE, 8);
                run.hostCtx.set(ValueLayout.JAVA_LONG, dev.prism.program.CsdContext.DATA, PACKET_BASE);
                run.hostCtx.set(ValueLayout.JAVA_LONG, dev.prism.program.CsdContext.DATA_END, PACKET_BASE + chunkLength);
                run.hostCtx.set(ValueLayout.JAVA_LONG, dev.prism.program.CsdContext.OUT, CSD_OUT_BASE);
                run.hostCtx.set(ValueLayout.JAVA_LONG, dev.prism.program.CsdContext.OUT_END, CSD_OUT_BASE + outLength);
                run.hostCtx.set(ValueLayout.JAVA_LONG, dev.prism.program.CsdContext.OFFSET, chunkOffset);
                run.hostCtx.set(ValueLayout.JAVA_LONG, dev.prism.program.CsdContext.PARAM0, param0);
                run.hostCtx.set(ValueLayout.JAVA_LONG, dev.prism.program.CsdContext.PARAM1, param1);
                long r0 = run.start(entry, CTX_BASE, 0);
                return new Result(r0, run.executed, new byte[0], null, null, null, RunExtras.drainEvents(maps));
            }
        }

        @Override
        public void close() {
            for (BpfMap m : maps) {
                m.close();
            }
            arena.close();
        }
    }

    /** The state of one execution. */
    private final class Run implements HelperContext {
        private final Instance instance;
        private final MemorySegment stack;
        /** Strict mode: which stack bytes were written (index as in {@link #stack}). */
        private final boolean[] written;
        private Region mem;
        private XdpBuffer xdp;
        /** A tc program's skb; its context (host layout) is at CTX_BASE. */
        private SkbBuffer skb;
        /** The context in the host layout, for normalized programs; null for the user layout. */
        private MemorySegment hostCtx;
        /** A csd run: the whole namespace, the chunk (read-only) and the output buffer. */
        private MemorySegment csdNamespace;
        private Region csdData;
        private Region csdOut;
        private final long[] reg = new long[11];
        private final int[] returnPc = new int[MAX_FRAMES];
        private final Insn[][] returnCode = new Insn[MAX_FRAMES][];
        private final long[][] saved = new long[MAX_FRAMES][5];
        private Insn[] code;
        private int depth;
        private int pc;
        private int tailCalls;
        private int current;
        long executed;

        Run(Instance instance, Arena arena) {
            this.instance = instance;
            this.stack = arena.allocate((long) FRAME_SIZE * MAX_FRAMES, 8);
            this.written = strictStack ? new boolean[FRAME_SIZE * MAX_FRAMES] : null;
        }

        long start(Program entry, long r1, long r2) {
            code = entry.slots();
            reg[1] = r1;
            reg[2] = r2;
            reg[10] = STACK_TOP;
            return execute(0);
        }

        /** Runs until the function at {@code stopDepth} exits; returns its r0. */
        private long execute(int stopDepth) {
            while (true) {
                if (pc < 0 || pc >= code.length) {
                    throw new TrapException(pc, "fell off the end of the program (" + code.length + " slots)");
                }
                if (++executed > budget) {
                    throw new TrapException(pc, "instruction budget of " + budget + " exhausted");
                }
                Insn insn = code[pc];
                if (observer != null) {
                    observer.executed(current, pc, insn);
                }
                int next = pc + 1;
                switch (insn) {
                    case null -> throw new TrapException(pc, "executed the second slot of an lddw");
                    case Insn.Alu a -> reg[a.dst().n()] = Semantics.alu(a.op(), a.width(), reg[a.dst().n()], value(a.src()));
                    case Insn.Neg n -> reg[n.dst().n()] = Semantics.neg(n.width(), reg[n.dst().n()]);
                    case Insn.MovSx m -> reg[m.dst().n()] = Semantics.movsx(m.width(), m.fromBits(), reg[m.src().n()]);
                    case Insn.Endian e -> reg[e.dst().n()] = Semantics.endian(e.op(), e.bits(), reg[e.dst().n()]);
                    case Insn.LoadImm64 l -> {
                        reg[l.dst().n()] = lddw(l);
                        next = pc + 2;
                    }
                    case Insn.Load l -> {
                        long v = load(reg[l.src().n()] + l.offset(), l.size(), "load");
                        reg[l.dst().n()] = l.signExtend() ? signExtend(v, l.size()) : v;
                    }
                    case Insn.Store s -> store(reg[s.dst().n()] + s.offset(), s.size(), value(s.src()));
                    case Insn.Atomic a -> atomic(a);
                    case Insn.Ja j -> next = pc + 1 + j.offset();
                    case Insn.Jump j -> {
                        if (Semantics.condition(j.op(), j.width(), reg[j.dst().n()], value(j.src()))) {
                            next = pc + 1 + j.offset();
                        }
                    }
                    case Insn.Call c -> next = call(c);
                    case Insn.CallX c -> next = callx(c);
                    case Insn.Exit e -> {
                        if (depth == stopDepth) {
                            if (depth > 0) {
                                leave();
                            }
                            return reg[0];
                        }
                        next = leave();
                    }
                    case Insn.PacketLoad p -> {
                        Long v = packetLoad(p);
                        if (v == null) {
                            // RFC 9669 5.5: an access beyond the packet ends the program with r0 = 0.
                            depth = 0;
                            return 0;
                        }
                        reg[0] = v;
                    }
                }
                pc = next;
            }
        }

        private long value(Operand o) {
            return switch (o) {
                case Reg r -> reg[r.n()];
                case Imm i -> Semantics.imm(i);
            };
        }

        private long lddw(Insn.LoadImm64 l) {
            return switch (l.kind()) {
                case IMM64 -> l.value();
                case CODE_ADDR -> CODE_BASE + 8L * (pc + 1 + l.imm());
                case MAP_BY_IDX -> {
                    mapAt(l.imm());
                    yield MAP_HANDLE_BASE + 256L * l.imm();
                }
                case MAP_VALUE_BY_IDX -> {
                    BpfMap m = mapAt(l.imm());
                    // A direct value address: element 0 of an array (global data), plus the offset.
                    long nativeValue = m.lookup(MemorySegment.ofArray(new byte[Math.max(4, m.def().keySize())]), 0);
                    if (nativeValue == 0 || l.nextImm() < 0 || l.nextImm() >= m.def().valueSize()) {
                        throw new TrapException(pc, "lddw map_value_idx " + l.imm() + ", " + l.nextImm()
                                + ": no value at that offset in map " + m.def().name());
                    }
                    yield programAddress(nativeValue) + l.nextImm();
                }
                case MAP_BY_FD, MAP_VALUE_BY_FD, VARIABLE_ADDR -> throw new TrapException(pc, "not supported: lddw "
                        + l.kind().keyword() + " (programs from ELF objects reference maps by index; file descriptors and"
                        + " variable addresses belong to a kernel)");
            };
        }

        private BpfMap mapAt(int index) {
            if (index < 0 || index >= instance.maps.size()) {
                throw new TrapException(pc, "map index " + index + " out of range (the program has "
                        + instance.maps.size() + " maps)");
            }
            return instance.maps.get(index);
        }

        private int call(Insn.Call c) {
            return switch (c.kind()) {
                case LOCAL -> enter(pc + 1 + c.imm());
                case HELPER -> {
                    if (c.imm() == Helpers.TAIL_CALL) {
                        yield tailCall();
                    }
                    if (c.imm() == Helpers.LOOP) {
                        reg[0] = loop();
                        yield pc + 1;
                    }
                    if (c.imm() == Helpers.FOR_EACH_MAP_ELEM) {
                        reg[0] = forEachMapElem();
                        yield pc + 1;
                    }
                    HelperTable.Entry h = helpers.lookup(c.imm()).orElseThrow(
                            () -> new TrapException(pc, "not supported: " + Helpers.describeUnsupported(c.imm())));
                    try {
                        reg[0] = h.helper().call(this, reg[1], reg[2], reg[3], reg[4], reg[5]);
                    } catch (IllegalStateException | IllegalArgumentException e) {
                        throw new TrapException(pc, "bpf_" + h.name() + ": " + e.getMessage());
                    }
                    if (hostCtx != null && xdp != null) {
                        refreshHostCtx(); // adjust_head/meta/tail move data, data_end, data_meta
                    }
                    if (skb != null) {
                        skb.writePointers(PACKET_BASE); // change_head and adjust_room move data
                    }
                    yield pc + 1;
                }
                case HELPER_BTF -> {
                    Kfuncs.Kfunc k = Kfuncs.byId(c.imm()).orElseThrow(() -> new TrapException(pc, "not supported: call btf "
                            + c.imm() + " (a kernel function Prism does not implement; it has " + Kfuncs.all().stream()
                            .map(Kfuncs.Kfunc::name).toList() + ")"));
                    HelperTable.Entry h = helpers.lookup(k.slot()).orElseThrow(
                            () -> new TrapException(pc, "not supported: " + k.name() + " (not bound)"));
                    try {
                        reg[0] = h.helper().call(this, reg[1], reg[2], reg[3], reg[4], reg[5]);
                    } catch (IllegalStateException | IllegalArgumentException e) {
                        throw new TrapException(pc, k.name() + ": " + e.getMessage());
                    }
                    yield pc + 1;
                }
            };
        }

        /**
         * bpf_tail_call(ctx, prog_array, index): on success the current function is replaced by
         * the target program, which starts at slot 0 with the same r1 (its callers, if any, get its
         * result); after 33 tail calls, for an index out of range or an empty slot, execution goes
         * on after the call. The prototype returns void (the verifier makes r0 unreadable
         * afterwards); r0 = -ENOENT here only so nothing stale is left in it.
         */
        private int tailCall() {
            if (!(map(reg[2]) instanceof ProgArrayMap pa)) {
                throw new TrapException(pc, "bpf_tail_call: r2 is not a prog_array");
            }
            long index = reg[3] & 0xffff_ffffL;
            if (index >= pa.def().maxEntries() || tailCalls >= MAX_TAIL_CALLS || !(pa.get((int) index) instanceof Integer target)) {
                reg[0] = ENOENT;
                return pc + 1;
            }
            tailCalls++;
            code = instance.programs.get(target).slots();
            current = target;
            if (written != null) {
                // the new program starts with a frame it has not written
                int lo = FRAME_SIZE * (MAX_FRAMES - depth - 1);
                java.util.Arrays.fill(written, lo, lo + FRAME_SIZE, false);
            }
            return 0;
        }

        /** bpf_loop(nr_loops, callback, ctx, flags): the callback runs as a function (i, ctx). */
        private long loop() {
            long nr = reg[1] & 0xffff_ffffL;
            long callback = reg[2];
            long ctx = reg[3];
            long flags = reg[4];
            if (flags != 0) {
                return EINVAL;
            }
            if (nr > MAX_LOOPS) {
                return E2BIG;
            }
            int target = codeSlot(callback, "bpf_loop callback");
            int callPc = pc;
            for (long i = 0; i < nr; i++) {
                int ret = pc;
                enter(target);
                returnPc[depth - 1] = ret;
                reg[1] = i;
                reg[2] = ctx;
                pc = target;
                long r = execute(depth);
                pc = callPc;
                if (r != 0) {
                    return i + 1;
                }
            }
            return nr;
        }

        /**
         * callx: a code address ({@code lddw code}) calls that function, Linux's meaning of callx;
         * a number that is no code address is a helper id, bpf_conformance's reading of RFC 9669's
         * "call helper function by address" in register form (conformance/README.md, "callx").
         * Code addresses lie at CODE_BASE and above, helper ids below 2^31, so the two never meet;
         * the verifier's profile decides which programs may use which.
         */
        private int callx(Insn.CallX c) {
            long target = reg[c.dst().n()];
            if (target >= 0 && target <= Integer.MAX_VALUE) {
                return call(new Insn.Call(dev.prism.isa.CallKind.HELPER, (int) target));
            }
            return enter(codeSlot(target, "callx"));
        }

        /**
         * bpf_for_each_map_elem(map, callback, ctx, flags): the callback runs as a function
         * (map, key, value, ctx) per element ({@link MapElements}) until it returns nonzero;
         * r0 = the number of calls. The key is a copy in read-only memory of its own
         * ({@link #iterKeys}), as Linux hands out its kernel stack or the element's key.
         */
        private long forEachMapElem() {
            long handle = reg[1];
            long callback = reg[2];
            long ctx = reg[3];
            if (reg[4] != 0) {
                return EINVAL;
            }
            BpfMap m = map(handle);
            int target = codeSlot(callback, "bpf_for_each_map_elem callback");
            int callPc = pc;
            long calls = 0;
            for (MapElements.Element e : MapElements.of(m, env().cpu())) {
                MemorySegment key = Arena.ofAuto().allocate(e.key().length, 8);
                key.copyFrom(MemorySegment.ofArray(e.key()));
                long keyAddress = ITER_KEY_BASE + (long) ITER_KEY_STRIDE * iterKeys.size();
                iterKeys.add(new Region("for_each key", keyAddress, key, false));
                try {
                    int ret = pc;
                    enter(target);
                    returnPc[depth - 1] = ret;
                    reg[1] = handle;
                    reg[2] = keyAddress;
                    reg[3] = e.value() == 0 ? 0 : programAddress(e.value());
                    reg[4] = ctx;
                    pc = target;
                    calls++;
                    long r = execute(depth);
                    pc = callPc;
                    if (r != 0) {
                        break;
                    }
                } finally {
                    iterKeys.remove(iterKeys.size() - 1);
                }
            }
            return calls;
        }

        /** The keys of the bpf_for_each_map_elem callbacks running, innermost last: read-only memory. */
        private final List<Region> iterKeys = new ArrayList<>();

        private int codeSlot(long address, String what) {
            long offset = address - CODE_BASE;
            long slot = offset / 8;
            if (offset < 0 || offset % 8 != 0 || slot >= code.length || code[(int) slot] == null) {
                throw new TrapException(pc, String.format("%s target 0x%x is not a code address of this program", what, address));
            }
            return (int) slot;
        }

        /** Pushes a frame: r6-r9 and r10 are saved, r10 moves to the new frame's top. */
        private int enter(int target) {
            if (depth + 1 >= MAX_FRAMES) {
                throw new TrapException(pc, "call depth exceeds " + MAX_FRAMES + " frames");
            }
            System.arraycopy(reg, 6, saved[depth], 0, 5);
            returnPc[depth] = pc + 1;
            returnCode[depth] = code;
            depth++;
            reg[10] = STACK_TOP - (long) FRAME_SIZE * depth;
            if (written != null) {
                int lo = FRAME_SIZE * (MAX_FRAMES - depth - 1);
                java.util.Arrays.fill(written, lo, lo + FRAME_SIZE, false);
                stack.asSlice(lo, FRAME_SIZE).fill((byte) 0);
            }
            return target;
        }

        /** Pops a frame, restoring r6-r10 and the caller's code; {@return the caller's next pc} */
        private int leave() {
            depth--;
            System.arraycopy(saved[depth], 0, reg, 6, 5);
            code = returnCode[depth];
            return returnPc[depth];
        }

        /** {@return the loaded value, or null when the access leaves the packet} */
        private Long packetLoad(Insn.PacketLoad p) {
            long off = p.indirect() ? (long) (int) (reg[p.src().n()] + p.imm()) : p.imm();
            int size = p.size().bytes();
            long start;
            long length;
            if (mem != null) {
                start = MEM_BASE;
                length = mem.segment().byteSize();
            } else if (xdp != null) {
                start = PACKET_BASE + xdp.data();
                length = xdp.dataEnd() - xdp.data();
            } else if (skb != null) {
                start = PACKET_BASE + skb.data();
                length = skb.len();
            } else {
                return null;
            }
            if (off < 0 || off + size > length) {
                return null;
            }
            long v = load(start + off, p.size(), "packet load");
            return switch (p.size()) {
                case B -> v;
                case H -> Short.reverseBytes((short) v) & 0xffffL;
                case W -> Integer.reverseBytes((int) v) & 0xffff_ffffL;
                case DW -> throw new IllegalStateException("no legacy double-word packet load");
            };
        }

        // -------------------------------------------------------------------------------
        // Memory

        /** A resolved access: the segment and the offset in it. */
        private record Place(MemorySegment segment, long offset) {
        }

        private static boolean within(long address, int size, long base, long length) {
            long offset = address - base;
            return Long.compareUnsigned(offset, length) < 0 && Long.compareUnsigned(offset + size, length) <= 0;
        }

        private Place resolve(long address, int size, String what, boolean write) {
            long stackLow = STACK_TOP - (long) FRAME_SIZE * (depth + 1);
            if (within(address, size, stackLow, STACK_TOP - stackLow)) {
                long offset = address - (STACK_TOP - stack.byteSize());
                if (written != null) {
                    for (int k = 0; k < size; k++) {
                        if (write) {
                            written[(int) offset + k] = true;
                        } else if (!written[(int) offset + k]) {
                            throw new TrapException(pc, String.format("read of uninitialized stack: %s of %d bytes at 0x%x",
                                    what, size, address));
                        }
                    }
                }
                return new Place(stack, offset);
            }
            if (mem != null && mem.contains(address, size)) {
                return new Place(mem.segment(), address - MEM_BASE);
            }
            for (Region r : csdData == null ? List.<Region>of() : List.of(csdData, csdOut)) {
                if (r.contains(address, size)) {
                    if (write && !r.writable()) {
                        throw new TrapException(pc, String.format("invalid %s of %d bytes at 0x%x: the csd chunk (data) is read-only",
                                what, size, address));
                    }
                    return new Place(r.segment(), address - r.base());
                }
            }
            if (xdp != null && within(address, size, PACKET_BASE + xdp.dataMeta(), xdp.dataEnd() - xdp.dataMeta())) {
                return new Place(xdp.frame(), address - PACKET_BASE);
            }
            if (skb != null && within(address, size, PACKET_BASE + skb.data(), skb.len())) {
                return new Place(skb.frame(), address - PACKET_BASE);
            }
            if (skb != null && within(address, size, CTX_BASE, skb.ctx().byteSize())) {
                // __sk_buff normalized into the host layout: only the fields a tc program may
                // read or write, so that a wrong access the verifier let through traps here
                if (!dev.prism.program.SkbContext.hostAccessAllowed(address - CTX_BASE, size, write)) {
                    throw new TrapException(pc, String.format("invalid %s of %d bytes at 0x%x: the tc context (host layout)"
                            + " offset %d is not %s", what, size, address, address - CTX_BASE, write ? "writable" : "readable"));
                }
                return new Place(skb.ctx(), address - CTX_BASE);
            }
            for (Region r : iterKeys) {
                if (r.contains(address, size)) {
                    if (write) {
                        throw new TrapException(pc, String.format("invalid %s of %d bytes at 0x%x: a for_each key is read-only",
                                what, size, address));
                    }
                    return new Place(r.segment(), address - r.base());
                }
            }
            for (Region r : instance.mapRegions) {
                if (r.contains(address, size)) {
                    if (write && !r.writable()) {
                        throw new TrapException(pc, String.format("invalid %s of %d bytes at 0x%x: %s is read-only",
                                what, size, address, r.name()));
                    }
                    if (!write && !r.readable()) {
                        throw new TrapException(pc, String.format("invalid %s of %d bytes at 0x%x: %s is write-only",
                                what, size, address, r.name()));
                    }
                    return new Place(r.segment(), address - r.base());
                }
            }
            if (xdp != null && within(address, size, CTX_BASE, XDP_MD_SIZE)) {
                throw new TrapException(pc, String.format("invalid %s of %d bytes at 0x%x: the XDP context can only be read,"
                        + " 4 bytes at a time, at a field (offsets 0, 4, 8, 12, 16, 20)", what, size, address));
            }
            StringJoiner where = new StringJoiner(", ");
            where.add(String.format("stack [0x%x, 0x%x)", stackLow, STACK_TOP));
            if (mem != null) {
                where.add(mem.toString());
            }
            if (csdData != null) {
                where.add(csdData.toString());
                where.add(csdOut.toString());
            }
            if (skb != null) {
                where.add(String.format("packet [0x%x, 0x%x)", PACKET_BASE + skb.data(), PACKET_BASE + skb.dataEnd()));
                where.add(String.format("ctx [0x%x, 0x%x)", CTX_BASE, CTX_BASE + skb.ctx().byteSize()));
            }
            if (xdp != null) {
                where.add(String.format("packet [0x%x, 0x%x)", PACKET_BASE + xdp.dataMeta(), PACKET_BASE + xdp.dataEnd()));
                where.add(String.format("ctx [0x%x, 0x%x)", CTX_BASE, CTX_BASE + XDP_MD_SIZE));
            }
            instance.mapRegions.forEach(r -> where.add(r.toString()));
            throw new TrapException(pc, String.format("invalid %s of %d bytes at 0x%x: outside every region (%s)",
                    what, size, address, where));
        }

        /** Writes the host-layout context from the frame (data pointers move with adjust_*). */
        void refreshHostCtx() {
            hostCtx.set(ValueLayout.JAVA_LONG, 0, PACKET_BASE + xdp.data());
            hostCtx.set(ValueLayout.JAVA_LONG, 8, PACKET_BASE + xdp.dataEnd());
            hostCtx.set(ValueLayout.JAVA_LONG, 16, PACKET_BASE + xdp.dataMeta());
            hostCtx.set(ValueLayout.JAVA_INT, 24, TEST_RUN_IFINDEX);
            hostCtx.set(ValueLayout.JAVA_INT, 28, 0);
        }

        private long load(long address, Size size, String what) {
            if (hostCtx != null && within(address, size.bytes(), CTX_BASE, hostCtx.byteSize())) {
                long off = address - CTX_BASE;
                return switch (size) {
                    case DW -> hostCtx.get(ValueLayout.JAVA_LONG_UNALIGNED, off);
                    case W -> hostCtx.get(ValueLayout.JAVA_INT_UNALIGNED, off) & 0xffff_ffffL;
                    case H -> hostCtx.get(ValueLayout.JAVA_SHORT_UNALIGNED, off) & 0xffffL;
                    case B -> hostCtx.get(ValueLayout.JAVA_BYTE, off) & 0xffL;
                };
            }
            if (xdp != null && hostCtx == null && size == Size.W && within(address, 4, CTX_BASE, XDP_MD_SIZE)
                    && (address - CTX_BASE) % 4 == 0) {
                return xdpMd((int) (address - CTX_BASE));
            }
            Place p = resolve(address, size.bytes(), what, false);
            return switch (size) {
                case B -> p.segment.get(ValueLayout.JAVA_BYTE, p.offset) & 0xffL;
                case H -> p.segment.get(ValueLayout.JAVA_SHORT_UNALIGNED, p.offset) & 0xffffL;
                case W -> p.segment.get(ValueLayout.JAVA_INT_UNALIGNED, p.offset) & 0xffff_ffffL;
                case DW -> p.segment.get(ValueLayout.JAVA_LONG_UNALIGNED, p.offset);
            };
        }

        /** struct xdp_md, read in Linux's user layout; data pointers come back whole (64-bit). */
        private long xdpMd(int offset) {
            return switch (offset) {
                case 0 -> PACKET_BASE + xdp.data();
                case 4 -> PACKET_BASE + xdp.dataEnd();
                case 8 -> PACKET_BASE + xdp.dataMeta();
                case 12 -> TEST_RUN_IFINDEX;
                case 16 -> 0; // rx_queue_index
                default -> throw new TrapException(pc, "invalid XDP context access at offset " + offset
                        + " (egress_ifindex is only readable in devmap programs)");
            };
        }

        private void store(long address, Size size, long v) {
            Place p = resolve(address, size.bytes(), "store", true);
            switch (size) {
                case B -> p.segment.set(ValueLayout.JAVA_BYTE, p.offset, (byte) v);
                case H -> p.segment.set(ValueLayout.JAVA_SHORT_UNALIGNED, p.offset, (short) v);
                case W -> p.segment.set(ValueLayout.JAVA_INT_UNALIGNED, p.offset, (int) v);
                case DW -> p.segment.set(ValueLayout.JAVA_LONG_UNALIGNED, p.offset, v);
            }
        }

        private static long signExtend(long v, Size size) {
            return switch (size) {
                case B -> (byte) v;
                case H -> (short) v;
                case W -> (int) v;
                case DW -> v;
            };
        }

        /** RFC 9669 5.3. Atomics need natural alignment: misaligned ones trap (Linux refuses them too). */
        private void atomic(Insn.Atomic a) {
            long address = reg[a.dst().n()] + a.offset();
            int size = a.size().bytes();
            resolve(address, size, "atomic", false); // an atomic reads before it writes
            Place p = resolve(address, size, "atomic", true);
            if ((p.segment.address() + p.offset) % size != 0) {
                throw new TrapException(pc, String.format("misaligned atomic of %d bytes at 0x%x", size, address));
            }
            AtomicOp op = a.op();
            long src = reg[a.src().n()];
            long old;
            if (a.size() == Size.W) {
                int s = (int) src;
                old = Semantics.zext32(switch (op) {
                    case ADD, FETCH_ADD -> (int) I32.getAndAdd(p.segment, p.offset, s);
                    case OR, FETCH_OR -> (int) I32.getAndBitwiseOr(p.segment, p.offset, s);
                    case AND, FETCH_AND -> (int) I32.getAndBitwiseAnd(p.segment, p.offset, s);
                    case XOR, FETCH_XOR -> (int) I32.getAndBitwiseXor(p.segment, p.offset, s);
                    case XCHG -> (int) I32.getAndSet(p.segment, p.offset, s);
                    case CMPXCHG -> (int) I32.compareAndExchange(p.segment, p.offset, (int) reg[0], s);
                });
            } else {
                old = switch (op) {
                    case ADD, FETCH_ADD -> (long) I64.getAndAdd(p.segment, p.offset, src);
                    case OR, FETCH_OR -> (long) I64.getAndBitwiseOr(p.segment, p.offset, src);
                    case AND, FETCH_AND -> (long) I64.getAndBitwiseAnd(p.segment, p.offset, src);
                    case XOR, FETCH_XOR -> (long) I64.getAndBitwiseXor(p.segment, p.offset, src);
                    case XCHG -> (long) I64.getAndSet(p.segment, p.offset, src);
                    case CMPXCHG -> (long) I64.compareAndExchange(p.segment, p.offset, reg[0], src);
                };
            }
            if (op == AtomicOp.CMPXCHG) {
                reg[0] = old;
            } else if (op.fetches()) {
                reg[a.src().n()] = old;
            }
        }

        // -------------------------------------------------------------------------------
        // HelperContext

        @Override
        public byte[] read(long address, int size) {
            if (size == 0) {
                return new byte[0];
            }
            Place p = resolve(address, size, "helper read", false);
            return p.segment.asSlice(p.offset, size).toArray(ValueLayout.JAVA_BYTE);
        }

        @Override
        public void write(long address, byte[] bytes) {
            if (bytes.length == 0) {
                return;
            }
            Place p = resolve(address, bytes.length, "helper write", true);
            MemorySegment.copy(bytes, 0, p.segment, ValueLayout.JAVA_BYTE, p.offset, bytes.length);
        }

        @Override
        public MemorySegment memory(long address, int size, boolean write) {
            if (size == 0) {
                return MemorySegment.ofArray(new byte[0]);
            }
            if (size < 0) {
                throw new TrapException(pc, "negative size " + size + " passed to a helper");
            }
            Place p = resolve(address, size, write ? "helper write" : "helper read", write);
            return p.segment.asSlice(p.offset, size);
        }

        @Override
        public BpfMap map(long handle) {
            long offset = handle - MAP_HANDLE_BASE;
            if (offset < 0 || offset % 256 != 0 || offset / 256 >= instance.maps.size()) {
                throw new TrapException(pc, String.format("0x%x is not a map (maps come from lddw map_idx)", handle));
            }
            return instance.maps.get((int) (offset / 256));
        }

        @Override
        public BpfMap mapOwning(long programAddress) {
            for (int k = 0; k < instance.mapRegions.size(); k++) {
                if (instance.mapRegions.get(k).contains(programAddress, 1)) {
                    return instance.regionOwner.get(k);
                }
            }
            throw new TrapException(pc, String.format("0x%x is not inside a map", programAddress));
        }

        @Override
        public long programAddress(long nativeAddress) {
            if (nativeAddress == 0) {
                return 0;
            }
            for (Region r : instance.mapRegions) {
                long offset = nativeAddress - r.segment().address();
                if (offset >= 0 && offset < r.segment().byteSize()) {
                    return r.base() + offset;
                }
            }
            throw new IllegalStateException(String.format("native address 0x%x is in no map region", nativeAddress));
        }

        @Override
        public long nativeAddress(long programAddress) {
            for (Region r : instance.mapRegions) {
                if (r.contains(programAddress, 1)) {
                    return r.segment().address() + (programAddress - r.base());
                }
            }
            throw new TrapException(pc, String.format("0x%x is not inside a map", programAddress));
        }

        @Override
        public XdpBuffer xdp() {
            return xdp;
        }

        @Override
        public SkbBuffer skb() {
            return skb;
        }

        @Override
        public MemorySegment csdNamespace() {
            return csdNamespace;
        }

        @Override
        public Environment env() {
            return env;
        }
    }
}
