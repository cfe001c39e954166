package dev.prism.arm64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.arm64.emu.A64Emulator;
import dev.prism.arm64.emu.Unicorn;
import dev.prism.asm.Disassembler;
import dev.prism.error.TrapException;
import dev.prism.isa.AluOp;
import dev.prism.isa.AtomicOp;
import dev.prism.isa.CallKind;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.JumpOp;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.isa.Operand;
import dev.prism.isa.Reg;
import dev.prism.isa.Size;
import dev.prism.isa.Width;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Interpreter;
import dev.prism.target.RunResult;
import dev.prism.testing.Host;
import dev.prism.testing.RandomInsns;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Random programs on arm64 and on the reference interpreter: r0 and the memory afterwards must
 * agree (or both trap at the same pc with the same reason). Each program has an entry function
 * and up to two callees, and mixes every family the JIT lowers: ALU (the ALU part of
 * {@link RandomInsns}, as X86DifferentialTest uses it), neg, movsx, byte swaps, lddw, loads
 * (sign-extending too), stores of registers and immediates, atomics of every kind and both
 * sizes, conditional jumps at both widths, ja and ja32 (forward only, so every program ends),
 * local calls; the entry folds every register into r0 before it exits. Memory operands go through r1 (64 bytes of random input) or r10, in bounds and,
 * for atomics, aligned; r1 and r10 are never written and never read as numbers, so no result
 * depends on where a target puts its memory.
 *
 * <p>Each program runs with LSE atomics (cpu model max), with LL/SC atomics (Cortex-A57), and
 * with every conditional jump in its far form. 2,000 programs; 100,000 nightly
 * ({@code PRISM_NIGHTLY=1} or {@code -Dprism.nightly=true}); {@code -Dprism.fuzz.seed=N} replays
 * a seed.
 */
class A64DifferentialTest {
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    private static final int PROGRAMS = NIGHTLY ? 100_000 : 2_000;
    private static final int MEM = 64;
    private static final Reg[] SCALARS = {Reg.R0, Reg.R2, Reg.R3, Reg.R4, Reg.R5, Reg.R6, Reg.R7, Reg.R8, Reg.R9};

    @Test
    void randomProgramsAgreeWithTheInterpreter() {
        Host.require("arm64", Unicorn.availability().available(), Unicorn.availability().reason());
        long seed = Long.getLong("prism.fuzz.seed", 0x9669_a64L);
        Random rnd = new Random(seed);
        int ran = 0;
        int traps = 0;
        for (int i = 0; i < PROGRAMS; i++) {
            long programSeed = rnd.nextLong();
            Random r = new Random(programSeed);
            Program p = new Generator(r).program();
            byte[] mem = new byte[MEM];
            r.nextBytes(mem);
            List<A64Jit.Options> modes = List.of(new A64Jit.Options(true), new A64Jit.Options(false),
                    new A64Jit.Options(i % 2 == 0, 16));
            Outcome want = interpret(p, mem);
            traps += want.trap() == null ? 0 : 1;
            for (A64Jit.Options o : modes) {
                Outcome got = arm64(p, o, mem);
                String why = "program " + i + " (seed " + programSeed + "), " + o + ", mem "
                        + HexFormat.of().formatHex(mem) + "\n" + Disassembler.listing(p);
                assertEquals(want.trap(), got.trap(), () -> why + "\n" + A64Jit.compile(p, o).listing());
                assertEquals(want.r0(), got.r0(), () -> String.format("r0 0x%x, interpreter 0x%x: %s%n%s", got.r0(), want.r0(),
                        why, A64Jit.compile(p, o).listing()));
                assertArrayEquals(want.mem(), got.mem(), () -> "memory after: " + why);
            }
            ran++;
        }
        assertEquals(PROGRAMS, ran);
        assertEquals(0, traps, "the generator makes programs that run to their exit");
    }

    /** r0 and memory after a run, or the trap (then r0 is 0 and memory empty). */
    private record Outcome(long r0, byte[] mem, String trap) {
    }

    private static Outcome interpret(Program p, byte[] mem) {
        try {
            Interpreter.Result r = new Interpreter().runRaw(p, mem);
            return new Outcome(r.r0(), r.memAfter(), null);
        } catch (TrapException e) {
            return new Outcome(0, new byte[0], e.getMessage());
        }
    }

