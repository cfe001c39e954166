package dev.prism.x86;

import dev.prism.error.TargetException;
import dev.prism.error.TrapException;
import dev.prism.error.VerificationException;
import dev.prism.isa.CallKind;
import dev.prism.isa.Insn;
import dev.prism.program.MapDef;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Environment;
import dev.prism.runtime.HelperContext;
import dev.prism.runtime.HelperTable;
import dev.prism.runtime.Helpers;
import dev.prism.runtime.MapSetAccess;
import dev.prism.runtime.Region;
import dev.prism.runtime.XdpBuffer;
import dev.prism.runtime.maps.ArrayMap;
import dev.prism.runtime.maps.BpfMap;
import dev.prism.runtime.maps.BpfMaps;
import dev.prism.runtime.maps.HashTableMap;
import dev.prism.runtime.maps.ProgArrayMap;
import dev.prism.sys.ExecutableMemory;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Programs of one object as native code, with their maps and run context (DESIGN.md, "Maps and
 * helpers"): the maps live off-heap in their documented layouts, the code reaches them through
 * the handles in the {@link X86Runtime run context}; helpers not inlined are FFM upcalls into
 * the Java implementations of {@link HelperTable#standard()}, given a {@link HelperContext}
 * whose addresses are native ones. Runs are serialized; close it to free code, maps and stubs
 * (an unreachable instance's code is unmapped by ExecutableMemory's cleaner).
 */
final class NativeInstance implements dev.prism.target.Executable {
    private static final FunctionDescriptor HELPER = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
    private static final MethodHandle UPCALL;
    /** Native stack a run may use below the entry frame: 8 frames and their saved registers, with slack. */
    private static final long STACK_SPAN = (long) X86Jit.MAX_FRAMES * (X86Jit.FRAME_SIZE + 64) + 256;

    static {
        try {
            UPCALL = MethodHandles.lookup().findVirtual(NativeInstance.class, "upcall",
                    MethodType.methodType(long.class, dev.prism.runtime.Helper.class, long.class, long.class, long.class, long.class, long.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** One program's machine code in executable memory. */
    private record Code(X86Jit.Compiled compiled, ExecutableMemory memory) {
        /** {@return whether none of {@code code} calls into Java, so the entry may be called as a critical function} */
        static boolean critical(Code[] code) {
            for (Code c : code) {
                if (!c.compiled().upcalls().isEmpty()) {
                    return false;
                }
            }
            return true;
        }

        long base() {
            return memory.entry().address();
        }
    }

    private final Arena arena = Arena.ofShared();
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
    private final Map<Integer, Code[]> code = new HashMap<>();
    /** Set when the code was compiled from one given VerifiedProgram: the memory size it was proven for. */
    private final Integer fixedSize;
    private final NativeHelpers helperContext = new NativeHelpers();

    // The current run.
    private XdpBuffer xdp;
    private MemorySegment mem;
    private RuntimeException helperFailure;

    private NativeInstance(List<Program> programs, Environment env, Integer fixedSize) {
        if (programs.isEmpty()) {
            throw new IllegalArgumentException("no program to load");
        }
        this.programs = List.copyOf(programs);
        this.env = env;
        this.fixedSize = fixedSize;
        List<MapDef> defs = programs.get(0).maps();
        this.handles = new long[defs.size()];
        this.progTables = new MemorySegment[defs.size()];
        try {
            this.context = arena.allocate(X86Runtime.size(defs.size()), 16);
            this.hostCtx = arena.allocate(dev.prism.program.XdpContext.HOST_SIZE, 8);
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
                    case ProgArrayMap p -> (progTables[i] = arena.allocate(8L * Math.max(1, p.def().maxEntries()), 8)).address();
                    default -> arena.allocate(8, 8).address(); // a token: only helpers take it
                };
                context.set(ValueLayout.JAVA_LONG, X86Runtime.mapSlot(i), handles[i]);
                for (Region r : m.regions()) {
                    mapRegions.add(r);
                    regionOwner.add(m);
                }
            }
            bindHelpers();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** {@return programs of one object, verified and compiled now (raw ones: per memory size, when run)} */
    static NativeInstance of(List<Program> programs, Environment env) {
        NativeInstance n = new NativeInstance(programs, env, null);
        try {
            if (programs.get(0).type() != ProgramType.RAW) {
                n.codeFor(-1);
            }
            return n;
        } catch (RuntimeException e) {
            n.close();
            throw e;
        }
    }

    /** {@return one program compiled from its proof} */
    static NativeInstance of(VerifiedProgram verified, X86Jit.Compiled compiled, Environment env) {
        NativeInstance n = new NativeInstance(List.of(verified.program()), env, verified.memSize());
        n.code.put(verified.memSize(), new Code[] {new Code(compiled, ExecutableMemory.of(compiled.code()))});
        return n;
    }

    /** Fills the helper table with an upcall stub per helper the programs call and Java implements. */
    private void bindHelpers() {
        TreeSet<Integer> ids = new TreeSet<>();
        for (Program p : programs) {
            for (Insn insn : p.slots()) {
                if (insn instanceof Insn.Call c && c.kind() == CallKind.HELPER
                        && c.imm() != Helpers.TAIL_CALL && c.imm() != Helpers.LOOP) {
                    ids.add(c.imm());
                }
            }
        }
        for (int id : ids) {
            if (helpers.lookup(id).isEmpty() || id < 0 || id >= X86Runtime.HELPER_SLOTS) {
                continue; // the JIT refuses the call with its name
            }
            MethodHandle h = MethodHandles.insertArguments(UPCALL.bindTo(this), 0, helpers.lookup(id).orElseThrow().helper());
            MemorySegment stub = Linker.nativeLinker().upcallStub(h, HELPER, arena);
            context.set(ValueLayout.JAVA_LONG, X86Runtime.helperSlot(id), stub.address());
        }
    }

    /**
     * The Java side of a helper call. It must not throw (an exception cannot cross the native
     * frames): a failure is kept, the status word set, and the code unwinds.
     */
    @SuppressWarnings("unused") // through UPCALL
    private long upcall(dev.prism.runtime.Helper helper, long r1, long r2, long r3, long r4, long r5) {
        try {
            long r0 = helper.call(helperContext, r1, r2, r3, r4, r5);
            if (xdp != null) {
                refreshContext(); // adjust_head/meta/tail move data, data_end, data_meta
            }
            return r0;
        } catch (RuntimeException | Error e) {
            helperFailure = e instanceof RuntimeException re ? re : new IllegalStateException(e.toString(), e);
            context.set(ValueLayout.JAVA_LONG, X86Runtime.STATUS, X86Runtime.STATUS_HELPER);
            return 0;
        }
    }

    private Code[] codeFor(int memSize) {
        if (fixedSize != null) {
            if (fixedSize >= 0 && fixedSize != memSize) {
                throw new TargetException("the program was verified for " + fixedSize + " bytes of memory; this run has " + memSize);
            }
            return code.get(fixedSize);
        }
        Code[] c = code.get(memSize);
        if (c != null) {
            return c;
        }
        c = new Code[programs.size()];
        try {
            for (int i = 0; i < c.length; i++) {
                Program p = programs.get(i);
                VerifiedProgram v;
                try {
                    v = Verifier.verify(p, Profile.RFC9669, p.type() == ProgramType.RAW ? memSize : -1, null);
                } catch (VerificationException e) {
                    throw new TargetException("rejected by the verifier" + (programs.size() > 1 ? " (" + p.name() + ")" : "")
                            + ": " + e.getMessage(), e);
                }
                X86Jit.Compiled compiled = X86Jit.compile(v);
                c[i] = new Code(compiled, ExecutableMemory.of(compiled.code()));
            }
        } catch (RuntimeException e) {
            for (Code k : c) {
                if (k != null) {
                    k.memory().close();
                }
            }
            throw e;
        }
        code.put(memSize, c);
        return c;
    }

    /** The input of a run, placed in native memory. */
    private record Prepared(Code[] code, boolean critical, long r1, long r2, Arena arena) implements AutoCloseable {
        @Override
        public void close() {
            arena.close();
        }
    }

    private Prepared prepare(RunInput input) {
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
                mem = size == 0 ? null : runArena.allocate(size, 8);
                if (mem != null) {
                    MemorySegment.copy(m, 0, mem, ValueLayout.JAVA_BYTE, 0, size);
                }
                r1 = mem == null ? 0 : mem.address();
                r2 = size;
                context.set(ValueLayout.JAVA_LONG, X86Runtime.PKT_START, r1);
                context.set(ValueLayout.JAVA_LONG, X86Runtime.PKT_END, r1 + size);
            } else {
                throw TargetException.unsupported("program type " + entry.type().id() + " on x86-64 (raw and xdp are)");
            }
            Code[] c = codeFor(size);
            syncProgTables(c);
            return new Prepared(c, Code.critical(c), r1, r2, runArena);
        } catch (RuntimeException e) {
            runArena.close();
            throw e;
        }
    }

    @Override
    public synchronized RunResult run(RunInput input) {
        try (Prepared p = prepare(input)) {
            long r0 = invoke(p);
            if (programs.get(0).type() != ProgramType.RAW) {
                r0 &= 0xffff_ffffL; // bpf_prog_run returns u32, as in the interpreter
            }
            byte[] memAfter = mem == null ? new byte[0] : mem.toArray(ValueLayout.JAVA_BYTE);
            return new RunResult(r0, memAfter, xdp == null ? null : xdp.output());
        } finally {
            xdp = null;
            mem = null;
        }
    }

    /** Times a loop of native calls on one prepared input: what Linux's test run does with repeat. */
    @Override
    public synchronized double nanosPerRun(RunInput input, int repeat) {
        if (repeat <= 0) {
            throw new IllegalArgumentException("repeat must be positive, was " + repeat);
        }
        try (Prepared p = prepare(input)) {
            long t0 = System.nanoTime();
            for (int i = 0; i < repeat; i++) {
                invoke(p);
            }
            return (System.nanoTime() - t0) / (double) repeat;
        } finally {
            xdp = null;
            mem = null;
        }
    }

    private long invoke(Prepared p) {
        context.set(ValueLayout.JAVA_LONG, X86Runtime.STATUS, 0);
        helperFailure = null;
        ExecutableMemory entry = p.code()[0].memory();
        long r0 = p.critical() ? entry.invokeCritical(p.r1(), p.r2(), context.address())
                : entry.invoke(p.r1(), p.r2(), context.address());
        long status = context.get(ValueLayout.JAVA_LONG, X86Runtime.STATUS);
        if (status != 0) {
            throw trap(status, p.code());
        }
        return r0;
    }

    private TrapException trap(long status, Code[] c) {
        long info = context.get(ValueLayout.JAVA_LONG, X86Runtime.TRAP_INFO);
        if (status == X86Runtime.STATUS_CALL_DEPTH) {
            for (Code k : c) {
                long off = info - k.base();
                if (off >= 0 && off < k.compiled().code().length) {
                    return new TrapException(k.compiled().callPcAt(off), "call depth exceeds " + X86Jit.MAX_FRAMES + " frames");
                }
            }
            return new TrapException(-1, "call depth exceeds " + X86Jit.MAX_FRAMES + " frames");
        }
        if (status == X86Runtime.STATUS_MAP_MISMATCH) {
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
    private void syncProgTables(Code[] c) {
        for (int i = 0; i < maps.size(); i++) {
            if (maps.get(i) instanceof ProgArrayMap pa) {
                for (int k = 0; k < pa.def().maxEntries(); k++) {
                    long target = pa.get(k) instanceof Integer t ? c[t].base() + c[t].compiled().tailEntry() : 0;
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
        context.set(ValueLayout.JAVA_LONG, X86Runtime.PKT_START, base + xdp.data());
        context.set(ValueLayout.JAVA_LONG, X86Runtime.PKT_END, base + xdp.dataEnd());
    }

    @Override
    public MapAccess maps() {
        return new MapSetAccess(maps, programs);
    }

    @Override
    public synchronized void close() {
        for (Code[] cs : code.values()) {
            for (Code c : cs) {
                if (c != null) {
                    c.memory().close();
                }
            }
        }
        code.clear();
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
            long entryRsp = context.get(ValueLayout.JAVA_LONG, X86Runtime.ENTRY_RSP);
            if (within(address, size, entryRsp - STACK_SPAN, STACK_SPAN)) {
                return check(new Region("stack", entryRsp - STACK_SPAN, MemorySegment.ofAddress(entryRsp - STACK_SPAN).reinterpret(STACK_SPAN), true),
                        address, size, write);
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
                regions.add(new Region("ctx", hostCtx.address(), hostCtx, false));
            }
            for (Region r : regions) {
                if (r.contains(address, size)) {
                    return check(r, address, size, write);
                }
            }
            throw new IllegalStateException(String.format("%s of %d bytes at 0x%x: outside every region the program may touch",
                    write ? "write" : "read", size, address));
        }

        private static boolean within(long address, int size, long base, long length) {
            long offset = address - base;
            return Long.compareUnsigned(offset, length) < 0 && Long.compareUnsigned(offset + size, length) <= 0;
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
        public Environment env() {
            return env;
        }
    }
}
