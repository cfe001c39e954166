package dev.prism.arm64.emu;

import dev.prism.error.TargetException;
import dev.prism.target.Availability;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An AArch64 engine of the Unicorn CPU emulator (libunicorn.so.2, Debian package
 * {@code libunicorn2}), bound with the FFM API. Only what running JIT output needs: open with a
 * CPU model, map memory (host segments shared with the emulated CPU, or engine-owned pages),
 * registers, a run with an instruction budget, and the last invalid memory access. Constants
 * are those of {@code unicorn/unicorn.h} and {@code unicorn/arm64.h} of Unicorn 2.0.
 *
 * <p>One engine per thread at a time; {@link #close()} frees it (a {@link Cleaner} frees one
 * that became unreachable unclosed). The library is looked up once;
 * when it is missing, {@link #availability()} says so and {@link #open} throws
 * {@link TargetException}: nothing else touches native code.
 */
@SuppressWarnings("restricted") // binding a native library is what this class is for
public final class Unicorn implements AutoCloseable {
    /** The library's file name (soname), found by the dynamic linker's search path. */
    public static final String LIBRARY = "libunicorn.so.2";

    /** uc_prot: page permissions. */
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int PROT_EXEC = 4;

    // uc_arch, uc_mode
    private static final int UC_ARCH_ARM64 = 2;
    private static final int UC_MODE_ARM = 0;
    /** UC_CTL_WRITE(UC_CTL_CPU_MODEL, 1): type 7, one argument, write (bit 30). */
    private static final int UC_CTL_CPU_MODEL_WRITE = 7 | (1 << 26) | (1 << 30);
    /** UC_HOOK_MEM_INVALID: every unmapped and protection-violating read, write and fetch. */
    private static final int UC_HOOK_MEM_INVALID = 1008;
    /** UC_HOOK_CODE: before each instruction in the hook's address range. */
    private static final int UC_HOOK_CODE = 4;
    /** uc_query_type UC_QUERY_PAGE_SIZE. */
    private static final int UC_QUERY_PAGE_SIZE = 2;

    // uc_arm64_reg
    private static final int REG_X0 = 199;
    private static final int REG_X29 = 1;
    private static final int REG_X30 = 2;
    /** The stack pointer. */
    public static final int REG_SP = 4;
    /** The program counter. */
    public static final int REG_PC = 260;
    /** The link register, x30. */
    public static final int REG_LR = REG_X30;

    /** {@return the register id of x{@code n}, 0..30} */
    public static int x(int n) {
        if (n < 0 || n > 30) {
            throw new IllegalArgumentException("register number out of range 0..30: " + n);
        }
        return switch (n) {
            case 29 -> REG_X29;
            case 30 -> REG_X30;
            default -> REG_X0 + n; // X0..X28 are consecutive in uc_arm64_reg
        };
    }

    /** uc_cpu_arm64: the CPU model the engine emulates (set before anything else). */
    public enum CpuModel {
        /** ARMv8.0: no FEAT_LSE. */
        CORTEX_A57(0),
        /** ARMv8.0. */
        CORTEX_A53(1),
        /** ARMv8.0. */
        CORTEX_A72(2),
        /** Every feature the emulator implements, FEAT_LSE included. */
        MAX(3);

        final int id;

        CpuModel(int id) {
            this.id = id;
        }
    }

    /**
     * An invalid memory access, as the UC_HOOK_MEM_INVALID hook saw it.
     *
     * @param kind    "read", "write" or "fetch"
     * @param why     "unmapped" or "protected"
     * @param pc      the address of the instruction that made it
     */
    public record MemoryFault(String kind, String why, long address, int size, long pc) {
    }

    /**
     * How a run ended.
     *
     * @param error the uc_err code, 0 when the run reached its end address or spent its budget
     * @param pc    the program counter afterwards: exact because a run always has a budget
     *              (Unicorn then updates it per instruction)
     * @param fault the invalid memory access that stopped the run, or null
     * @param hookFailure what a {@link CodeHook} threw (the run was stopped there), or null
     */
    public record Stop(int error, long pc, MemoryFault fault, Throwable hookFailure) {
        public boolean ok() {
            return error == 0 && hookFailure == null;
        }

        /** {@return the library's description of the error} */
        public String message() {
            return strerror(error);
        }
    }

    private static final class Lib {
        static final Availability AVAILABILITY;
        static final MethodHandle OPEN;
        static final MethodHandle CLOSE;
        static final MethodHandle CTL_INT;
        static final MethodHandle STRERROR;
        static final MethodHandle REG_WRITE;
        static final MethodHandle REG_READ;
        static final MethodHandle MEM_MAP;
        static final MethodHandle MEM_MAP_PTR;
        static final MethodHandle MEM_UNMAP;
        static final MethodHandle MEM_WRITE;
        static final MethodHandle MEM_READ;
        static final MethodHandle EMU_START;
        static final MethodHandle HOOK_ADD;
        static final MethodHandle EMU_STOP;
        static final MethodHandle QUERY;
        static final FunctionDescriptor CODE_HOOK = FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                ValueLayout.JAVA_INT, ValueLayout.ADDRESS);
        static final FunctionDescriptor MEM_HOOK = FunctionDescriptor.of(ValueLayout.JAVA_BOOLEAN,
                ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                ValueLayout.JAVA_LONG, ValueLayout.ADDRESS);

        static {
            Availability availability = probe(LIBRARY);
            MethodHandle[] h = new MethodHandle[15];
            if (availability.available()) {
                try {
                    SymbolLookup lib = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
                    Linker linker = Linker.nativeLinker();
                    var p = ValueLayout.ADDRESS;
                    var i = ValueLayout.JAVA_INT;
                    var l = ValueLayout.JAVA_LONG;
                    h[0] = bind(linker, lib, "uc_open", FunctionDescriptor.of(i, i, i, p));
                    h[1] = bind(linker, lib, "uc_close", FunctionDescriptor.of(i, p));
                    // uc_ctl(uc, control, ...): the CPU model is one variadic int.
                    h[2] = linker.downcallHandle(lib.findOrThrow("uc_ctl"), FunctionDescriptor.of(i, p, i, i),
                            Linker.Option.firstVariadicArg(2));
                    h[3] = bind(linker, lib, "uc_strerror", FunctionDescriptor.of(p.withTargetLayout(
                            MemoryLayout.sequenceLayout(4096, ValueLayout.JAVA_BYTE)), i));
                    h[4] = bind(linker, lib, "uc_reg_write", FunctionDescriptor.of(i, p, i, p));
                    h[5] = bind(linker, lib, "uc_reg_read", FunctionDescriptor.of(i, p, i, p));
                    h[6] = bind(linker, lib, "uc_mem_map", FunctionDescriptor.of(i, p, l, l, i));
                    h[7] = bind(linker, lib, "uc_mem_map_ptr", FunctionDescriptor.of(i, p, l, l, i, p));
                    h[8] = bind(linker, lib, "uc_mem_unmap", FunctionDescriptor.of(i, p, l, l));
                    h[9] = bind(linker, lib, "uc_mem_write", FunctionDescriptor.of(i, p, l, p, l));
                    h[10] = bind(linker, lib, "uc_mem_read", FunctionDescriptor.of(i, p, l, p, l));
                    h[11] = bind(linker, lib, "uc_emu_start", FunctionDescriptor.of(i, p, l, l, l, l));
                    // uc_hook_add(uc, hh, type, callback, user_data, begin, end, ...): memory hooks pass no variadic argument.
                    h[12] = linker.downcallHandle(lib.findOrThrow("uc_hook_add"), FunctionDescriptor.of(i, p, p, i, p, p, l, l),
                            Linker.Option.firstVariadicArg(7));
                    h[13] = bind(linker, lib, "uc_emu_stop", FunctionDescriptor.of(i, p));
                    h[14] = bind(linker, lib, "uc_query", FunctionDescriptor.of(i, p, i, p));
                } catch (RuntimeException e) {
                    availability = Availability.no(LIBRARY + " could not be bound: " + e.getMessage());
                }
            }
            AVAILABILITY = availability;
            OPEN = h[0];
            CLOSE = h[1];
            CTL_INT = h[2];
            STRERROR = h[3];
            REG_WRITE = h[4];
            REG_READ = h[5];
            MEM_MAP = h[6];
            MEM_MAP_PTR = h[7];
            MEM_UNMAP = h[8];
            MEM_WRITE = h[9];
            MEM_READ = h[10];
            EMU_START = h[11];
            HOOK_ADD = h[12];
            EMU_STOP = h[13];
            QUERY = h[14];
        }

        private static MethodHandle bind(Linker linker, SymbolLookup lib, String name, FunctionDescriptor fd) {
            return linker.downcallHandle(lib.findOrThrow(name), fd);
        }
    }

    private static final Cleaner CLEANER = Cleaner.create();

    private final Arena arena;
    private final MemorySegment uc;
    /** Scratch for register values. */
    private final MemorySegment value;
    private final CpuModel cpu;
    private final FaultRecorder faults;
    private final Release release;
    private final Cleaner.Cleanable cleanable;

    private Unicorn(MemorySegment uc, CpuModel cpu) {
        this.uc = uc;
        this.cpu = cpu;
        this.arena = Arena.ofShared();
        this.value = arena.allocate(ValueLayout.JAVA_LONG);
        this.faults = new FaultRecorder(uc);
        this.release = new Release(uc, arena, new AtomicBoolean());
        this.cleanable = CLEANER.register(this, release);
    }

    /**
     * Closes the engine and frees the arena (upcall stub, scratch) once, whether called by
     * {@link #close()} or by the cleaner for an engine that became unreachable unclosed. Holds no
     * reference to the {@link Unicorn}.
     */
    private record Release(MemorySegment uc, Arena arena, AtomicBoolean done) implements Runnable {
        @Override
        public void run() {
            if (done.compareAndSet(false, true)) {
                try {
                    int err = (int) Lib.CLOSE.invokeExact(uc);
                    check(err, "uc_close");
                } catch (TargetException e) {
                    throw e;
                } catch (Throwable e) {
                    throw new TargetException("uc_close failed: " + e, e);
                } finally {
                    arena.close();
                }
            }
        }
    }

    /**
     * The UC_HOOK_MEM_INVALID callback's state: the upcall is bound to this, not to the engine
     * object, so an engine nobody closed can still become unreachable.
     */
    private static final class FaultRecorder {
        private final MemorySegment uc;
        private MemoryFault last;

        FaultRecorder(MemorySegment uc) {
            this.uc = uc;
        }

        /** Records the access and stops the run. Runs inside uc_emu_start; must not throw. */
        @SuppressWarnings("unused")
        boolean onInvalidMemory(MemorySegment engine, int type, long address, int size, long v, MemorySegment user) {
            try {
                // uc_mem_type: 19..21 read/write/fetch of unmapped memory, 22..24 write/read/fetch denied.
                String kind = switch (type) {
                    case 19, 23 -> "read";
                    case 20, 22 -> "write";
                    case 21, 24 -> "fetch";
                    default -> "access (uc_mem_type " + type + ")";
                };
                String why = type >= 22 && type <= 24 ? "protected" : "unmapped";
                long pc = 0;
                try (Arena local = Arena.ofConfined()) {
                    MemorySegment out = local.allocate(ValueLayout.JAVA_LONG);
                    if ((int) Lib.REG_READ.invokeExact(uc, REG_PC, out) == 0) {
                        pc = out.get(ValueLayout.JAVA_LONG, 0);
                    }
                }
                last = new MemoryFault(kind, why, address, size, pc);
            } catch (Throwable t) {
                last = new MemoryFault("access", "unknown", address, size, 0);
            }
            return false;
        }
    }

    /** {@return whether libunicorn 2 with AArch64 is present, with its version or the reason} */
    public static Availability availability() {
        return Lib.AVAILABILITY;
    }

    /**
     * {@return whether {@code library} is a Unicorn 2 with AArch64}: the dynamic linker must find
     * it, its {@code uc_version} must say 2.x and {@code uc_arch_supported} must accept ARM64.
     * Never throws: a missing or foreign library is a reason.
     */
    static Availability probe(String library) {
        SymbolLookup lib;
        try {
            lib = SymbolLookup.libraryLookup(library, Arena.global());
        } catch (IllegalArgumentException e) {
            return Availability.no(library + " not found (Debian package libunicorn2)");
        }
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle version = linker.downcallHandle(lib.findOrThrow("uc_version"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            int v = (int) version.invokeExact(MemorySegment.NULL, MemorySegment.NULL);
            // UC_MAKE_VERSION: major << 24 | minor << 16 | patch << 8 | extra
            String name = "libunicorn " + ((v >>> 24) & 0xff) + "." + ((v >>> 16) & 0xff) + "." + ((v >>> 8) & 0xff);
            if (((v >>> 24) & 0xff) != 2) {
                return Availability.no(name + " found; Prism binds the Unicorn 2 API (Debian package libunicorn2)");
            }
            MethodHandle supported = linker.downcallHandle(lib.findOrThrow("uc_arch_supported"),
                    FunctionDescriptor.of(ValueLayout.JAVA_BOOLEAN, ValueLayout.JAVA_INT));
            if (!(boolean) supported.invokeExact(UC_ARCH_ARM64)) {
                return Availability.no(name + " was built without AArch64 support");
            }
            return Availability.yes(name);
        } catch (Throwable e) {
            return Availability.no(library + " is not a usable Unicorn 2: " + e.getMessage());
        }
    }

    /**
     * {@return a fresh AArch64 engine emulating {@code cpu}, with the invalid-access hook installed}
     *
     * @throws TargetException when the library is missing or refuses
     */
    public static Unicorn open(CpuModel cpu) {
        Availability a = availability();
        if (!a.available()) {
            throw new TargetException("the arm64 emulator is unavailable: " + a.reason());
        }
        MemorySegment handle;
        try (Arena local = Arena.ofConfined()) {
            MemorySegment out = local.allocate(ValueLayout.ADDRESS);
            check((int) Lib.OPEN.invokeExact(UC_ARCH_ARM64, UC_MODE_ARM, out), "uc_open");
            handle = out.get(ValueLayout.ADDRESS, 0);
        } catch (TargetException e) {
            throw e;
        } catch (Throwable e) {
            throw new TargetException("uc_open failed: " + e, e);
        }
        Unicorn u = new Unicorn(handle, cpu);
        try {
            u.call("uc_ctl(CPU_MODEL)", () -> (int) Lib.CTL_INT.invokeExact(handle, UC_CTL_CPU_MODEL_WRITE, cpu.id));
            u.installFaultHook();
            return u;
        } catch (RuntimeException e) {
            u.close();
            throw e;
        }
    }

    /** {@return the CPU model this engine emulates} */
    public CpuModel cpu() {
        return cpu;
    }

    private void installFaultHook() {
        MethodHandle target;
        try {
            target = MethodHandles.lookup().findVirtual(FaultRecorder.class, "onInvalidMemory",
                    MethodType.methodType(boolean.class, MemorySegment.class, int.class, long.class, int.class,
                            long.class, MemorySegment.class)).bindTo(faults);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        MemorySegment stub = Linker.nativeLinker().upcallStub(target, Lib.MEM_HOOK, arena);
        MemorySegment hh = arena.allocate(ValueLayout.JAVA_LONG);
        // begin > end: the hook covers all addresses.
        call("uc_hook_add", () -> (int) Lib.HOOK_ADD.invokeExact(uc, hh, UC_HOOK_MEM_INVALID, stub, MemorySegment.NULL, 1L, 0L));
    }

    /** Maps {@code size} bytes of zeroed engine-owned memory at {@code address} (both page multiples). */
    public void map(long address, long size, int perms) {
        call("uc_mem_map", () -> (int) Lib.MEM_MAP.invokeExact(uc, address, size, perms));
    }

    /**
     * Maps {@code host} at {@code address}: the emulated CPU then reads and writes that memory
     * directly. The segment must stay alive until it is unmapped; address and size must be page
     * multiples.
     */
    public void map(long address, MemorySegment host, int perms) {
        call("uc_mem_map_ptr", () -> (int) Lib.MEM_MAP_PTR.invokeExact(uc, address, host.byteSize(), perms, host));
    }

    public void unmap(long address, long size) {
        call("uc_mem_unmap", () -> (int) Lib.MEM_UNMAP.invokeExact(uc, address, size));
    }

    public void write(long address, byte[] bytes) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment buf = local.allocate(Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, buf, ValueLayout.JAVA_BYTE, 0, bytes.length);
            call("uc_mem_write", () -> (int) Lib.MEM_WRITE.invokeExact(uc, address, buf, (long) bytes.length));
        }
    }

    public byte[] read(long address, int length) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment buf = local.allocate(Math.max(1, length));
            call("uc_mem_read", () -> (int) Lib.MEM_READ.invokeExact(uc, address, buf, (long) length));
            return buf.asSlice(0, length).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** {@return the 64-bit register {@code id} (see {@link #x}, {@link #REG_SP}, {@link #REG_PC})} */
    public long reg(int id) {
        call("uc_reg_read", () -> (int) Lib.REG_READ.invokeExact(uc, id, value));
        return value.get(ValueLayout.JAVA_LONG, 0);
    }

    public void reg(int id, long v) {
        value.set(ValueLayout.JAVA_LONG, 0, v);
        call("uc_reg_write", () -> (int) Lib.REG_WRITE.invokeExact(uc, id, value));
    }

    /**
     * Runs from {@code begin} until the pc reaches {@code until}, an error, or {@code budget}
     * instructions; {@return how it ended}
     */
    public Stop start(long begin, long until, long budget) {
        if (budget <= 0) {
            throw new IllegalArgumentException("budget must be positive, was " + budget);
        }
        faults.last = null;
        for (CodeHookStub h : codeHooks) {
            h.failure = null;
        }
        int err;
        try {
            err = (int) Lib.EMU_START.invokeExact(uc, begin, until, 0L, budget);
        } catch (Throwable e) {
            throw new TargetException("uc_emu_start failed: " + e, e);
        }
        Throwable hookFailure = null;
        for (CodeHookStub h : codeHooks) {
            hookFailure = hookFailure != null ? hookFailure : h.failure;
        }
        return new Stop(err, reg(REG_PC), err == 0 ? null : faults.last, hookFailure);
    }

    /** Registers as a {@link CodeHook} sees them: the engine is paused before an instruction. */
    public interface Registers {
        /** {@return the 64-bit register {@code id}} */
        long get(int id);

        /** Writes the 64-bit register {@code id}. */
        void set(int id, long value);
    }

    /** Java run before each instruction in an address range (UC_HOOK_CODE). */
    @FunctionalInterface
    public interface CodeHook {
        /**
         * Runs before the instruction at {@code address}. Anything it throws stops the run
         * ({@code uc_emu_stop}) and is reported in {@link Stop#hookFailure()}, never thrown
         * into the engine.
         */
        void at(long address, Registers registers);
    }

    /**
     * A UC_HOOK_CODE callback: the upcall target. Catches everything, since nothing may unwind
     * through the engine's frames.
     */
    private static final class CodeHookStub implements Registers {
        private final MemorySegment uc;
        private final CodeHook hook;
        private final MemorySegment scratch;
        private Throwable failure;

        CodeHookStub(MemorySegment uc, CodeHook hook, Arena arena) {
            this.uc = uc;
            this.hook = hook;
            this.scratch = arena.allocate(ValueLayout.JAVA_LONG);
        }

        @SuppressWarnings("unused") // through the upcall stub
        void onCode(MemorySegment engine, long address, int size, MemorySegment user) {
            try {
                hook.at(address, this);
            } catch (Throwable t) {
                failure = t;
                try {
                    int ignored = (int) Lib.EMU_STOP.invokeExact(uc);
                } catch (Throwable ignored) {
                    // nothing more can be done inside the engine
                }
            }
        }

        @Override
        public long get(int id) {
            try {
                int err = (int) Lib.REG_READ.invokeExact(uc, id, scratch);
                check(err, "uc_reg_read");
            } catch (TargetException e) {
                throw e;
            } catch (Throwable e) {
                throw new TargetException("uc_reg_read failed: " + e, e);
            }
            return scratch.get(ValueLayout.JAVA_LONG, 0);
        }

        @Override
        public void set(int id, long value) {
            scratch.set(ValueLayout.JAVA_LONG, 0, value);
            try {
                int err = (int) Lib.REG_WRITE.invokeExact(uc, id, scratch);
                check(err, "uc_reg_write");
            } catch (TargetException e) {
                throw e;
            } catch (Throwable e) {
                throw new TargetException("uc_reg_write failed: " + e, e);
            }
        }
    }

    private final java.util.List<CodeHookStub> codeHooks = new java.util.ArrayList<>();

    /**
     * Runs {@code hook} before every instruction whose address is in [begin, end]. The hook's
     * stub lives as long as the engine; a hook that reaches back to the engine keeps it
     * reachable, so such an engine is freed by {@link #close()} only.
     */
    public void hookCode(long begin, long end, CodeHook hook) {
        CodeHookStub target = new CodeHookStub(uc, hook, arena);
        MethodHandle h;
        try {
            h = MethodHandles.lookup().findVirtual(CodeHookStub.class, "onCode", MethodType.methodType(void.class,
                    MemorySegment.class, long.class, int.class, MemorySegment.class)).bindTo(target);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        MemorySegment stub = Linker.nativeLinker().upcallStub(h, Lib.CODE_HOOK, arena);
        MemorySegment hh = arena.allocate(ValueLayout.JAVA_LONG);
        call("uc_hook_add(UC_HOOK_CODE)", () -> (int) Lib.HOOK_ADD.invokeExact(uc, hh, UC_HOOK_CODE, stub, MemorySegment.NULL, begin, end));
        codeHooks.add(target);
    }

    /** {@return the engine's page size: mappings must be multiples of it} */
    public long pageSize() {
        MemorySegment out = arena.allocate(ValueLayout.JAVA_LONG);
        call("uc_query(PAGE_SIZE)", () -> (int) Lib.QUERY.invokeExact(uc, UC_QUERY_PAGE_SIZE, out));
        return out.get(ValueLayout.JAVA_LONG, 0);
    }

    /** {@return the library's description of a uc_err code} */
    public static String strerror(int code) {
        if (!availability().available()) {
            return "uc_err " + code;
        }
        try {
            MemorySegment s = (MemorySegment) Lib.STRERROR.invokeExact(code);
            return s.getString(0);
        } catch (Throwable e) {
            return "uc_err " + code;
        }
    }

    /** Frees the engine; idempotent. Memory mapped from host segments stays the caller's. */
    @Override
    public void close() {
        cleanable.clean();
    }

    @FunctionalInterface
    private interface Native {
        int call() throws Throwable;
    }

    private void call(String what, Native n) {
        if (release.done().get()) {
            throw new IllegalStateException("the engine is closed");
        }
        int err;
        try {
            err = n.call();
        } catch (Throwable e) {
            throw new TargetException(what + " failed: " + e, e);
        }
        check(err, what);
    }

    private static void check(int err, String what) {
        if (err != 0) {
            throw new TargetException(what + " failed: " + strerror(err) + " (uc_err " + err + ")");
        }
    }
}