    private static Outcome arm64(Program p, A64Jit.Options o, byte[] mem) {
        try (A64Emulator e = new A64Emulator(A64Jit.compile(p, o))) {
            RunResult r = e.run(mem);
            return new Outcome(r.r0(), r.memAfter(), null);
        } catch (TrapException e) {
            return new Outcome(0, new byte[0], e.getMessage());
        }
    }

    @Test
    void theGeneratorCoversEveryFamily() {
        Random rnd = new Random(1);
        boolean[] seen = new boolean[9];
        for (int i = 0; i < 200; i++) {
            for (Insn insn : new Generator(rnd).program().slots()) {
                int family = switch (insn) {
                    case null -> -1;
                    case Insn.Alu a -> 0;
                    case Insn.Load l -> l.signExtend() ? 1 : 2;
                    case Insn.Store s -> s.src() instanceof Imm ? 3 : 4;
                    case Insn.Atomic a -> a.op() == AtomicOp.CMPXCHG ? 5 : 6;
                    case Insn.Call c -> 7;
                    case Insn.Jump j -> 8;
                    default -> -1;
                };
                if (family >= 0) {
                    seen[family] = true;
                }
            }
        }
        for (int f = 0; f < seen.length; f++) {
            assertTrue(seen[f], "family " + f + " never generated");
        }
    }

    /** One random program: the entry function, then its callees; a callee only calls later ones. */
    private static final class Generator {
        private final Random rnd;
        private final RandomInsns insns;

        /** An instruction; a jump's target and a call's callee are resolved when the functions are laid out. */
        private record Item(Insn insn, int jumpTo, int callee) {
        }

        Generator(Random rnd) {
            this.rnd = rnd;
            this.insns = new RandomInsns(rnd);
        }

        Program program() {
            int functions = 1 + rnd.nextInt(3);
            List<List<Item>> bodies = new ArrayList<>();
            for (int f = 0; f < functions; f++) {
                bodies.add(body(f, functions, f == 0 ? 16 + rnd.nextInt(24) : 4 + rnd.nextInt(12)));
            }
            // Lay out: slot of every item, then offsets.
            List<int[]> slotOf = new ArrayList<>();
            int[] fnStart = new int[functions];
            int slot = 0;
            for (int f = 0; f < functions; f++) {
                fnStart[f] = slot;
                int[] s = new int[bodies.get(f).size()];
                for (int i = 0; i < s.length; i++) {
                    s[i] = slot;
                    slot += bodies.get(f).get(i).insn().slots();
                }
                slotOf.add(s);
            }
            Insn[] slots = new Insn[slot];
            for (int f = 0; f < functions; f++) {
                List<Item> body = bodies.get(f);
                int[] s = slotOf.get(f);
                for (int i = 0; i < body.size(); i++) {
                    Item it = body.get(i);
                    Insn insn = it.insn();
                    if (it.jumpTo() >= 0) {
                        int offset = s[it.jumpTo()] - s[i] - 1;
                        insn = switch (insn) {
                            case Insn.Ja j -> new Insn.Ja(offset, j.wide());
                            case Insn.Jump j -> new Insn.Jump(j.op(), j.width(), j.dst(), j.src(), (short) offset);
                            default -> throw new IllegalStateException(insn.toString());
                        };
                    } else if (it.callee() >= 0) {
                        insn = new Insn.Call(CallKind.LOCAL, fnStart[it.callee()] - s[i] - 1);
                    }
                    slots[s[i]] = insn;
                }
            }
            return Program.of("diff", ProgramType.RAW, slots);
        }

