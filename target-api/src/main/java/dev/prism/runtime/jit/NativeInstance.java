package dev.prism.runtime.jit;

import dev.prism.program.Program;
import dev.prism.runtime.Environment;
import dev.prism.runtime.Helper;
import dev.prism.runtime.Region;
import dev.prism.sys.ExecutableMemory;
import dev.prism.verifier.VerifiedProgram;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.ref.Cleaner;
import java.lang.ref.WeakReference;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Programs of one object as native machine code of the host, whichever JIT made it (x86-64 on
 * an x86-64 host, arm64 on an aarch64 one): {@link JitInstance} holds the maps, the
 * {@link RunContext run context} and the Java helpers; this class holds the code in W^X
 * {@link ExecutableMemory}, calls its entry through the FFM linker (as a critical function when
 * no program of the set calls into Java), and binds each helper slot to an FFM upcall stub that
 * ends in {@link JitInstance#callHelper}, or to native code the JIT supplies for that helper.
 *
 * <p>The stubs are made once per JVM and helper id (making one costs about 100 µs), for every
 * JIT alike: generated code passes the run context's address as the sixth C argument (x86-64:
 * r9; AAPCS64: x5), by which the stub finds the instance in a registry of weak references. So
 * nothing native holds an instance: close it to free code, maps and context at once, or drop it
 * and a cleaner frees them (ExecutableMemory's own cleaner unmaps the code).
 */
public final class NativeInstance extends JitInstance<NativeInstance.Code> {
    private static final FunctionDescriptor HELPER = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
    private static final MethodHandle UPCALL;
    /** One upcall stub per helper id, made on first use, for the JVM's lifetime. */
    private static final long[] STUBS = new long[RunContext.HELPER_SLOTS];
    /** Live instances by the address of their run context. */
    private static final Map<Long, WeakReference<NativeInstance>> LIVE = new ConcurrentHashMap<>();
    private static final Cleaner CLEANER = Cleaner.create();

    static {
        try {
            UPCALL = MethodHandles.lookup().findStatic(NativeInstance.class, "dispatch",
                    MethodType.methodType(long.class, int.class, long.class, long.class, long.class, long.class, long.class, long.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * Helpers the JIT implements as native code: the entry of helper {@code id} for a program
     * set of {@code type} in {@code env}, or 0 to leave it to Java. Such a helper is called as
     * the code calls any helper (BPF r1-r5 in the C argument registers, the run context as the
     * sixth argument) and must do exactly what the Java helper does.
     */
    @FunctionalInterface
    public interface NativeHelpers {
        NativeHelpers NONE = (id, env, type) -> 0;

        long entry(int id, Environment env, dev.prism.program.ProgramType type);

        /** {@return these helpers, and {@code other}'s where these have none} */
        default NativeHelpers or(NativeHelpers other) {
            return (id, env, type) -> {
                long e = entry(id, env, type);
                return e != 0 ? e : other.entry(id, env, type);
            };
        }

        /** A helper's machine code for a program type and the CPU the environment names, or null. */
        @FunctionalInterface
        interface Code {
            byte[] code(int id, dev.prism.program.ProgramType type, int cpu);
        }

        /**
         * {@return helpers whose code depends on nothing of the instance but its program type
         * and its environment's CPU}: each is made once, on first use, for the JVM's lifetime
         */
        static NativeHelpers generated(Code code) {
            return new NativeHelpers() {
                private final Map<String, ExecutableMemory> made = new java.util.HashMap<>();

                @Override
                public synchronized long entry(int id, Environment env, dev.prism.program.ProgramType type) {
                    byte[] bytes = code.code(id, type, env.cpu());
                    if (bytes == null) {
                        return 0;
                    }
                    return made.computeIfAbsent(id + "/" + type + "/" + env.cpu(), k -> ExecutableMemory.of(bytes)).entry().address();
                }
            };
        }

        /**
         * {@return {@code bpf_ktime_get_ns} as native code, for an environment that reads the
         * host's clock ({@link Environment#HOST_CLOCK})}: {@code code} makes a function
         * {@code u64 ktime(void)} that calls libc's {@code clock_gettime(CLOCK_MONOTONIC)}, the
         * clock {@link System#nanoTime} reads on Linux, from that function's address. It is made
         * once, on first use, for the JVM's lifetime. Other helpers and environments: 0.
         */
        static NativeHelpers ktime(java.util.function.LongFunction<byte[]> code) {
            return new NativeHelpers() {
                private ExecutableMemory ktime;

                @Override
                public synchronized long entry(int id, Environment env, dev.prism.program.ProgramType type) {
                    if (id != dev.prism.runtime.Helpers.KTIME_GET_NS || env.monotonicNs() != Environment.HOST_CLOCK) {
                        return 0;
                    }
                    if (ktime == null) {
                        MemorySegment clock = Linker.nativeLinker().defaultLookup().find("clock_gettime").orElse(null);
                        if (clock == null) {
                            return 0;
                        }
                        ktime = ExecutableMemory.of(code.apply(clock.address()));
                    }
                    return ktime.entry().address();
                }
            };
        }
    }

    /** {@code clockid_t} of the clock {@link System#nanoTime} reads (include/uapi/linux/time.h). */
    public static final int CLOCK_MONOTONIC = 1;

    /**
     * What differs between JITs.
     *
     * @param target    the target's id, for messages
     * @param compiler  the JIT: a verified program's code
     * @param natives   helpers the JIT implements natively
     * @param stackSpan native stack bytes a run may use below the entry's stack pointer (the
     *                  {@link RunContext#ENTRY_SP} the prologue stores): every BPF frame and the
     *                  registers saved around them, with slack; helpers given a stack pointer
     *                  may touch this much
     */
    public record Jit(String target, Function<VerifiedProgram, ? extends CompiledCode> compiler, NativeHelpers natives,
                      long stackSpan) {
    }

    /** One program's machine code in executable memory. */
    public record Code(CompiledCode compiled, ExecutableMemory memory) {
        long base() {
            return memory.entry().address();
        }
    }

    private final Jit jit;
    private final Helper[] helperById = new Helper[RunContext.HELPER_SLOTS];
    /** Helper ids bound to native code: calling them never enters Java. */
    private final Set<Integer> nativeHelpers = new HashSet<>();
    private final Cleaner.Cleanable cleanable;

    /** Forgets an instance and frees its arena; holds no reference to the instance. */
    private record Release(long context, Arena arena) implements Runnable {
        @Override
        public void run() {
            LIVE.remove(context);
            if (arena.scope().isAlive()) {
                arena.close();
            }
        }
    }

    private NativeInstance(Jit jit, List<Program> programs, Environment env, Integer fixedSize) {
        super(jit.target(), programs, env, fixedSize);
        this.jit = jit;
        long ctx = context().address();
        LIVE.put(ctx, new WeakReference<>(this));
        this.cleanable = CLEANER.register(this, new Release(ctx, arena));
        try {
            bindHelpers();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** {@return programs of one object, verified and compiled now (raw ones: per memory size, when run)} */
    public static NativeInstance of(Jit jit, List<Program> programs, Environment env) {
        NativeInstance n = new NativeInstance(jit, programs, env, null);
        try {
            n.compileEager();
            return n;
        } catch (RuntimeException e) {
            n.close();
            throw e;
        }
    }

    /** {@return one program, already compiled from its proof} */
    public static NativeInstance of(Jit jit, VerifiedProgram verified, CompiledCode compiled, Environment env) {
        NativeInstance n = new NativeInstance(jit, List.of(verified.program()), env, verified.memSize());
        try {
            n.install(verified.memSize(), new Code(compiled, ExecutableMemory.of(compiled.code())));
            return n;
        } catch (RuntimeException e) {
            n.close();
            throw e;
        }
    }

    @Override
    protected Code compile(VerifiedProgram verified) {
        CompiledCode compiled = jit.compiler().apply(verified);
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
        long entrySp = context().get(ValueLayout.JAVA_LONG, RunContext.ENTRY_SP);
        long span = jit.stackSpan();
        return new Region("stack", entrySp - span, MemorySegment.ofAddress(entrySp - span).reinterpret(span), true);
    }

    /** The JVM-wide upcall stub of helper {@code id} (or the JIT's native code for it); this instance's {@code helper} is what it will run. */
    @Override
    protected long helperEntry(int id, Helper helper) {
        helperById[id] = helper;
        long nativeEntry = jit.natives().entry(id, env(), programs().get(0).type());
        if (nativeEntry != 0) {
            nativeHelpers.add(id);
            return nativeEntry;
        }
        synchronized (STUBS) {
            if (STUBS[id] == 0) {
                MethodHandle h = MethodHandles.insertArguments(UPCALL, 0, id);
                STUBS[id] = Linker.nativeLinker().upcallStub(h, HELPER, Arena.global()).address();
            }
            return STUBS[id];
        }
    }

    /** {@return how many instances are registered (neither closed nor collected)} */
    public static int live() {
        return LIVE.size();
    }

    /** The Java side of every upcall stub: the instance whose run context is {@code context} runs helper {@code id}. */
    private static long dispatch(int id, long r1, long r2, long r3, long r4, long r5, long context) {
        WeakReference<NativeInstance> ref = LIVE.get(context);
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
