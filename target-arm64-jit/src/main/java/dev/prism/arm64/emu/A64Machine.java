package dev.prism.arm64.emu;

import dev.prism.arm64.A64Jit;
import dev.prism.error.TargetException;
import dev.prism.error.TrapException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * An AArch64 machine for {@link A64Jit} output, on the in-process emulator ({@link Unicorn}).
 *
 * <p><b>Identity mapping.</b> Host memory is mapped into the emulator at its own addresses
 * (MMU off, so emulated addresses are physical; x86-64 user addresses are below 2^47, inside
 * the emulator's 48-bit physical space). A pointer means the same on both sides: the run
 * context, map handles, PROG_ARRAY tables, the XDP context and frame, values a Java helper
 * returns, all hold host addresses the emulated code uses as they are. Unicorn maps whole
 * pages ({@link #PAGE}, which must be a multiple of the engine's page size), so each region is
 * mapped as the page-rounded hull of its bytes, minus pages already mapped: regions that share
 * a page share its mapping. A page in a hull may also hold unrelated host bytes; only verified
 * code runs against the mappings, so nothing reaches them.
 * <pre>
 *   0x0000_4000  RETURN_ADDRESS   the entry's x30: the run stops when the pc gets there
 *                                 (never mapped)
 *   0x0000_8000  HELPER_TRAPS     one page of {@code ret}; helper slot i of the run context
 *                                 holds HELPER_TRAPS + 4 i, and a code hook on the page runs
 *                                 Java helper i before its {@code ret} executes
 *   host addresses                code (read + execute, its own pages), stack (its own pages,
 *                                 with an unmapped guard page either side), data regions
 *                                 (read + write)
 * </pre>
 * Both fixed addresses lie below Linux's {@code mmap_min_addr} (64 KiB), where no host memory
 * can be.
 *
 * <p><b>Helper calls</b> are {@code blr} through the slot; the hook reads x0-x4 (BPF r1-r5),
 * runs the {@link HelperHandler} and writes its result to x0, then the {@code ret} returns to
 * the call. The handler must report failures through the run context's status word, as FFM
 * upcalls do on x86-64; should it throw anyway, the run is stopped and the exception becomes a
 * trap at the BPF pc of the call.
 *
 * <p><b>Traps</b>: an access outside every mapping (or a write to code), an undefined
 * instruction, or a spent instruction budget stops the run and becomes a {@link TrapException}
 * at the BPF pc whose lowering holds the native pc ({@link A64Jit.Compiled#pcAt}). The budget
 * makes a hang impossible; Unicorn keeps the pc exact per instruction only when it counts
 * instructions, so every run has one.
 *
 * <p>One machine serves one thread at a time; {@link #close()} frees the engine, its stack and
 * the code copies.
 */
public final class A64Machine implements AutoCloseable {
    /** Native instructions one run may execute. */
    public static final long DEFAULT_BUDGET = 50_000_000;
    public static final long PAGE = 4096;
    public static final long RETURN_ADDRESS = 0x4000;
    public static final long HELPER_TRAPS = 0x8000;
    /** Helper ids with a trap (the run context's helper slots). */
    public static final int HELPER_IDS = 256;
    /** Native stack of a run: 8 BPF frames of 512 bytes, saved registers, bpf_loop state, with room to spare. */
    public static final long STACK_SIZE = 64 * 1024;
    private static final int RET = 0xD65F03C0;
    /** The longest path through A64Jit's shared exits, in instructions, with room to spare. */
    private static final int STEPS_OUT_OF_EXITS = 32;

    /** A Java implementation of the helpers the trap page stands for. */
    @FunctionalInterface
    public interface HelperHandler {
        /** {@return r0 of helper {@code id} called with r1-r5} */
        long call(int id, long r1, long r2, long r3, long r4, long r5);
    }

    /** Code copied to host memory and mapped read + execute at its address. */
    public record Loaded(A64Jit.Compiled compiled, long base) {
        /** {@return whether the native address lies in this code} */
        boolean contains(long address) {
            return address >= base && address < base + compiled.code().length;
        }
    }

    private final Unicorn uc;
    private final long budget;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment stack;
    /** Mapped page ranges, start -> end, disjoint. */
    private final TreeMap<Long, Long> mapped = new TreeMap<>();
    private final List<Loaded> loaded = new ArrayList<>();

    /**
     * A fresh engine with its stack and helper-trap page mapped.
     *
     * @param budget  native instructions one run may execute before it traps
     * @param handler the Java helpers, or null when the code calls none
     * @throws TargetException when the emulator is unavailable or refuses the mappings
     */
    public A64Machine(Unicorn.CpuModel cpu, long budget, HelperHandler handler) {
        if (budget <= 0) {
            throw new IllegalArgumentException("budget must be positive, was " + budget);
        }
        this.budget = budget;
        this.uc = Unicorn.open(cpu);
        try {
            long page = uc.pageSize();
            if (page > PAGE || PAGE % page != 0) {
                throw new TargetException("the arm64 emulator's page size is " + page + " bytes; identity mapping needs "
                        + PAGE + " or a divisor of it");
            }
            MemorySegment withGuards = arena.allocate(STACK_SIZE + 2 * PAGE, PAGE);
            stack = withGuards.asSlice(PAGE, STACK_SIZE);
            map(stack.address(), STACK_SIZE, Unicorn.PROT_READ | Unicorn.PROT_WRITE);
            uc.map(HELPER_TRAPS, PAGE, Unicorn.PROT_READ | Unicorn.PROT_EXEC);
            byte[] rets = new byte[(int) PAGE];
            for (int i = 0; i < rets.length; i += 4) {
                rets[i] = (byte) RET;
                rets[i + 1] = (byte) (RET >>> 8);
                rets[i + 2] = (byte) (RET >>> 16);
                rets[i + 3] = (byte) (RET >>> 24);
            }
            uc.write(HELPER_TRAPS, rets);
            if (handler != null) {
                uc.hookCode(HELPER_TRAPS, HELPER_TRAPS + 4L * HELPER_IDS - 1, (address, regs) -> {
                    int id = (int) ((address - HELPER_TRAPS) / 4);
                    long r0 = handler.call(id, regs.get(Unicorn.x(0)), regs.get(Unicorn.x(1)), regs.get(Unicorn.x(2)),
                            regs.get(Unicorn.x(3)), regs.get(Unicorn.x(4)));
                    regs.set(Unicorn.x(0), r0);
                });
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** {@return the address of helper {@code id}'s trap, for its run-context slot} */
    public static long helperTrap(int id) {
        if (id < 0 || id >= HELPER_IDS) {
            throw new IllegalArgumentException("helper id " + id + " has no trap (0.." + (HELPER_IDS - 1) + ")");
        }
        return HELPER_TRAPS + 4L * id;
    }

    /** {@return the CPU model the code runs on} */
    public Unicorn.CpuModel cpu() {
        return uc.cpu();
    }

    /** {@return the native stack runs use (its pages, guard pages excluded)} */
    public MemorySegment stack() {
        return stack;
    }

    /** Copies {@code compiled} into fresh pages of host memory and maps them read + execute there; {@return where} */
    public Loaded load(A64Jit.Compiled compiled) {
        byte[] code = compiled.code();
        long size = roundUp(Math.max(1, code.length));
        MemorySegment seg = arena.allocate(size, PAGE);
        MemorySegment.copy(code, 0, seg, ValueLayout.JAVA_BYTE, 0, code.length);
        map(seg.address(), size, Unicorn.PROT_READ | Unicorn.PROT_EXEC);
        Loaded l = new Loaded(compiled, seg.address());
        loaded.add(l);
        return l;
    }

    /**
     * Copies bare machine code (a test harness, say) into fresh pages and maps them read +
     * execute; {@return its address}. Traps in it name no BPF pc.
     */
    public long loadRaw(byte[] code) {
        long size = roundUp(Math.max(1, code.length));
        MemorySegment seg = arena.allocate(size, PAGE);
        MemorySegment.copy(code, 0, seg, ValueLayout.JAVA_BYTE, 0, code.length);
        map(seg.address(), size, Unicorn.PROT_READ | Unicorn.PROT_EXEC);
        return seg.address();
    }

    /**
     * Maps the pages of [address, address + size) that are not mapped yet, read + write (or
     * {@code perms}), at their host addresses; {@return the page ranges this call mapped, for
     * {@link #unmap}}
     */
    public List<long[]> map(long address, long size, int perms) {
        List<long[]> added = new ArrayList<>();
        if (size <= 0) {
            return added;
        }
        long lo = address & -PAGE;
        long hi = roundUp(address + size);
        long at = lo;
        while (at < hi) {
            Map.Entry<Long, Long> covering = mapped.floorEntry(at);
            if (covering != null && covering.getValue() > at) {
                at = covering.getValue();
                continue;
            }
            Long next = mapped.ceilingKey(at);
            long end = next == null ? hi : Math.min(hi, next);
            MemorySegment host = MemorySegment.ofAddress(at).reinterpret(end - at);
            uc.map(at, host, perms);
            mapped.put(at, end);
            added.add(new long[] {at, end});
            at = end;
        }
        return added;
    }

    /** Maps [address, address + size) read + write; {@return the page ranges it mapped} */
    public List<long[]> map(long address, long size) {
        return map(address, size, Unicorn.PROT_READ | Unicorn.PROT_WRITE);
    }

    /** Unmaps page ranges {@link #map} returned. Never throws: the engine may be closed already. */
    public void unmap(List<long[]> ranges) {
        for (long[] r : ranges) {
            if (mapped.remove(r[0]) != null) {
                try {
                    uc.unmap(r[0], r[1] - r[0]);
                } catch (RuntimeException ignored) {
                    // a closed engine has no mappings left
                }
            }
        }
    }

    /**
     * Runs the code at {@code entry} as {@code entry(r1, r2, context)} (x0, x1, x2) with sp at the
     * top of the stack; {@return x0 when it returns}
     *
     * @throws TrapException when it faults or spends the budget
     */
    public long call(long entry, long r1, long r2, long context) {
        return call(entry, new long[] {r1, r2, context});
    }

    /**
     * Runs the code at {@code entry} with x0, x1, ... set to {@code args} (up to 8: a helper,
     * called with BPF r1-r5 and the run context) and sp at the top of the stack; {@return x0
     * when it returns}
     *
     * @throws TrapException when it faults or spends the budget
     */
    public long call(long entry, long[] args) {
        if (args.length > 8) {
            throw new IllegalArgumentException("at most 8 register arguments, got " + args.length);
        }
        for (int i = 0; i < args.length; i++) {
            uc.reg(Unicorn.x(i), args[i]);
        }
        uc.reg(Unicorn.REG_LR, RETURN_ADDRESS);
        uc.reg(Unicorn.REG_SP, stack.address() + STACK_SIZE);
        Unicorn.Stop stop = uc.start(entry, RETURN_ADDRESS, budget);
        if (!stop.ok()) {
            throw fault(stop);
        }
        if (stop.pc() != RETURN_ADDRESS) {
            throw new TrapException(budgetPc(stop.pc()), "instruction budget of " + budget + " native instructions exhausted");
        }
        return uc.reg(Unicorn.x(0));
    }

    /**
     * {@return the BPF pc where the budget ran out at native {@code pc}}. The shared exits after
     * the call stubs belong to no one BPF instruction: from there the engine steps on, one
     * instruction at a time (they call no helper and touch only the stack and the context's
     * depth, both dead after a trap), to the BPF instruction they return to.
     */
    private int budgetPc(long pc) {
        int bpf = pcAt(pc);
        for (int i = 0; bpf < 0 && i < STEPS_OUT_OF_EXITS && codeAt(pc) != null; i++) {
            Unicorn.Stop step = uc.start(pc, RETURN_ADDRESS, 1);
            if (!step.ok() || step.pc() == RETURN_ADDRESS) {
                break;
            }
            pc = step.pc();
            bpf = pcAt(pc);
        }
        return bpf;
    }

    /** {@return the loaded code holding {@code address}, or null} */
    public Loaded codeAt(long address) {
        for (Loaded l : loaded) {
            if (l.contains(address)) {
                return l;
            }
        }
        return null;
    }

    /** {@return the pc of the call whose native return address is {@code address}, or -1} */
    public int callPcAt(long address) {
        Loaded l = codeAt(address);
        return l == null ? -1 : l.compiled().callPcAt(address - l.base());
    }

    /**
     * {@return the BPF pc whose lowering holds the native pc}: in a generated leaf function or
     * outside the code (a helper trap, a stray branch), the pc of the call that got there, by
     * the link register.
     */
    private int pcAt(long nativePc) {
        Loaded l = codeAt(nativePc);
        if (l != null && l.compiled().inLeaf(nativePc - l.base())) {
            // a generated leaf function (a map lookup): x30 is its caller's return address
            return callPcAt(uc.reg(Unicorn.REG_LR));
        }
        if (l != null) {
            return l.compiled().pcAt(nativePc - l.base());
        }
        long lr = uc.reg(Unicorn.REG_LR);
        Loaded caller = codeAt(lr - 4);
        return caller == null ? -1 : caller.compiled().pcAt(lr - 4 - caller.base());
    }

    private TrapException fault(Unicorn.Stop stop) {
        if (stop.hookFailure() != null) {
            Throwable t = stop.hookFailure();
            String why = t instanceof TrapException te ? te.reason() : t.getMessage() == null ? t.toString() : t.getMessage();
            return new TrapException(pcAt(stop.pc()), "helper: " + why);
        }
        Unicorn.MemoryFault f = stop.fault();
        if (f != null) {
            String where = f.why().equals("protected") ? "not permitted" : "unmapped";
            return new TrapException(pcAt(f.pc()), String.format("invalid %s of %d bytes at 0x%x (%s in the arm64 emulator)",
                    f.kind(), f.size(), f.address(), where));
        }
        Loaded l = codeAt(stop.pc());
        String insn = l == null || stop.pc() + 4 > l.base() + l.compiled().code().length ? ""
                : String.format(" at instruction 0x%08x", word(l.compiled().code(), (int) (stop.pc() - l.base())));
        String cpu = uc.cpu().name().toLowerCase(Locale.ROOT).replace('_', '-');
        return new TrapException(pcAt(stop.pc()), stop.message() + insn + " on the " + cpu + " cpu model");
    }

    private static int word(byte[] code, int at) {
        return (code[at] & 0xff) | (code[at + 1] & 0xff) << 8 | (code[at + 2] & 0xff) << 16 | (code[at + 3] & 0xff) << 24;
    }

    private static long roundUp(long n) {
        return (n + PAGE - 1) & -PAGE;
    }

    /** Frees the engine, then the stack and code copies; idempotent. */
    @Override
    public void close() {
        uc.close();
        mapped.clear();
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