        /** {@code length} random items of function {@code f}, then exit; the entry first gives r0, r2-r9 random values. */
        private List<Item> body(int f, int functions, int length) {
            List<Item> items = new ArrayList<>();
            if (f == 0) {
                for (Reg r : SCALARS) {
                    items.add(plain(Insn.LoadImm64.of(r, rnd.nextInt(4) == 0 ? rnd.nextInt(64) - 32 : rnd.nextLong())));
                }
            }
            int first = items.size();
            int total = first + length;
            while (items.size() < total) {
                int here = items.size();
                int k = rnd.nextInt(20);
                if (k < 7) {
                    Insn a = scalarAlu(insns.next(false));
                    if (a != null) {
                        items.add(plain(a));
                    }
                } else if (k < 10) {
                    items.add(plain(load()));
                } else if (k < 12) {
                    items.add(plain(store()));
                } else if (k < 15) {
                    items.add(plain(atomic()));
                } else if (k < 18) {
                    // Forward to any later item of this function, or to its exit (index total).
                    int to = here + 1 + rnd.nextInt(total - here);
                    Insn j = rnd.nextInt(5) == 0 ? new Insn.Ja(0, rnd.nextBoolean())
                            : new Insn.Jump(pick(JumpOp.values()), rnd.nextBoolean() ? Width.W32 : Width.W64, scalar(),
                            rnd.nextBoolean() ? scalar() : new Imm(insns.imm()), (short) 0);
                    items.add(new Item(j, to, -1));
                } else if (f + 1 < functions) {
                    items.add(new Item(new Insn.Call(CallKind.LOCAL, 0), -1, f + 1 + rnd.nextInt(functions - f - 1)));
                }
            }
            if (f == 0) {
                // Fold every register into r0, so a wrong value anywhere shows (jumps to the exit land here).
                for (Reg r : SCALARS) {
                    if (r != Reg.R0) {
                        items.add(plain(new Insn.Alu(AluOp.MUL, Width.W64, Reg.R0, new Imm(0x3b9aca07))));
                        items.add(plain(new Insn.Alu(AluOp.XOR, Width.W64, Reg.R0, r)));
                    }
                }
            }
            items.add(plain(new Insn.Exit()));
            return items;
        }

        private static Item plain(Insn insn) {
            return new Item(insn, -1, -1);
        }

        private Reg scalar() {
            return SCALARS[rnd.nextInt(SCALARS.length)];
        }

        private Reg scalar(Reg r) {
            return r == Reg.R1 || r == Reg.R10 ? scalar() : r;
        }

        private <E> E pick(E[] values) {
            return values[rnd.nextInt(values.length)];
        }

        /** {@return the instruction over scalar registers only, or null for a non-ALU one} */
        private Insn scalarAlu(Insn insn) {
            return switch (insn) {
                case Insn.Alu a -> new Insn.Alu(a.op(), a.width(), scalar(a.dst()),
                        a.src() instanceof Reg r ? scalar(r) : a.src());
                case Insn.Neg n -> new Insn.Neg(n.width(), scalar(n.dst()));
                case Insn.MovSx m -> new Insn.MovSx(m.width(), m.fromBits(), scalar(m.dst()), scalar(m.src()));
                case Insn.Endian e -> new Insn.Endian(e.op(), e.bits(), scalar(e.dst()));
                case Insn.LoadImm64 l when l.kind() == LoadImm64Kind.IMM64 ->
                        new Insn.LoadImm64(l.kind(), scalar(l.dst()), l.imm(), l.nextImm());
                case Insn.LoadImm64 l -> null;
                case Insn.Load l -> null;
                case Insn.Store s -> null;
                case Insn.Atomic at -> null;
                case Insn.Ja j -> null;
                case Insn.Jump j -> null;
                case Insn.Call c -> null;
                case Insn.CallX x -> null;
                case Insn.Exit x -> null;
                case Insn.PacketLoad l -> null;
            };
        }

        /** A base (r1: the input memory; r10: the frame) and an in-bounds offset, a multiple of {@code align}. */
        private record Place(Reg base, short offset) {
        }

        private Place place(int bytes, int align) {
            if (rnd.nextBoolean()) {
                int slots = (MEM - bytes) / align + 1;
                return new Place(Reg.R1, (short) (align * rnd.nextInt(slots)));
            }
            int slots = (512 - bytes) / align + 1;
            return new Place(Reg.R10, (short) (-bytes - align * rnd.nextInt(slots)));
        }

        private Insn load() {
            Size size = pick(Size.values());
            Place at = place(size.bytes(), 1);
            return new Insn.Load(size, size != Size.DW && rnd.nextBoolean(), scalar(), at.base(), at.offset());
        }

        private Insn store() {
            Size size = pick(Size.values());
            Place at = place(size.bytes(), 1);
            Operand src = rnd.nextBoolean() ? scalar() : new Imm(insns.imm());
            return new Insn.Store(size, at.base(), at.offset(), src);
        }

        private Insn atomic() {
            Size size = rnd.nextBoolean() ? Size.W : Size.DW;
            Place at = place(size.bytes(), size.bytes());
            return new Insn.Atomic(pick(AtomicOp.values()), size, at.base(), scalar(), at.offset());
        }
    }
}
