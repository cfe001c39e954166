package dev.prism.arm64.emu;

import dev.prism.arm64.A64Jit;
import dev.prism.error.TargetException;
import dev.prism.error.TrapException;
import dev.prism.runtime.jit.RunContext;
import dev.prism.target.RunResult;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Runs one {@link A64Jit} program on raw memory, without maps or helpers: the engine for
 * testing the JIT itself on programs the verifier has not seen (the SPI's executables hold maps,
 * helpers and tail calls, see {@code A64Target}). One {@link A64Machine} per emulator, reused
 * across runs, with a run context of its own.
 *
 * <p>Each run gets a zeroed stack (so that a program reading stack it never wrote computes what
 * the interpreter computes) and a copy of the memory placed at the end of its own pages, with
 * an unmapped guard page after it: an access past the end faults.
 *
 * <p>LSE code runs on the {@code max} CPU model; LL/SC code on a Cortex-A57 (ARMv8.0, no
 * FEAT_LSE), so the fallback is checked on a CPU that needs it.
 */
public final class A64Emulator implements AutoCloseable {
    /** Native instructions one run may execute. */
    public static final long DEFAULT_BUDGET = A64Machine.DEFAULT_BUDGET;

    private final A64Machine machine;
    private final A64Machine.Loaded code;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment context;

    /** Loads {@code compiled} with {@link #DEFAULT_BUDGET}. */
    public A64Emulator(A64Jit.Compiled compiled) {
        this(compiled, DEFAULT_BUDGET);
    }

    /**
     * Loads {@code compiled} into a fresh engine.
     *
     * @param budget native instructions one run may execute before it traps
     * @throws TargetException when the emulator is unavailable or refuses the mappings
     */
    public A64Emulator(A64Jit.Compiled compiled, long budget) {
        this(compiled, budget, compiled.options().lse() ? Unicorn.CpuModel.MAX : Unicorn.CpuModel.CORTEX_A57);
    }

    /**
     * Loads {@code compiled} into a fresh engine emulating {@code cpu} (code with LSE atomics
     * faults on an ARMv8.0 model: the case the LL/SC option is for).
     *
     * @param budget native instructions one run may execute before it traps
     * @throws TargetException when the emulator is unavailable or refuses the mappings
     */
    public A64Emulator(A64Jit.Compiled compiled, long budget, Unicorn.CpuModel cpu) {
        this.machine = new A64Machine(cpu, budget, null);
        try {
            this.code = machine.load(compiled);
            this.context = arena.allocate(RunContext.size(0), A64Machine.PAGE);
            machine.map(context.address(), context.byteSize());
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** {@return the CPU model the code runs on} */
    public Unicorn.CpuModel cpu() {
        return machine.cpu();
    }

    /**
     * Runs the program once on a copy of {@code mem}; {@return r0 and the memory afterwards}
     *
     * @throws TrapException naming the BPF pc when the program faults, calls too deep or spends
     *                       the budget
     */
    public synchronized RunResult run(byte[] mem) {
        machine.stack().fill((byte) 0);
        context.fill((byte) 0);
        try (Arena local = Arena.ofConfined()) {
            long r1 = 0;
            MemorySegment input = null;
            List<long[]> mapped = List.of();
            if (mem.length > 0) {
                long pages = (mem.length + A64Machine.PAGE - 1) & -A64Machine.PAGE;
                MemorySegment host = local.allocate(pages + A64Machine.PAGE, A64Machine.PAGE); // the last page: the guard
                long offset = pages - ((mem.length + 7L) & ~7L);
                input = host.asSlice(offset, mem.length);
                MemorySegment.copy(mem, 0, input, ValueLayout.JAVA_BYTE, 0, mem.length);
                mapped = machine.map(host.address(), pages);
                r1 = input.address();
            }
            try {
                context.set(ValueLayout.JAVA_LONG, RunContext.PKT_START, r1);
                context.set(ValueLayout.JAVA_LONG, RunContext.PKT_END, r1 + mem.length);
                long r0 = machine.call(code.base(), r1, mem.length, context.address());
                long status = context.get(ValueLayout.JAVA_LONG, RunContext.STATUS);
                if (status == RunContext.STATUS_CALL_DEPTH) {
                    throw new TrapException(machine.callPcAt(context.get(ValueLayout.JAVA_LONG, RunContext.TRAP_INFO)),
                            "call depth exceeds " + A64Jit.MAX_FRAMES + " frames");
                }
                if (status != 0) {
                    throw new TrapException((int) context.get(ValueLayout.JAVA_LONG, RunContext.TRAP_INFO),
                            "status " + status + " (no helpers or maps on this engine)");
                }
                return new RunResult(r0, input == null ? new byte[0] : input.toArray(ValueLayout.JAVA_BYTE));
            } finally {
                machine.unmap(mapped);
            }
        }
    }

    /** Frees the engine; idempotent. */
    @Override
    public void close() {
        if (machine != null) {
            machine.close();
        }
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
