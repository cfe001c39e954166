package dev.prism.csd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.prism.asm.Assembler;
import dev.prism.isa.AluOp;
import dev.prism.isa.JumpOp;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Interpreter;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Random straight-line programs with forward branches against the interpreter: every ALU
 * operation in both widths with register and immediate operands drawn from corner values
 * (0, ±1, INT_MIN, shift counts past the width), neg, movsx, le/be/bswap, sign-extending and
 * plain loads, stores, every atomic in both sizes, signed and unsigned 32/64-bit jumps; r0 folds
 * every register and the stack at the end. {@value #PROGRAMS} programs on x86-64 and
 * {@value #CROSS_PROGRAMS} per cross arch in {@code make test}; nightly {@value #NIGHTLY} each.
 */
class FirmwareAluFuzzTest {
    static final int PROGRAMS = 40;
    static final int CROSS_PROGRAMS = 6;
    static final int NIGHTLY = 400;
    private static final long[] CORNERS = {0, 1, -1, 2, 7, 31, 32, 33, 63, 64, 65, 0x7fff_ffffL, 0x8000_0000L, 0xffff_ffffL,
            Long.MIN_VALUE, Long.MAX_VALUE, 0x8000_0000_0000_0001L, -2, -31, -32, -64, 0x1_0000_0000L, 0xff, 0xffff};

    static String program(Random rnd, int length) {
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r <= 9; r++) {
            sb.append("lddw %r").append(r).append(", ").append(value(rnd)).append('\n');
            sb.append("stxdw [%r10-").append(8 * (r + 1)).append("], %r").append(r).append('\n');
        }
        int[] remaining = {length};
        for (int i = 0; i < length; i++) {
            remaining[0] = length - i - 1;
            sb.append(insn(rnd, remaining[0])).append('\n');
        }
        for (int r = 1; r <= 9; r++) {
            sb.append("xor %r0, %r").append(r).append('\n');
        }
        for (int k = 1; k <= 10; k++) {
            sb.append("ldxdw %r1, [%r10-").append(8 * k).append("]\n").append("lsh %r0, 1\n").append("xor %r0, %r1\n");
        }
        return sb.append("exit\n").toString();
    }

    private static long value(Random rnd) {
        return rnd.nextInt(3) == 0 ? rnd.nextLong() : CORNERS[rnd.nextInt(CORNERS.length)];
    }

    private static String reg(Random rnd) {
        return "%r" + rnd.nextInt(10);
    }

    private static String insn(Random rnd, int remaining) {
        String d = reg(rnd);
        String w = rnd.nextBoolean() ? "32" : "";
        switch (rnd.nextInt(12)) {
            case 0, 1, 2, 3 -> {
                AluOp op = AluOp.values()[rnd.nextInt(AluOp.values().length)];
                String src = rnd.nextBoolean() ? reg(rnd) : Integer.toString((int) value(rnd));
                return op.mnemonic() + w + " " + d + ", " + src;
            }
            case 4 -> {
                return "neg" + w + " " + d;
            }
            case 5 -> {
                int[] bits = w.isEmpty() ? new int[] {8, 16, 32} : new int[] {8, 16};
                return "movsx" + bits[rnd.nextInt(bits.length)] + (w.isEmpty() ? "64" : "32") + " " + d + ", " + reg(rnd);
            }
            case 6 -> {
                String[] ops = {"le", "be", "bswap"};
                return ops[rnd.nextInt(3)] + new int[] {16, 32, 64}[rnd.nextInt(3)] + " " + d;
            }
            case 7 -> {
                int size = new int[] {1, 2, 4, 8}[rnd.nextInt(4)];
                int off = -8 * (1 + rnd.nextInt(10)) + size * rnd.nextInt(8 / size);
                String sx = size < 8 && rnd.nextBoolean() ? "s" : "";
                return "ldx" + sx + suffix(size) + " " + d + ", [%r10" + off + "]";
            }
            case 8 -> {
                int size = new int[] {1, 2, 4, 8}[rnd.nextInt(4)];
                int off = -8 * (1 + rnd.nextInt(10)) + size * rnd.nextInt(8 / size);
                return "stx" + suffix(size) + " [%r10" + off + "], " + reg(rnd);
            }
            case 9 -> {
                String[] ops = {"add", "or", "and", "xor", "fetch add", "fetch or", "fetch and", "fetch xor", "xchg", "cmpxchg"};
                int size = rnd.nextBoolean() ? 4 : 8;
                int off = -8 * (1 + rnd.nextInt(10)) + (size == 4 ? 4 * rnd.nextInt(2) : 0);
                return "lock " + ops[rnd.nextInt(ops.length)] + (size == 4 ? "32" : "") + " [%r10" + off + "], " + reg(rnd);
            }
            default -> {
                if (remaining < 1) {
                    return "mov " + d + ", " + reg(rnd);
                }
                JumpOp op = JumpOp.values()[rnd.nextInt(JumpOp.values().length)];
                String src = rnd.nextBoolean() ? reg(rnd) : Integer.toString((int) value(rnd));
                return op.mnemonic() + w + " " + d + ", " + src + ", +" + (1 + rnd.nextInt(Math.min(3, remaining)));
            }
        }
    }

    private static String suffix(int size) {
        return switch (size) {
            case 1 -> "b";
            case 2 -> "h";
            case 4 -> "w";
            default -> "dw";
        };
    }

    @ParameterizedTest
    @EnumSource(FirmwareArch.class)
    void randomProgramsMatchTheInterpreter(FirmwareArch arch) {
        String why = arch.unavailable();
        Host.require(arch.host() ? "csd" : "csd-" + arch.id(), why == null, why);
        boolean nightly = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
        int programs = nightly ? NIGHTLY : arch.host() ? PROGRAMS : CROSS_PROGRAMS;
        Random rnd = new Random(0x5eed + arch.ordinal());
        for (int i = 0; i < programs; i++) {
            String text = program(rnd, 120);
            Program p = Program.builder("fuzz" + i, ProgramType.RAW, Assembler.assemble(text)).build();
            VerifiedProgram v = Verifier.verify(p, Profile.RFC9669);
            long want = new Interpreter().runRaw(p, new byte[0]).r0();
            try (FirmwareKernel k = Firmware.load(v, arch)) {
                assertEquals(want, k.runRaw(new byte[0]).r0(), arch.id() + " program " + i + ":\n" + text);
            }
        }
    }
}
