package dev.prism.arm64.emu;

import dev.prism.arm64.A64Jit;
import dev.prism.error.TargetException;
import dev.prism.error.TrapException;
import dev.prism.target.RunResult;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Runs {@link A64Jit} output in an in-process AArch64 emulator ({@link Unicorn}), one engine per
 * loaded program, reused across runs. Emulated address space (MMU off, so addresses are
 * physical; every region is a multiple of {@link #GRANULE}, which is a multiple of any page size
 * Unicorn uses):
 * <pre>
 *   0x0001_0000  RETURN_ADDRESS  the entry's x30; the run stops when the pc gets there, so it is
 *                                not mapped (a load from it faults like any stray address)
 *   0x0010_0000  CODE_BASE       the code, read + execute
 *   0x1000_0000  MEM_BASE        the input memory, read + write, placed at the end of its mapping
 *                                (8-byte aligned), so an access past its end faults
 *   0x2000_0000  STACK_BASE      64 KiB of stack, read + write, zeroed before each run; the
 *                                status word (A64Jit's entry convention) is its first 8 bytes,
 *                                sp starts at its top
 * </pre>
 * The entry is called as {@code entry(mem, len, status)} in x0, x1, x2. The run ends when the pc
 * reaches {@link #RETURN_ADDRESS}; r0 is then x0. A fault (an access outside every mapping, a
 * write to code, an undefined instruction) or a spent instruction budget becomes a
 * {@link TrapException} at the BPF pc whose lowering holds the native pc ({@link
 * A64Jit.Compiled#pcAt}); a too deep call, the trap A64Jit reports in the status word, one at the
 * pc of the call. The budget makes a hang impossible; Unicorn keeps the pc exact per instruction
 * only when it counts instructions, so every run has one.
 *
 * <p>LSE code runs on the {@code max} CPU model; LL/SC code on a Cortex-A57 (ARMv8.0, no
 * FEAT_LSE), so the fallback is checked on a CPU that needs it.
 */
public final class A64Emulator implements AutoCloseable {
    /** Native instructions one run may execute. */
    public static final long DEFAULT_BUDGET = 50_000_000;
    public static final long GRANULE = 0x1_0000;
    public static final long RETURN_ADDRESS = 0x0001_0000L;
    public static final long CODE_BASE = 0x0010_0000L;
    public static final long MEM_BASE = 0x1000_0000L;
    public static final long STACK_BASE = 0x2000_0000L;
    public static final long STACK_SIZE = 0x1_0000;

    private final A64Jit.Compiled compiled;
    private final long budget;
    private final Unicorn uc;
    /** The stack, shared with the engine; freed by the GC with the emulator (the engine is done with it by then). */
    private final MemorySegment stack = Arena.ofAuto().allocate(STACK_SIZE, 16);

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
        if (budget <= 0) {
            throw new IllegalArgumentException("budget must be positive, was " + budget);
        }
        this.compiled = compiled;
        this.budget = budget;
        this.uc = Unicorn.open(cpu);
        try {
            uc.map(CODE_BASE, roundUp(compiled.code().length), Unicorn.PROT_READ | Unicorn.PROT_EXEC);
            uc.write(CODE_BASE, compiled.code());
            uc.map(STACK_BASE, stack, Unicorn.PROT_READ | Unicorn.PROT_WRITE);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** {@return the CPU model the code runs on} */
    public Unicorn.CpuModel cpu() {
        return uc.cpu();
    }

    /**
     * Runs the program once on a copy of {@code mem}; {@return r0 and the memory afterwards}
     *
     * @throws TrapException naming the BPF pc when the program faults, calls too deep or spends
     *                       the budget
     */
    public synchronized RunResult run(byte[] mem) {
        stack.fill((byte) 0);
        try (Arena local = Arena.ofConfined()) {
            long r1 = 0;
            long mapped = 0;
            MemorySegment input = null;
            if (mem.length > 0) {
                mapped = roundUp(mem.length);
                MemorySegment host = local.allocate(mapped, 16);
                long offset = mapped - ((mem.length + 7L) & ~7L);
                input = host.asSlice(offset, mem.length);
                MemorySegment.copy(mem, 0, input, ValueLayout.JAVA_BYTE, 0, mem.length);
                uc.map(MEM_BASE, host, Unicorn.PROT_READ | Unicorn.PROT_WRITE);
                r1 = MEM_BASE + offset;
            }
            try {
                uc.reg(Unicorn.x(0), r1);
                uc.reg(Unicorn.x(1), mem.length);
                uc.reg(Unicorn.x(2), STACK_BASE);
                uc.reg(Unicorn.REG_LR, RETURN_ADDRESS);
                uc.reg(Unicorn.REG_SP, STACK_BASE + STACK_SIZE);
                Unicorn.Stop stop = uc.start(CODE_BASE, RETURN_ADDRESS, budget);
                if (!stop.ok()) {
                    throw fault(stop);
                }
                if (stop.pc() != RETURN_ADDRESS) {
                    throw new TrapException(pcAt(stop.pc()), "instruction budget of " + budget
                            + " native instructions exhausted");
                }
                long status = stack.get(ValueLayout.JAVA_LONG, 0);
                if (status != 0) {
                    throw new TrapException(compiled.callPcAt(status - CODE_BASE),
                            "call depth exceeds " + A64Jit.MAX_FRAMES + " frames");
                }
                long r0 = uc.reg(Unicorn.x(0));
                return new RunResult(r0, input == null ? new byte[0] : input.toArray(ValueLayout.JAVA_BYTE));
            } finally {
                if (mapped > 0) {
                    uc.unmap(MEM_BASE, mapped);
                }
            }
        }
    }

    private TrapException fault(Unicorn.Stop stop) {
        Unicorn.MemoryFault f = stop.fault();
        if (f != null) {
            String where = f.why().equals("protected") ? "not permitted" : "unmapped";
            return new TrapException(pcAt(f.pc()), String.format("invalid %s of %d bytes at 0x%x (%s in the arm64 emulator)",
                    f.kind(), f.size(), f.address(), where));
        }
        long off = stop.pc() - CODE_BASE;
        String insn = off >= 0 && off + 4 <= compiled.code().length
                ? String.format(" at instruction 0x%08x", word(compiled.code(), (int) off)) : "";
        String cpu = uc.cpu().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        return new TrapException(pcAt(stop.pc()), stop.message() + insn + " on the " + cpu + " cpu model");
    }

    private int pcAt(long nativePc) {
        return compiled.pcAt(nativePc - CODE_BASE);
    }

    private static int word(byte[] code, int at) {
        return (code[at] & 0xff) | (code[at + 1] & 0xff) << 8 | (code[at + 2] & 0xff) << 16 | (code[at + 3] & 0xff) << 24;
    }

    private static long roundUp(long n) {
        return (n + GRANULE - 1) / GRANULE * GRANULE;
    }

    /** Frees the engine; idempotent. */
    @Override
    public void close() {
        uc.close();
    }
}
