package dev.prism.x86;

import dev.prism.program.Program;
import dev.prism.runtime.Environment;
import dev.prism.runtime.Helper;
import dev.prism.runtime.Region;
import dev.prism.runtime.jit.JitInstance;
import dev.prism.runtime.jit.RunContext;
import dev.prism.sys.ExecutableMemory;
import dev.prism.verifier.VerifiedProgram;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;

/**
 * Programs of one object as native x86-64 code: {@link JitInstance} holds the maps, the
 * {@link RunContext run context} and the Java helpers; this class holds the code in W^X
 * executable memory, calls its entry through the FFM linker (as a critical function when no
 * program of the set calls into Java), and binds each helper slot to an FFM upcall stub that
 * ends in {@link JitInstance#callHelper}.
 *
 * <p>The stubs are made once per JVM and helper id (making one costs about 100 µs): generated
 * code passes the run context's address as a sixth argument (r9), by which the stub finds the
 * instance in a registry of weak references. So nothing native holds an instance: close it to
 * free code, maps and context at once, or drop it and a cleaner frees them (ExecutableMemory's
 * own cleaner unmaps the code).
 */
final class NativeInstance extends JitInstance<NativeInstance.Code> {
    private static final FunctionDescriptor HELPER = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
    private static final MethodHandle UPCALL;
    /** One upcall stub per helper id, made on first use, for the JVM's lifetime. */
    private static final long[] STUBS = new long[RunContext.HELPER_SLOTS];
    /** Live instances by the address of their run context. */
    private static final java.util.Map<Long, java.lang.ref.WeakReference<NativeInstance>> LIVE =
            new java.util.concurrent.ConcurrentHashMap<>();
    private static final java.lang.ref.Cleaner CLEANER = java.lang.ref.Cleaner.create();
    /** Native stack a run may use below the entry frame: 8 frames and their saved registers, with slack. */
    private static final long STACK_SPAN = (long) X86Jit.MAX_FRAMES * (X86Jit.FRAME_SIZE + 64) + 256;

    static {
        try {
            UPCALL = MethodHandles.lookup().findStatic(NativeInstance.class, "dispatch",
                    MethodType.methodType(long.class, int.class, long.class, long.class, long.class, long.class, long.class, long.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** One program's machine code in executable memory. */
    record Code(X86Jit.Compiled compiled, ExecutableMemory memory) {
        long base() {
            return memory.entry().address();
        }
    }

    private final Helper[] helperById = new Helper[RunContext.HELPER_SLOTS];
    /** Helper ids bound to native code ({@link X86NativeHelpers}): calling them never enters Java. */
    private final java.util.Set<Integer> nativeHelpers = new java.util.HashSet<>();
    private final java.lang.ref.Cleaner.Cleanable cleanable;

    /** Forgets an instance and frees its arena; holds no reference to the instance. */
    private record Release(long context, java.lang.foreign.Arena arena) implements Runnable {
        @Override
        public void run() {
            LIVE.remove(context);
            if (arena.scope().isAlive()) {
                arena.close();
            }
        }
    }

    private NativeInstance(List<Program> programs, Environment env, Integer fixedSize) {
        super("x86-64", programs, env, fixedSize);
        long ctx = context().address();
        LIVE.put(ctx, new java.lang.ref.WeakReference<>(this));
        this.cleanable = CLEANER.register(this, new Release(ctx, arena));
        try {
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
            n.compileEager();
            return n;
        } catch (RuntimeException e) {
            n.close();
            throw e;
        }
    }

    /** {@return one program compiled from its proof} */
    static NativeInstance of(VerifiedProgram verified, X86Jit.Compiled compiled, Environment env) {
        NativeInstance n = new NativeInstance(List.of(verified.program()), env, verified.memSize());
        n.install(verified.memSize(), new Code(compiled, ExecutableMemory.of(compiled.code())));
        return n;
    }

    @Override
    protected Code compile(VerifiedProgram verified) {
        X86Jit.Compiled compiled = X86Jit.compile(verified);
        return new Code(compiled, ExecutableMemory.of(compiled.code()));
    }

    @Override
    protected void free(Code code) {
        code.memory().close();
    }

    @Override
    protected long tailEntry(Code code) {
        return code.base() + code.compiled().tailEntry();
    }

    @Override
    protected int callPcAt(List<Code> code, long address) {
        for (Code k : code) {
            long off = address - k.base();
            if (off >= 0 && off < k.compiled().code().length) {
                return k.compiled().callPcAt(off);
            }
        }
        return -1;
    }

    @Override
    protected Region stack() {
        long entryRsp = context().get(ValueLayout.JAVA_LONG, RunContext.ENTRY_SP);
        return new Region("stack", entryRsp - STACK_SPAN, MemorySegment.ofAddress(entryRsp - STACK_SPAN).reinterpret(STACK_SPAN), true);
    }

    /** The JVM-wide upcall stub of helper {@code id}; this instance's {@code helper} is what it will run. */
    @Override
    protected long helperEntry(int id, Helper helper) {
        helperById[id] = helper;
        long nativeEntry = X86NativeHelpers.entry(id, env());
        if (nativeEntry != 0) {
            nativeHelpers.add(id);
            return nativeEntry;
        }
        synchronized (STUBS) {
            if (STUBS[id] == 0) {
                MethodHandle h = MethodHandles.insertArguments(UPCALL, 0, id);
                STUBS[id] = Linker.nativeLinker().upcallStub(h, HELPER, java.lang.foreign.Arena.global()).address();
            }
            return STUBS[id];
        }
    }

    /** {@return how many instances are registered (neither closed nor collected)} */
    static int live() {
        return LIVE.size();
    }

    /** The Java side of every upcall stub: the instance whose run context is {@code context} runs helper {@code id}. */
    private static long dispatch(int id, long r1, long r2, long r3, long r4, long r5, long context) {
        java.lang.ref.WeakReference<NativeInstance> ref = LIVE.get(context);
        NativeInstance n = ref == null ? null : ref.get();
        if (n == null) {
            return 0; // cannot happen while a run holds its instance; never throw into native code
        }
        return n.callHelper(n.helperById[id], r1, r2, r3, r4, r5);
    }

    @Override
    public synchronized void close() {
        super.close();
        cleanable.clean();
    }

    /** {@return whether none of {@code code} calls into Java, so the entry may be called as a critical function} */
    @Override
    protected boolean nativeOnly(List<Code> code) {
        for (Code c : code) {
            if (!nativeHelpers.containsAll(c.compiled().upcalls())) {
                return false;
            }
        }
        return true;
    }

    @Override
    protected long invoke(Prepared<Code> p) {
        ExecutableMemory entry = p.code().get(0).memory();
        long context = context().address();
        return p.nativeOnly() ? entry.invokeCritical(p.r1(), p.r2(), context) : entry.invoke(p.r1(), p.r2(), context);
    }
}
