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
 * <p>Virtual address layout (chosen so that no two regions can ever overlap and so that a
 * pointer's region can be read off its value when debugging):
 * <pre>
 *   0x0000_0010_0000_0000  input memory ("mem", raw programs) / packet
 *   0x0000_7e00_0000_0000  code addresses: CODE_BASE + 8 * pc  (lddw code, callx)
 *   0x0000_7ff0_0000_0000  STACK_TOP; frame k (0 = entry) is [TOP - 512 (k+1), TOP - 512 k)
 * </pre>
 * Only the frames of active calls are addressable: a callee may use pointers into its callers'
 * frames (Linux allows passing them), nothing below its own frame.
 */
public final class Interpreter {
    /** Stack bytes per frame (RFC 9669 / Linux MAX_BPF_STACK). */
    public static final int FRAME_SIZE = 512;
    /** Frames allowed at once, the entry function included (Linux MAX_CALL_FRAMES). */
    public static final int MAX_FRAMES = 8;
    /** Instructions executed before a run is stopped. */
    public static final long DEFAULT_BUDGET = 1_000_000;

    public static final long MEM_BASE = 0x0000_0010_0000_0000L;
    public static final long CODE_BASE = 0x0000_7e00_0000_0000L;
    public static final long STACK_TOP = 0x0000_7ff0_0000_0000L;

    private static final VarHandle I32 = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle I64 = ValueLayout.JAVA_LONG.varHandle();

    private final HelperTable helpers;
    private final long budget;

    /** @param budget instructions executed before the run traps */
    public Interpreter(HelperTable helpers, long budget) {
        if (budget <= 0) {
            throw new IllegalArgumentException("budget must be positive, was " + budget);
        }
        this.helpers = helpers;
        this.budget = budget;
    }

    public Interpreter() {
        this(HelperTable.standard(), DEFAULT_BUDGET);
    }

    /**
     * The outcome of a run.
     *
     * @param r0       the value in r0 at the final exit
     * @param executed instructions executed
     * @param memAfter the input memory after the run (raw programs; empty when there was none)
     */
    public record Result(long r0, long executed, byte[] memAfter) {
    }

    /**
     * Runs a {@code raw} program: r1 = address of {@code mem} (0 when empty), r2 = its length.
     *
     * @throws TrapException when the program leaves the reference semantics
     */
    public Result runRaw(Program program, byte[] mem) {
        try (Arena arena = Arena.ofConfined()) {
            List<Region> regions = new ArrayList<>();
            Region memRegion = null;
            if (mem != null && mem.length > 0) {
                MemorySegment seg = arena.allocate(mem.length, 8);
                MemorySegment.copy(mem, 0, seg, ValueLayout.JAVA_BYTE, 0, mem.length);
                memRegion = new Region("mem", MEM_BASE, seg, true);
                regions.add(memRegion);
            }
            Run run = new Run(program, arena, regions, memRegion);
            long r1 = memRegion == null ? 0 : MEM_BASE;
            long r2 = mem == null ? 0 : mem.length;
            long r0 = run.execute(r1, r2);
            byte[] after = memRegion == null ? new byte[0] : memRegion.segment().toArray(ValueLayout.JAVA_BYTE);
            return new Result(r0, run.executed, after);
        }
    }

    /** The state of one execution. */
    private final class Run implements HelperContext {
        private final Insn[] code;
        private final List<Region> regions;
        private final Region packet;
        private final MemorySegment stack;
        private final long[] reg = new long[11];
        private final int[] returnPc = new int[MAX_FRAMES];
        private final long[][] saved = new long[MAX_FRAMES][5];
        private int depth;
        private int pc;
        long executed;

        Run(Program program, Arena arena, List<Region> regions, Region packet) {
            this.code = program.slots();
            this.regions = regions;
            this.packet = packet;
            this.stack = arena.allocate((long) FRAME_SIZE * MAX_FRAMES, 8);
        }

        long execute(long r1, long r2) {
            reg[1] = r1;
            reg[2] = r2;
            reg[10] = STACK_TOP;
            while (true) {
                if (pc < 0 || pc >= code.length) {
                    throw new TrapException(pc, "fell off the end of the program (" + code.length + " slots)");
                }
                if (++executed > budget) {
                    throw new TrapException(pc, "instruction budget of " + budget + " exhausted");
                }
                Insn insn = code[pc];
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
                    case Insn.CallX c -> next = callx(reg[c.dst().n()]);
                    case Insn.Exit e -> {
                        if (depth == 0) {
                            return reg[0];
                        }
                        depth--;
                        System.arraycopy(saved[depth], 0, reg, 6, 5);
                        next = returnPc[depth];
                    }
                    case Insn.PacketLoad p -> {
                        // RFC 9669 5.5: an access beyond the packet ends the program with r0 = 0.
                        long off = p.indirect() ? (long) (int) (reg[p.src().n()] + p.imm()) : p.imm();
                        int size = p.size().bytes();
                        if (packet == null || off < 0 || off + size > packet.segment().byteSize()) {
                            return 0;
                        }
                        long v = load(packet.base() + off, p.size(), "packet load");
                        reg[0] = switch (p.size()) {
                            case B -> v;
                            case H -> Short.reverseBytes((short) v) & 0xffffL;
                            case W -> Integer.reverseBytes((int) v) & 0xffff_ffffL;
                            case DW -> throw new IllegalStateException("no legacy double-word packet load");
                        };
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
                case MAP_BY_FD, MAP_VALUE_BY_FD, VARIABLE_ADDR, MAP_BY_IDX, MAP_VALUE_BY_IDX ->
                        throw new TrapException(pc, "not supported: lddw " + l.kind().keyword()
                                + " needs maps or global data, which raw programs do not have");
            };
        }

        private int call(Insn.Call c) {
            return switch (c.kind()) {
                case LOCAL -> enter(pc + 1 + c.imm());
                case HELPER -> {
                    HelperTable.Entry h = helpers.lookup(c.imm()).orElseThrow(
                            () -> new TrapException(pc, "unknown helper id " + c.imm()));
                    reg[0] = h.helper().call(this, reg[1], reg[2], reg[3], reg[4], reg[5]);
                    yield pc + 1;
                }
                case HELPER_BTF -> throw new TrapException(pc, "not supported: call btf " + c.imm()
                        + " (helpers by BTF id are kernel functions; the interpreter has none)");
            };
        }

        private int callx(long address) {
            long slot = (address - CODE_BASE) / 8;
            if (address - CODE_BASE < 0 || (address - CODE_BASE) % 8 != 0 || slot >= code.length || code[(int) slot] == null) {
                throw new TrapException(pc, String.format("callx target 0x%x is not a code address of this program", address));
            }
            return enter((int) slot);
        }

        /** Pushes a frame: r6-r9 and r10 are saved, r10 moves to the new frame's top. */
        private int enter(int target) {
            if (depth + 1 >= MAX_FRAMES) {
                throw new TrapException(pc, "call depth exceeds " + MAX_FRAMES + " frames");
            }
            System.arraycopy(reg, 6, saved[depth], 0, 5);
            returnPc[depth] = pc + 1;
            depth++;
            reg[10] = STACK_TOP - (long) FRAME_SIZE * depth;
            return target;
        }

        // -------------------------------------------------------------------------------
        // Memory

        /** A resolved access: the segment and the offset in it. */
        private record Place(MemorySegment segment, long offset) {
        }

        private Place resolve(long address, int size, String what, boolean write) {
            long stackLow = STACK_TOP - (long) FRAME_SIZE * (depth + 1);
            if (Long.compareUnsigned(address - stackLow, STACK_TOP - stackLow) < 0
                    && Long.compareUnsigned(address - stackLow + size, STACK_TOP - stackLow) <= 0) {
                return new Place(stack, address - (STACK_TOP - stack.byteSize()));
            }
            for (Region r : regions) {
                if (r.contains(address, size)) {
                    if (write && !r.writable()) {
                        throw new TrapException(pc, String.format("invalid %s of %d bytes at 0x%x: %s is read-only",
                                what, size, address, r.name()));
                    }
                    return new Place(r.segment(), address - r.base());
                }
            }
            StringJoiner where = new StringJoiner(", ");
            where.add(String.format("stack [0x%x, 0x%x)", stackLow, STACK_TOP));
            regions.forEach(r -> where.add(r.toString()));
            throw new TrapException(pc, String.format("invalid %s of %d bytes at 0x%x: outside every region (%s)",
                    what, size, address, where));
        }

        private long load(long address, Size size, String what) {
            Place p = resolve(address, size.bytes(), what, false);
            return switch (size) {
                case B -> p.segment.get(ValueLayout.JAVA_BYTE, p.offset) & 0xffL;
                case H -> p.segment.get(ValueLayout.JAVA_SHORT_UNALIGNED, p.offset) & 0xffffL;
                case W -> p.segment.get(ValueLayout.JAVA_INT_UNALIGNED, p.offset) & 0xffff_ffffL;
                case DW -> p.segment.get(ValueLayout.JAVA_LONG_UNALIGNED, p.offset);
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
    }
}
