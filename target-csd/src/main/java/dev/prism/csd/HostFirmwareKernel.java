package dev.prism.csd;

import dev.prism.error.TargetException;
import dev.prism.error.TrapException;
import dev.prism.program.CsdContext;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Environment;
import dev.prism.runtime.HelperContext;
import dev.prism.runtime.HelperTable;
import dev.prism.runtime.SkbBuffer;
import dev.prism.runtime.XdpBuffer;
import dev.prism.runtime.maps.BpfMap;
import dev.prism.runtime.maps.BpfMaps;
import dev.prism.target.MapAccess;
import dev.prism.target.RunResult;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Host (x86-64) firmware, in-process: the shared object is loaded through FFM
 * ({@link SymbolLookup#libraryLookup}) and {@code prism_entry} called as a downcall. Maps are
 * Prism's off-heap maps ({@link BpfMaps}, one CPU); helpers other than prism_csd_read reach
 * the Java implementations ({@link HelperTable#standard()}) through one FFM upcall stub per
 * kernel, the address in {@code rt->helper}, with a {@link HelperContext} whose addresses are
 * native ones. Chunks run in parallel on the calling threads, each with its own runtime block
 * and context; helper calls are serialized on the kernel (the maps' Java side is then never
 * entered twice at once), atomics in the firmware are the CPU's.
 */
final class HostFirmwareKernel implements FirmwareKernel {
    private static final FunctionDescriptor ENTRY = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.ADDRESS);
    private static final FunctionDescriptor HELPER = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG);
    private static final MethodHandle DISPATCH;
    /** struct prism_rt (prism_fw.h): status, pc, helper, ns, ns_len, maps, values. */
    private static final int RT_SIZE = 56;

    static {
        try {
            DISPATCH = MethodHandles.lookup().findVirtual(HostFirmwareKernel.class, "dispatch", MethodType.methodType(long.class,
                    long.class, long.class, long.class, long.class, long.class, long.class, long.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Program program;
    private final Arena arena = Arena.ofShared();
    private final MethodHandle entry;
    private final MemorySegment helperStub;
    private final HostMaps maps;
    private final boolean ownsMaps;
    private final HelperTable helpers = HelperTable.standard();
    private final Environment env = Environment.host();
    private final NativeContext helperContext = new NativeContext();
    private final ThreadLocal<RuntimeException> failure = new ThreadLocal<>();
    /** The namespace of the chunk run in progress on each thread, for prism_csd_read's Java twin. */
    private final ThreadLocal<MemorySegment> namespace = new ThreadLocal<>();

    /** @param maps the maps to use (shared, kept open), or null to create and own them */
    HostFirmwareKernel(Program program, byte[] sharedObject, HostMaps maps) {
        this.program = program;
        this.ownsMaps = maps == null;
        try {
            this.maps = maps != null ? maps : new HostMaps(program);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
        try {
            Path so = Files.createTempFile("prism-csd-", ".so");
            try {
                Files.write(so, sharedObject);
                SymbolLookup lib = SymbolLookup.libraryLookup(so, arena);
                MemorySegment fn = lib.find("prism_entry").orElseThrow(() -> new TargetException("the firmware has no prism_entry"));
                entry = Linker.nativeLinker().downcallHandle(fn, ENTRY);
            } finally {
                Files.deleteIfExists(so); // the mapping stays
            }
            helperStub = Linker.nativeLinker().upcallStub(DISPATCH.bindTo(this), HELPER, arena);
        } catch (IOException e) {
            close();
            throw new TargetException("cannot load the firmware: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public FirmwareArch arch() {
        return FirmwareArch.X86_64;
    }

    @Override
    public long run(MemorySegment ns, long chunkOffset, long chunkLength, MemorySegment out, long param0, long param1) {
        if (program.type() != ProgramType.CSD) {
            throw new TargetException("chunks are for csd programs; " + program.name() + " is " + program.type().id());
        }
        checkChunk(ns, chunkOffset, chunkLength, out);
        try (Arena run = Arena.ofConfined()) {
            MemorySegment ctx = run.allocate(CsdContext.SIZE, 8);
            long data = ns.address() + chunkOffset;
            ctx.set(ValueLayout.JAVA_LONG, CsdContext.DATA, data);
            ctx.set(ValueLayout.JAVA_LONG, CsdContext.DATA_END, data + chunkLength);
            ctx.set(ValueLayout.JAVA_LONG, CsdContext.OUT, out.address());
            ctx.set(ValueLayout.JAVA_LONG, CsdContext.OUT_END, out.address() + Math.min(out.byteSize(), CsdContext.MAX_REGION));
            ctx.set(ValueLayout.JAVA_LONG, CsdContext.OFFSET, chunkOffset);
            ctx.set(ValueLayout.JAVA_LONG, CsdContext.PARAM0, param0);
            ctx.set(ValueLayout.JAVA_LONG, CsdContext.PARAM1, param1);
            namespace.set(ns);
            try {
                return call(run, ctx.address(), 0, ns);
            } finally {
                namespace.remove();
            }
        }
    }

    /** The checks every ChunkKernel makes of its arguments. */
    static void checkChunk(MemorySegment ns, long chunkOffset, long chunkLength, MemorySegment out) {
        if (chunkOffset < 0 || chunkLength < 0 || chunkLength > CsdContext.MAX_REGION || chunkOffset > ns.byteSize() - chunkLength) {
            throw new IllegalArgumentException("chunk [" + chunkOffset + ", +" + chunkLength + ") is not inside the namespace of "
                    + ns.byteSize() + " bytes, or longer than " + CsdContext.MAX_REGION);
        }
        if (!ns.isNative() || !out.isNative()) {
            throw new IllegalArgumentException("the namespace and the output buffer must be native memory");
        }
        if (out.isReadOnly()) {
            throw new IllegalArgumentException("the output buffer is read-only");
        }
    }

    @Override
    public RunResult runRaw(byte[] mem) {
        if (program.type() != ProgramType.RAW) {
            throw new TargetException("raw runs are for raw programs; " + program.name() + " is " + program.type().id());
        }
        try (Arena run = Arena.ofConfined()) {
            MemorySegment m = mem.length == 0 ? MemorySegment.NULL : run.allocate(mem.length, 8);
            if (mem.length > 0) {
                MemorySegment.copy(mem, 0, m, ValueLayout.JAVA_BYTE, 0, mem.length);
            }
            long r0 = call(run, m.address(), mem.length, null);
            return new RunResult(r0, mem.length == 0 ? new byte[0] : m.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    private long call(Arena run, long r1, long r2, MemorySegment ns) {
        MemorySegment rt = run.allocate(RT_SIZE, 8);
        rt.set(ValueLayout.ADDRESS, 16, helperStub);
        rt.set(ValueLayout.JAVA_LONG, 24, ns == null ? 0 : ns.address());
        rt.set(ValueLayout.JAVA_LONG, 32, ns == null ? 0 : ns.byteSize());
        rt.set(ValueLayout.ADDRESS, 40, maps.handleTable);
        rt.set(ValueLayout.ADDRESS, 48, maps.valueTable);
        failure.remove();
        long r0;
        try {
            r0 = (long) entry.invokeExact(r1, r2, rt);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        long status = rt.get(ValueLayout.JAVA_LONG, 0);
        if (status != 0) {
            int pc = (int) rt.get(ValueLayout.JAVA_LONG, 8);
            RuntimeException e = failure.get();
            failure.remove();
            throw new TrapException(pc, "helper failed in the x86-64 firmware: " + (e == null ? "status " + status : e.getMessage()));
        }
        return r0;
    }

    /** The upcall of every helper but prism_csd_read: never throws into native code. */
    @SuppressWarnings("unused")
    private long dispatch(long rt, long id, long r1, long r2, long r3, long r4, long r5) {
        try {
            var h = helpers.lookup((int) id).orElseThrow(() -> new IllegalStateException("helper " + id + " is not bound"));
            synchronized (this) {
                return h.helper().call(helperContext, r1, r2, r3, r4, r5);
            }
        } catch (RuntimeException | Error e) {
            failure.set(e instanceof RuntimeException re ? re : new IllegalStateException(e.toString(), e));
            MemorySegment.ofAddress(rt).reinterpret(RT_SIZE).set(ValueLayout.JAVA_LONG, 0, 2);
            return 0;
        }
    }

    @Override
    public MapAccess maps() {
        return maps.access();
    }

    @Override
    public String description() {
        return "x86-64 firmware (in-process)";
    }

    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
        if (ownsMaps && maps != null) {
            maps.close();
        }
    }

    /**
     * What the Java helpers see: native addresses, trusted as the verifier proved them (the
     * firmware has no bounds checks either); map memory is found by region.
     */
    private final class NativeContext implements HelperContext {
        @Override
        public byte[] read(long address, int size) {
            return MemorySegment.ofAddress(address).reinterpret(size).toArray(ValueLayout.JAVA_BYTE);
        }

        @Override
        public void write(long address, byte[] bytes) {
            MemorySegment.copy(bytes, 0, MemorySegment.ofAddress(address).reinterpret(bytes.length), ValueLayout.JAVA_BYTE, 0,
                    bytes.length);
        }

        @Override
        public MemorySegment memory(long address, int size, boolean write) {
            return MemorySegment.ofAddress(address).reinterpret(size);
        }

        @Override
        public BpfMap map(long handle) {
            return maps.byHandle(handle);
        }

        @Override
        public BpfMap mapOwning(long address) {
            return maps.owning(address);
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
            return null;
        }

        @Override
        public SkbBuffer skb() {
            return null;
        }

        @Override
        public MemorySegment csdNamespace() {
            return namespace.get();
        }

        @Override
        public Environment env() {
            return env;
        }
    }
}
