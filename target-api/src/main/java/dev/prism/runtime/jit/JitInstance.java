package dev.prism.runtime.jit;

import dev.prism.error.TargetException;
import dev.prism.error.TrapException;
import dev.prism.error.VerificationException;
import dev.prism.isa.CallKind;
import dev.prism.isa.Insn;
import dev.prism.program.MapDef;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.program.XdpContext;
import dev.prism.runtime.Environment;
import dev.prism.runtime.Helper;
import dev.prism.runtime.HelperContext;
import dev.prism.runtime.HelperTable;
import dev.prism.runtime.Helpers;
import dev.prism.runtime.MapSetAccess;
import dev.prism.runtime.Region;
import dev.prism.runtime.SkbBuffer;
import dev.prism.runtime.XdpBuffer;
import dev.prism.runtime.maps.ArrayMap;
import dev.prism.runtime.maps.BpfMap;
import dev.prism.runtime.maps.BpfMaps;
import dev.prism.runtime.maps.HashTableMap;
import dev.prism.runtime.maps.ProgArrayMap;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The machine-independent half of running JIT output (DESIGN.md, "Maps and helpers"): the
 * programs of one object with their maps and their {@link RunContext run context}, for any JIT
 * whose code addresses host memory directly (x86-64 natively; arm64 in an emulator that maps
 * host memory at the same addresses).
 *
 * <ul>
 * <li>Maps are created off-heap in their documented layouts ({@link BpfMaps#create}, one CPU);
 *     the context's map slots hold the handles the code uses: an ARRAY's element 0, a hash
 *     map's table block, a PROG_ARRAY's native table of entry addresses (kept in step with the
 *     map's slots before each run), a token for the other types (only helpers take it).</li>
 * <li>Helpers the programs call (all but tail_call and loop, which the JITs lower themselves)
 *     get a native entry in their context slot from {@link #helperEntry}; whatever that entry
 *     is, it ends in {@link #callHelper}, which runs the Java implementation of
 *     {@link HelperTable#standard()} with a {@link HelperContext} whose addresses are native
 *     ones, refreshes the XDP context afterwards, and turns an exception into the status word,
 *     since nothing may be thrown across generated code.</li>
 * <li>Raw programs handed over unverified are verified for the size of memory each run brings
 *     ({@code Verifier.verify(p, RFC9669, size, null)}) and compiled once per size; other
 *     types once, at load.</li>
 * <li>A run: the input is placed in native memory (raw: a copy of the memory, r1 its address
 *     and r2 its length; XDP: an {@link XdpBuffer} frame, r1 the host-layout context of
 *     {@link XdpContext}; tc: an {@link SkbBuffer}, r1 its context in the host layout of
 *     {@link dev.prism.program.SkbContext}; csd: r1 the {@link dev.prism.program.CsdContext} of one chunk,
 *     from {@link #runChunk} or, for a {@link RunInput}, as target-csd's single-chunk run: the
 *     memory is the namespace and its one chunk at offset 0, out as long, zeroed, the result's
 *     memAfter, r0 all 64 bits; prism_csd_read reads the namespace through the helper path at
 *     {@link RunContext#CSD_READ_SLOT}); {@link #invoke} runs the entry program; a nonzero status afterwards
 *     is a {@link TrapException} at the pc the context names.</li>
 * </ul>
 * Runs are serialized; {@link #close()} frees code, maps and context.
 *
 * @param <C> one program's code as the subclass holds it
 */
public abstract class JitInstance<C> implements Executable, dev.prism.target.ChunkRunner {
    /** The arena of everything that lives as long as the instance: context, maps, helper stubs. */
    protected final Arena arena = Arena.ofShared();
    private final String target;
    private final List<Program> programs;
    private final Environment env;
    private final HelperTable helpers = HelperTable.standard();
    private final List<BpfMap> maps = new ArrayList<>();
    private final long[] handles;
    private final MemorySegment[] progTables;
    private final List<Region> mapRegions = new ArrayList<>();
    private final List<BpfMap> regionOwner = new ArrayList<>();
    private final MemorySegment context;
    private final MemorySegment hostCtx;
    /** Code per memory size for raw programs (key -1 for the others), each program of the set. */
    private final Map<Integer, List<C>> code = new HashMap<>();
    /** Set when the code was compiled from one given VerifiedProgram: the memory size it was proven for. */
    private final Integer fixedSize;
    private final NativeHelpers helperContext = new NativeHelpers();

    // The current run.
    private XdpBuffer xdp;
    /** A tc run's skb; r1 is its host-layout context ({@link dev.prism.program.SkbContext}). */
    private SkbBuffer skb;
    private MemorySegment mem;
    private RuntimeException helperFailure;
    /** A csd run: the namespace prism_csd_read reads, the chunk (read-only), the output buffer, the context. */
    private MemorySegment csdNamespace;
    private Region csdData;
    private Region csdOut;
    private MemorySegment csdCtx;

    /**
     * Creates the maps and the run context; the subclass then calls {@link #bindHelpers()} and
     * installs or compiles code.
     *
     * @param target    the target's id, for messages ("x86-64")
     * @param fixedSize the memory size the one program was verified for, when the code comes from
     *                  a given VerifiedProgram; null when programs are verified here
     */
    protected JitInstance(String target, List<Program> programs, Environment env, Integer fixedSize) {
        if (programs.isEmpty()) {
            throw new IllegalArgumentException("no program to load");
        }
        this.target = target;
        this.programs = List.copyOf(programs);
        this.env = env;
        this.fixedSize = fixedSize;
        List<MapDef> defs = programs.get(0).maps();
        this.handles = new long[defs.size()];
        this.progTables = new MemorySegment[defs.size()];
        try {
            this.context = arena.allocate(RunContext.size(defs.size()), 16);
            this.hostCtx = arena.allocate(XdpContext.RUNTIME_SIZE, 8);
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
                    case dev.prism.runtime.maps.LpmTrieMap l when l.nativeAddress() != 0 -> l.nativeAddress();
                    // RINGBUF: its header, which native reserve/submit code works on as Java does
                    case dev.prism.runtime.maps.RingBufMap r -> r.address();
                    // DEVMAP, CPUMAP, XSKMAP: the slot words inlined bpf_redirect_map reads
                    case dev.prism.runtime.maps.RedirectMap r when r.tableAddress() != 0 -> r.tableAddress();
                    // PERF_EVENT_ARRAY: its block of slot states and records, which native output code appends to
                    case dev.prism.runtime.maps.PerfEventArrayMap e -> e.address();
                    case ProgArrayMap p -> (progTables[i] = arena.allocate(8L * Math.max(1, p.def().maxEntries()), 8)).address();
                    // ARRAY_OF_MAPS: slot 0's handle, so an inlined lookup is array arithmetic (8-byte stride)
                    case dev.prism.runtime.maps.MapOfMaps o when o.def().type() == dev.prism.program.MapType.ARRAY_OF_MAPS ->
                            o.handlesAddress();
                    default -> arena.allocate(8, 8).address(); // a token: only helpers take it
                };
                context.set(ValueLayout.JAVA_LONG, RunContext.mapSlot(i), handles[i]);
                for (Region r : m.regions()) {
                    mapRegions.add(r);
                    regionOwner.add(m);
                }
            }
            try {
                dev.prism.runtime.RunExtras.bindMapsInMaps(maps, m -> handles[maps.indexOf(m)]);
            } catch (IllegalArgumentException e) {
                throw new TargetException("cannot create the maps: " + e.getMessage(), e);
            }
        } catch (RuntimeException e) {
            releaseShared();
            throw e;
        }
    }

    // ---- What a target supplies.

    /** {@return the code of one verified program, ready to run} @throws TargetException when the target refuses it */
    protected abstract C compile(VerifiedProgram verified);

    /** Frees one program's code. */
    protected abstract void free(C code);

    /** {@return the native address where a tail call into {@code code} lands} */
    protected abstract long tailEntry(C code);

    /** {@return the pc of the call whose native return address is {@code address}, or -1} */
    protected abstract int callPcAt(List<C> code, long address);

    /** {@return the memory a native stack of a run may occupy, for helpers given stack pointers} */
    protected abstract Region stack();

    /**
     * {@return the native entry for helper {@code id}'s context slot}: whatever it is, calling it
     * with r1-r5 must end in {@link #callHelper} with {@code helper}
     */
    protected abstract long helperEntry(int id, Helper helper);

    /**
     * Runs the entry program once on a prepared input; {@return r0}. A nonzero status word
     * afterwards is turned into a trap by the caller.
     *
     * @throws TrapException for traps the target detects itself (an emulator's memory fault)
     */
    protected abstract long invoke(Prepared<C> run);

    /** Called once a run's input is in place, before the first {@link #invoke} on it. */
    protected void enter(Prepared<C> run) {
    }

    /** Called after the last {@link #invoke} on a run's input, before its memory is freed; must not throw. */
    protected void leave(Prepared<C> run) {
    }

    /** {@return a run's copy of raw memory, {@code size} bytes (size > 0), in {@code runArena}} */
    protected MemorySegment allocateMem(Arena runArena, int size) {
        return runArena.allocate(size, 8);
    }

    /** {@return whether {@code code} never calls a helper through its slot (so it never enters Java)} */
    protected boolean nativeOnly(List<C> code) {
        return false;
    }

    // ---- Shared machinery.

    /** {@return time, randomness and CPU as the instance's helpers see them} */
    protected final Environment env() {
        return env;
    }

    /** {@return the target's id, as messages name it} */
    protected final String target() {
        return target;
    }

    /** {@return the programs, the entry first} */
    protected final List<Program> programs() {
        return programs;
    }

    /** {@return the run context} */
    protected final MemorySegment context() {
        return context;
    }

    /** {@return the host-layout XDP context} */
    protected final MemorySegment hostContext() {
        return hostCtx;
    }

    /** {@return the maps, by index} */
    protected final List<BpfMap> bpfMaps() {
        return Collections.unmodifiableList(maps);
    }

    /** {@return every region of map memory} */
    protected final List<Region> mapRegions() {
        return Collections.unmodifiableList(mapRegions);
    }

    /** {@return the PROG_ARRAY tables (null for other maps), by map index} */
    protected final List<MemorySegment> progTables() {
        return java.util.Arrays.asList(progTables);
    }

    /** {@return the helper table the instance binds} */
    protected final HelperTable helpers() {
        return helpers;
    }

    /** {@return the current run's XDP frame, or null} */
    protected final XdpBuffer xdp() {
        return xdp;
    }

    /** {@return the current run's skb (tc programs), or null} */
    protected final SkbBuffer skb() {
        return skb;
    }

    /** {@return the current run's raw memory, or null} */
    protected final MemorySegment mem() {
        return mem;
    }

    /** Fills the helper table with {@link #helperEntry} for each helper the programs call and Java implements. */
    protected final void bindHelpers() {
        TreeSet<Integer> ids = new TreeSet<>();
        for (Program p : programs) {
            for (Insn insn : p.slots()) {
                if (insn instanceof Insn.Call c && c.kind() == CallKind.HELPER
                        && c.imm() != Helpers.TAIL_CALL && c.imm() != Helpers.LOOP) {
                    ids.add(c.imm());
                }
                if (insn instanceof Insn.CallX) {
                    // callx of a helper id (profile rfc9669): the verifier names the helper only when
                    // the code is compiled, after this, so every helper gets its slot
                    for (int id = 0; id < RunContext.HELPER_SLOTS; id++) {
                        if (id != Helpers.TAIL_CALL && id != Helpers.LOOP) {
                            ids.add(id);
                        }
                    }
                }
                if (insn instanceof Insn.Call c && c.kind() == CallKind.HELPER_BTF) {
                    dev.prism.runtime.Kfuncs.byId(c.imm()).ifPresent(k -> ids.add(k.slot())); // kfuncs: their own slots
                }
            }
        }
        if (ids.contains(Helpers.FOR_EACH_MAP_ELEM)) {
            ids.remove(Helpers.FOR_EACH_MAP_ELEM); // the JITs lower it to a loop over FOR_EACH_STEP
            context.set(ValueLayout.JAVA_LONG, RunContext.helperSlot(RunContext.FOR_EACH_STEP),
                    helperEntry(RunContext.FOR_EACH_STEP, dev.prism.runtime.ForEachStep.HELPER));
        }
        if (ids.remove(Helpers.CSD_READ) && helpers.lookup(Helpers.CSD_READ).isPresent()) {
            context.set(ValueLayout.JAVA_LONG, RunContext.helperSlot(RunContext.CSD_READ_SLOT),
                    helperEntry(RunContext.CSD_READ_SLOT, helpers.lookup(Helpers.CSD_READ).orElseThrow().helper()));
        }
        for (int id : ids) {
            if (helpers.lookup(id).isEmpty() || id < 0 || id >= RunContext.HELPER_SLOTS) {
                continue; // the JIT refuses the call with its name
            }
            context.set(ValueLayout.JAVA_LONG, RunContext.helperSlot(id), helperEntry(id, helpers.lookup(id).orElseThrow().helper()));
        }
    }

    /**
     * The Java side of a helper call. It never throws (an exception cannot cross generated
     * code): a failure is kept, the status word set, and the code unwinds when it sees it.
     * {@return r0}
     */
    protected final long callHelper(Helper helper, long r1, long r2, long r3, long r4, long r5) {
        try {
            if (xdp != null) {
                pullContext(); // native helpers may have moved data, data_end, data_meta
            }
            long r0 = helper.call(helperContext, r1, r2, r3, r4, r5);
            if (xdp != null) {
                refreshContext(); // adjust_head/meta/tail move data, data_end, data_meta
            }
            if (skb != null) {
                refreshSkb(); // change_head and adjust_room move data
            }
            return r0;
        } catch (RuntimeException | Error e) {
            failHelper(e);
            return 0;
        }
    }

    /** Records {@code e} as the current helper call's failure and sets the status word. */
    protected final void failHelper(Throwable e) {
        helperFailure = e instanceof RuntimeException re ? re : new IllegalStateException(e.toString(), e);
        context.set(ValueLayout.JAVA_LONG, RunContext.STATUS, RunContext.STATUS_HELPER);
    }

    /** Compiles and installs the code of a set whose entry is not raw (raw programs wait for a memory size). */
    protected final void compileEager() {
        if (programs.get(0).type() != ProgramType.RAW) {
            codeFor(-1);
        }
    }

    /** Installs the one program's code compiled from its proof, for memory size {@code memSize}. */
    protected final void install(int memSize, C compiled) {
        code.put(memSize, List.of(compiled));
    }

    private List<C> codeFor(int memSize) {
        if (fixedSize != null) {
            if (fixedSize >= 0 && fixedSize != memSize) {
                throw new TargetException("the program was verified for " + fixedSize + " bytes of memory; this run has " + memSize);
            }
            return code.get(fixedSize);
        }
        List<C> c = code.get(memSize);
        if (c != null) {
            return c;
        }
        List<C> made = new ArrayList<>();
        try {
            for (Program p : programs) {
                VerifiedProgram v;
                try {
                    v = Verifier.verify(p, Profile.RFC9669, p.type() == ProgramType.RAW ? memSize : -1, null);
                } catch (VerificationException e) {
                    throw new TargetException("rejected by the verifier" + (programs.size() > 1 ? " (" + p.name() + ")" : "")
                            + ": " + e.getMessage(), e);
                }
                made.add(compile(v));
            }
        } catch (RuntimeException e) {
            made.forEach(this::free);
            throw e;
        }
        c = List.copyOf(made);
        code.put(memSize, c);
        return c;
    }

    /**
     * The input of a run, placed in native memory.
     *
     * @param code       the code of each program of the set, the entry first
     * @param nativeOnly whether that code never enters Java ({@link #nativeOnly})
     * @param r1         the entry's r1 (raw: the memory's address or 0; XDP: the host context)
     * @param r2         the entry's r2 (raw: the memory's length; XDP: 0)
     * @param arena      the run's memory, freed when it is closed
     */
    public record Prepared<C>(List<C> code, boolean nativeOnly, long r1, long r2, Arena arena) implements AutoCloseable {
        @Override
        public void close() {
            arena.close();
        }
    }

    private Prepared<C> prepare(RunInput input) {
        Program entry = programs.get(0);
        Arena runArena = Arena.ofConfined();
        try {
            long r1;
            long r2 = 0;
            int size = -1;
            if (entry.type() == ProgramType.XDP) {
                byte[] packet = input.packet();
                if (packet == null) {
                    throw new TargetException("an XDP program needs a packet");
                }
                try {
                    xdp = new XdpBuffer(runArena, packet);
                } catch (IllegalArgumentException e) {
                    throw new TargetException(e.getMessage(), e);
                }
                refreshContext();
                r1 = hostCtx.address();
            } else if (entry.type() == ProgramType.RAW) {
                if (input.packet() != null) {
                    throw new TargetException("a raw program takes memory, not a packet");
                }
                byte[] m = input.mem();
                size = m.length;
                mem = size == 0 ? null : allocateMem(runArena, size);
                if (mem != null) {
                    MemorySegment.copy(m, 0, mem, ValueLayout.JAVA_BYTE, 0, size);
                }
                r1 = mem == null ? 0 : mem.address();
                r2 = size;
                context.set(ValueLayout.JAVA_LONG, RunContext.PKT_START, r1);
                context.set(ValueLayout.JAVA_LONG, RunContext.PKT_END, r1 + size);
            } else if (entry.type() == ProgramType.TC) {
                byte[] packet = input.packet();
                if (packet == null) {
                    throw new TargetException("a tc program needs a packet");
                }
                try {
                    skb = new SkbBuffer(runArena, packet, input.skb());
                } catch (IllegalArgumentException e) {
                    throw new TargetException(e.getMessage(), e);
                }
                refreshSkb();
                r1 = skb.ctx().address();
            } else if (entry.type() == ProgramType.CSD) {
                // as target-csd's single-chunk run: the memory is the namespace and its one chunk at
                // offset 0; the output buffer as long (at most MAX_REGION), zeroed; parameters 0
                if (input.packet() != null) {
                    throw new TargetException("a csd program takes memory, not a packet");
                }
                byte[] m = input.mem();
                MemorySegment ns = runArena.allocate(Math.max(1, m.length), 8).asSlice(0, m.length);
                MemorySegment.copy(m, 0, ns, ValueLayout.JAVA_BYTE, 0, m.length);
                int len = Math.min(m.length, dev.prism.program.CsdContext.MAX_REGION);
                MemorySegment out = runArena.allocate(Math.max(1, len), 8).asSlice(0, len);
                r1 = csdContext(ns, 0, len, out, 0, 0);
            } else {
                throw TargetException.unsupported("program type " + entry.type().id() + " on " + target + " (raw, xdp, tc and csd are)");
            }
            List<C> c = codeFor(size);
            syncProgTables(c);
            return new Prepared<>(c, nativeOnly(c), r1, r2, runArena);
        } catch (RuntimeException e) {
            runArena.close();
            throw e;
        }
    }

    @Override
    public synchronized RunResult run(RunInput input) {
        try (Prepared<C> p = prepare(input)) {
            try {
                enter(p);
                long r0 = execute(p);
                if (programs.get(0).type() != ProgramType.RAW && programs.get(0).type() != ProgramType.CSD) {
                    r0 &= 0xffff_ffffL; // bpf_prog_run returns u32, as in the interpreter (csd: all 64 bits)
                }
                if (xdp != null) {
                    pullContext();
                }
                if (csdOut != null) {
                    return new RunResult(r0, csdOut.segment().toArray(ValueLayout.JAVA_BYTE));
                }
                byte[] memAfter = mem == null ? new byte[0] : mem.toArray(ValueLayout.JAVA_BYTE);
                if (skb != null) {
                    return new RunResult(r0, memAfter, skb.packet(), skb.fields(), null,
                            dev.prism.runtime.RunExtras.drainEvents(maps));
                }
                return new RunResult(r0, memAfter, xdp == null ? null : xdp.output(),
                        dev.prism.runtime.RunExtras.redirect(r0, xdp), dev.prism.runtime.RunExtras.drainEvents(maps));
            } finally {
                leave(p);
            }
        } finally {
            xdp = null;
            skb = null;
            mem = null;
            csdNamespace = null;
            csdData = null;
            csdOut = null;
        }
    }

    /**
     * Runs a csd entry program over one chunk, as the interpreter's {@code runCsd}: the chunk
     * and the output buffer are addressed in place when they are native segments (a mapped
     * file, an arena's memory), copied otherwise (heap segments).
     */
    @Override
    public synchronized long runChunk(MemorySegment namespace, long chunkOffset, long chunkLength, MemorySegment out,
                                      long param0, long param1) {
        if (programs.get(0).type() != ProgramType.CSD) {
            throw new TargetException("runChunk runs csd programs; this one is " + programs.get(0).type().id());
        }
        if (chunkOffset < 0 || chunkLength < 0 || chunkLength > dev.prism.program.CsdContext.MAX_REGION
                || chunkOffset > namespace.byteSize() - chunkLength) {
            throw new TargetException("chunk [" + chunkOffset + ", +" + chunkLength + ") is not inside the namespace of "
                    + namespace.byteSize() + " bytes, or longer than " + dev.prism.program.CsdContext.MAX_REGION);
        }
        long outLength = Math.min(out.byteSize(), dev.prism.program.CsdContext.MAX_REGION);
        Arena runArena = Arena.ofConfined();
        Prepared<C> p = null;
        try {
            MemorySegment ns = namespace;
            if (!ns.isNative()) {
                ns = runArena.allocate(Math.max(1, ns.byteSize()), 8).asSlice(0, ns.byteSize()).copyFrom(ns);
            }
            MemorySegment o = out.asSlice(0, outLength);
            if (!o.isNative()) {
                o = runArena.allocate(Math.max(1, outLength), 8).asSlice(0, outLength).copyFrom(o);
            }
            long r1 = csdContext(ns, chunkOffset, chunkLength, o, param0, param1);
            List<C> c = codeFor(-1);
            syncProgTables(c);
            p = new Prepared<>(c, nativeOnly(c), r1, 0, runArena);
            try {
                enter(p);
                long r0 = execute(p);
                if (!out.isNative()) {
                    out.asSlice(0, outLength).copyFrom(o); // the native copy back into the heap buffer
                }
                return r0;
            } finally {
                leave(p);
            }
        } finally {
            csdNamespace = null;
            csdData = null;
            csdOut = null;
            runArena.close();
        }
    }

    /** Points the csd context at a run's chunk and output buffer (native segments); {@return its address, r1} */
    private long csdContext(MemorySegment ns, long chunkOffset, long chunkLength, MemorySegment out, long param0, long param1) {
        if (csdCtx == null) {
            csdCtx = arena.allocate(dev.prism.program.CsdContext.SIZE, 8);
        }
        MemorySegment data = ns.asSlice(chunkOffset, chunkLength);
        csdNamespace = ns;
        csdData = new Region("data", data.address(), data, false);
        csdOut = new Region("out", out.address(), out, true);
        csdCtx.set(ValueLayout.JAVA_LONG, dev.prism.program.CsdContext.DATA, data.address());
        csdCtx.set(ValueLayout.JAVA_LONG, dev.prism.program.CsdContext.DATA_END, data.address() + chunkLength);
        csdCtx.set(ValueLayout.JAVA_LONG, dev.prism.program.CsdContext.OUT, out.address());
        csdCtx.set(ValueLayout.JAVA_LONG, dev.prism.program.CsdContext.OUT_END, out.address() + out.byteSize());
        csdCtx.set(ValueLayout.JAVA_LONG, dev.prism.program.CsdContext.OFFSET, chunkOffset);
        csdCtx.set(ValueLayout.JAVA_LONG, dev.prism.program.CsdContext.PARAM0, param0);
        csdCtx.set(ValueLayout.JAVA_LONG, dev.prism.program.CsdContext.PARAM1, param1);
        context.set(ValueLayout.JAVA_LONG, RunContext.PKT_START, data.address());
        context.set(ValueLayout.JAVA_LONG, RunContext.PKT_END, data.address() + chunkLength);
        return csdCtx.address();
    }

    /** Times a loop of runs on one prepared input: what Linux's test run does with repeat. */
    @Override
    public synchronized double nanosPerRun(RunInput input, int repeat) {
        if (repeat <= 0) {
            throw new IllegalArgumentException("repeat must be positive, was " + repeat);
        }
        try (Prepared<C> p = prepare(input)) {
            try {
                enter(p);
                long t0 = System.nanoTime();
                for (int i = 0; i < repeat; i++) {
                    execute(p);
                }
                return (System.nanoTime() - t0) / (double) repeat;
            } finally {
                leave(p);
            }
        } finally {
            xdp = null;
            skb = null;
            mem = null;
            csdNamespace = null;
            csdData = null;
            csdOut = null;
        }
    }

    private long execute(Prepared<C> p) {
        context.set(ValueLayout.JAVA_LONG, RunContext.STATUS, 0);
        helperFailure = null;
        long r0 = invoke(p);
        long status = context.get(ValueLayout.JAVA_LONG, RunContext.STATUS);
        if (status != 0) {
            throw trap(status, p.code());
        }
        return r0;
    }

    private TrapException trap(long status, List<C> c) {
        long info = context.get(ValueLayout.JAVA_LONG, RunContext.TRAP_INFO);
        if (status == RunContext.STATUS_CALL_DEPTH) {
            return new TrapException(callPcAt(c, info), "call depth exceeds 8 frames");
        }
        if (status == RunContext.STATUS_MAP_MISMATCH) {
            return new TrapException((int) info, "internal error: the map in r1 is not the one the verifier's facts name");
        }
        RuntimeException e = helperFailure;
        String name = "helper";
        Insn at = (int) info >= 0 && (int) info < programs.get(0).length() ? programs.get(0).at((int) info) : null;
        if (at instanceof Insn.Call call) {
            name = "bpf_" + helpers.lookup(call.imm()).map(HelperTable.Entry::name).orElse("#" + call.imm());
        }
        String why = e == null ? "unknown failure" : e instanceof TrapException t ? t.reason() : e.getMessage();
        return new TrapException((int) info, name + ": " + why);
    }

    /** Points each PROG_ARRAY's native table at the tail entries of the programs its slots name. */
    private void syncProgTables(List<C> c) {
        for (int i = 0; i < maps.size(); i++) {
            if (maps.get(i) instanceof ProgArrayMap pa) {
                for (int k = 0; k < pa.def().maxEntries(); k++) {
                    long target = pa.get(k) instanceof Integer t ? tailEntry(c.get(t)) : 0;
                    progTables[i].set(ValueLayout.JAVA_LONG, 8L * k, target);
                }
            }
        }
    }

    /** Writes the host-layout context and the packet bounds from the XDP frame. */
    private void refreshContext() {
        long base = xdp.frame().address();
        hostCtx.set(ValueLayout.JAVA_LONG, 0, base + xdp.data());
        hostCtx.set(ValueLayout.JAVA_LONG, 8, base + xdp.dataEnd());
        hostCtx.set(ValueLayout.JAVA_LONG, 16, base + xdp.dataMeta());
        hostCtx.set(ValueLayout.JAVA_INT, 24, 1); // ingress_ifindex of Linux's test run: loopback
        hostCtx.set(ValueLayout.JAVA_INT, 28, 0);
        hostCtx.set(ValueLayout.JAVA_LONG, XdpContext.HOST_FRAME, base);
        context.set(ValueLayout.JAVA_LONG, RunContext.REDIRECT, 0);
        context.set(ValueLayout.JAVA_LONG, RunContext.PKT_START, base + xdp.data());
        context.set(ValueLayout.JAVA_LONG, RunContext.PKT_END, base + xdp.dataEnd());
    }

    /** Reads back into the XDP frame what native code (a native adjust helper) wrote to the context. */
    private void pullContext() {
        long base = xdp.frame().address();
        xdp.bounds(hostCtx.get(ValueLayout.JAVA_LONG, 16) - base, hostCtx.get(ValueLayout.JAVA_LONG, 0) - base,
                hostCtx.get(ValueLayout.JAVA_LONG, 8) - base);
        long redirect = context.get(ValueLayout.JAVA_LONG, RunContext.REDIRECT);
        if (redirect != 0) {
            // chosen after anything a Java helper recorded (taken over before each), so it replaces it
            int map = (int) (redirect >>> RunContext.REDIRECT_MAP_SHIFT & 0xffff) - 1;
            long word = redirect & ~(0xffffL << RunContext.REDIRECT_MAP_SHIFT);
            xdp.redirect(dev.prism.runtime.maps.RedirectMap.redirect(word, map < 0 ? null : programs.get(0).maps().get(map).name()));
            context.set(ValueLayout.JAVA_LONG, RunContext.REDIRECT, 0);
        }
    }

    /** Writes the skb's data pointers and len into its context, and the packet bounds for legacy loads. */
    private void refreshSkb() {
        long base = skb.frame().address();
        skb.writePointers(base);
        context.set(ValueLayout.JAVA_LONG, RunContext.PKT_START, base + skb.data());
        context.set(ValueLayout.JAVA_LONG, RunContext.PKT_END, base + skb.dataEnd());
    }

    @Override
    public MapAccess maps() {
        return new MapSetAccess(maps, programs);
    }

    /** Frees code, maps and the arena; a subclass frees its own resources first, then calls this. */
    @Override
    public synchronized void close() {
        for (List<C> cs : code.values()) {
            for (C c : cs) {
                if (c != null) {
                    free(c);
                }
            }
        }
        code.clear();
        releaseShared();
    }

    private void releaseShared() {
        for (BpfMap m : maps) {
            m.close();
        }
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    /**
     * What Java helpers see of a native run: addresses are native, and every access is still
     * checked against the memory the run may touch (stack, input memory or packet, context, maps).
     */
    private final class NativeHelpers implements HelperContext {
        private Region find(long address, int size, boolean write) {
            Region stack = stack();
            if (stack.contains(address, size)) {
                return check(stack, address, size, write);
            }
            for (Region r : mapRegions) {
                if (r.contains(address, size)) {
                    return check(r, address, size, write);
                }
            }
            List<Region> regions = new ArrayList<>(3);
            if (mem != null) {
                regions.add(new Region("mem", mem.address(), mem, true));
            }
            if (xdp != null) {
                long base = xdp.frame().address();
                regions.add(new Region("packet", base + xdp.dataMeta(),
                        xdp.frame().asSlice(xdp.dataMeta(), xdp.dataEnd() - xdp.dataMeta()), true));
                regions.add(new Region("ctx", hostCtx.address(), hostCtx.asSlice(0, XdpContext.HOST_SIZE), false));
            }
            if (csdData != null) {
                regions.add(csdData);
                regions.add(csdOut);
                regions.add(new Region("ctx", csdCtx.address(), csdCtx, false));
            }
            if (skb != null) {
                long base = skb.frame().address();
                regions.add(new Region("packet", base + skb.data(), skb.frame().asSlice(skb.data(), skb.len()), true));
                regions.add(new Region("ctx", skb.ctx().address(), skb.ctx(), false));
            }
            for (Region r : regions) {
                if (r.contains(address, size)) {
                    return check(r, address, size, write);
                }
            }
            throw new IllegalStateException(String.format("%s of %d bytes at 0x%x: outside every region the program may touch",
                    write ? "write" : "read", size, address));
        }

        private static Region check(Region r, long address, int size, boolean write) {
            if (write ? !r.writable() : !r.readable()) {
                throw new IllegalStateException(String.format("%s of %d bytes at 0x%x: %s is %s", write ? "write" : "read",
                        size, address, r.name(), write ? "read-only" : "write-only"));
            }
            return r;
        }

        @Override
        public byte[] read(long address, int size) {
            Region r = find(address, size, false);
            return r.segment().asSlice(address - r.base(), size).toArray(ValueLayout.JAVA_BYTE);
        }

        @Override
        public void write(long address, byte[] bytes) {
            Region r = find(address, bytes.length, true);
            MemorySegment.copy(bytes, 0, r.segment(), ValueLayout.JAVA_BYTE, address - r.base(), bytes.length);
        }

        @Override
        public MemorySegment memory(long address, int size, boolean write) {
            Region r = find(address, size, write);
            return r.segment().asSlice(address - r.base(), size);
        }

        @Override
        public BpfMap map(long handle) {
            for (int i = 0; i < handles.length; i++) {
                if (handles[i] == handle) {
                    return maps.get(i);
                }
            }
            throw new IllegalStateException(String.format("0x%x is not a map of this program", handle));
        }

        @Override
        public BpfMap mapOwning(long programAddress) {
            for (int i = 0; i < mapRegions.size(); i++) {
                if (mapRegions.get(i).contains(programAddress, 1)) {
                    return regionOwner.get(i);
                }
            }
            throw new IllegalStateException(String.format("0x%x is not in any map's memory", programAddress));
        }

        @Override
        public long programAddress(long nativeAddress) {
            return nativeAddress;
        }

        @Override
        public long nativeAddress(long programAddress) {
            return programAddress;
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
