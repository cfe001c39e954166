package dev.prism.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.prism.asm.Disassembler;
import dev.prism.isa.Insn;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.isa.Reg;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.Target;
import dev.prism.testing.Host;
import dev.prism.testing.RandomInsns;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Random straight-line ALU programs (alu, neg, movsx, byte swaps, lddw imm64 over r0-r9) on
 * x86-64 and on the reference interpreter: r0 must agree. Every register is first given a
 * random value, so no result depends on where the targets put r1 or r10: half the programs
 * load the values from memory the verifier knows nothing about (so every instruction is
 * lowered), half from constants (so the IR's constant folding is what runs).
 */
class X86DifferentialTest {
    private static final int PROGRAMS = 20_000;
    private static final int LENGTH = 12;

    @Test
    void randomAluProgramsAgreeWithTheInterpreter() {
        X86Target x86 = new X86Target();
        Host.require("x86-64", x86.availability().available(), x86.availability().reason());
        Target interpreter = new InterpreterTarget();
        Random rnd = new Random(0x9669);
        RandomInsns gen = new RandomInsns(rnd);
        int ran = 0;
        for (int i = 0; i < PROGRAMS; i++) {
            // Odd programs load their registers from memory the verifier knows nothing about, so
            // every instruction is lowered; even ones from constants, so the IR folds them.
            boolean fromMemory = i % 2 == 1;
            byte[] mem = fromMemory ? new byte[80] : new byte[0];
            Program p = program(rnd, gen, mem);
            long want;
            try (Executable e = interpreter.load(List.of(p))) {
                want = e.run(RunInput.ofMem(mem)).r0();
            }
            long got;
            try (Executable e = x86.load(List.of(p))) {
                got = e.run(RunInput.ofMem(mem)).r0();
            }
            final Program shown = p;
            assertEquals(want, got, () -> "program " + shown.name() + " r0 differs:\n" + Disassembler.listing(shown));
            ran++;
        }
        assertEquals(PROGRAMS, ran);
    }

    private static Program program(Random rnd, RandomInsns gen, byte[] mem) {
        List<Insn> insns = new ArrayList<>();
        java.nio.ByteBuffer values = java.nio.ByteBuffer.wrap(mem).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int r : new int[] {0, 2, 3, 4, 5, 6, 7, 8, 9, 1}) {
            long v = rnd.nextInt(4) == 0 ? rnd.nextInt(64) - 32 : rnd.nextLong();
            if (mem.length > 0) {
                values.putLong(8 * r, v);
                insns.add(new Insn.Load(dev.prism.isa.Size.DW, false, Reg.of(r), Reg.R1, (short) (8 * r)));
            } else {
                insns.add(Insn.LoadImm64.of(Reg.of(r), v));
            }
        }
        int body = 0;
        while (body < LENGTH) {
            Insn insn = alu(gen.next(false));
            if (insn != null) {
                insns.add(insn);
                body++;
            }
        }
        insns.add(new Insn.Exit());
        List<Insn> slots = new ArrayList<>();
        for (Insn insn : insns) {
            slots.add(insn);
            if (insn.slots() == 2) {
                slots.add(null);
            }
        }
        return Program.of("diff", ProgramType.RAW, slots.toArray(Insn[]::new));
    }

    /** {@return the instruction with r10 operands moved into r0-r9, or null for a non-ALU one} */
    private static Insn alu(Insn insn) {
        return switch (insn) {
            case Insn.Alu a -> new Insn.Alu(a.op(), a.width(), low(a.dst()), a.src() instanceof Reg r ? low(r) : a.src());
            case Insn.Neg n -> new Insn.Neg(n.width(), low(n.dst()));
            case Insn.MovSx m -> new Insn.MovSx(m.width(), m.fromBits(), low(m.dst()), low(m.src()));
            case Insn.Endian e -> new Insn.Endian(e.op(), e.bits(), low(e.dst()));
            case Insn.LoadImm64 l when l.kind() == LoadImm64Kind.IMM64 -> new Insn.LoadImm64(l.kind(), low(l.dst()), l.imm(), l.nextImm());
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

    private static Reg low(Reg r) {
        return r == Reg.R10 ? Reg.R0 : r;
    }
}
