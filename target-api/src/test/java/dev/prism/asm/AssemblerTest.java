package dev.prism.asm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.error.AssemblerException;
import dev.prism.isa.AtomicOp;
import dev.prism.isa.CallKind;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.InsnCodec;
import dev.prism.isa.JumpOp;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.isa.Reg;
import dev.prism.isa.Size;
import dev.prism.isa.Width;
import dev.prism.testing.RandomInsns;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AssemblerTest {

    @Test
    void assemblesTheConformanceDialect() {
        Insn[] p = Assembler.assemble("""
                # comment
                start:  add32 %r0, 1
                        ldxw %r0, [%r1+4]
                        lock fetch add [%r10-8], %r1
                        lock cmpxchg32 [%r2], %r3
                        jeq %r1, 0xffffffff, done   ; unsigned form of -1
                        call local fn
                        call %r2
                        lddw %r4, code fn
                        ja -9
                done:   exit
                fn:     mov %r0, 0
                        exit
                """);
        assertEquals(new Insn.Alu(dev.prism.isa.AluOp.ADD, Width.W32, Reg.R0, new Imm(1)), p[0]);
        assertEquals(new Insn.Load(Size.W, false, Reg.R0, Reg.R1, (short) 4), p[1]);
        assertEquals(new Insn.Atomic(AtomicOp.FETCH_ADD, Size.DW, Reg.R10, Reg.R1, (short) -8), p[2]);
        assertEquals(new Insn.Atomic(AtomicOp.CMPXCHG, Size.W, Reg.R2, Reg.R3, (short) 0), p[3]);
        assertEquals(new Insn.Jump(JumpOp.JEQ, Width.W64, Reg.R1, new Imm(-1), (short) 5), p[4]);
        assertEquals(new Insn.Call(CallKind.LOCAL, 5), p[5]);
        assertEquals(new Insn.CallX(Reg.R2), p[6]);
        // lddw at slot 7; fn is slot 11; code addresses count from pc + 1 (Linux BPF_PSEUDO_FUNC)
        assertEquals(new Insn.LoadImm64(LoadImm64Kind.CODE_ADDR, Reg.R4, 3, 0), p[7]);
        assertEquals(null, p[8]);
        assertEquals(new Insn.Ja(-9, false), p[9]);
    }

    @Test
    void disassembleThenAssembleGivesTheSameBytes() {
        RandomInsns gen = new RandomInsns(new Random(11));
        for (int i = 0; i < 100_000; i++) {
            Insn insn = gen.next(true);
            String text = Disassembler.format(insn);
            Insn[] program = Assembler.assemble(text + "\nexit\nexit\n");
            assertEquals(insn, program[0], text);
            // and the canonical text is a fixed point
            assertEquals(text, Disassembler.format(program[0]));
            assertArrayEquals(InsnCodec.encode(new Insn[] {insn}), InsnCodec.encode(new Insn[] {program[0]}), text);
        }
    }

    @Test
    void errorsNameTheLine() {
        assertError("mov %r0, 1\nfrob %r1\nexit", 2, "unknown instruction 'frob'");
        assertError("mov %r11, 1", 1, "register r11 does not exist");
        assertError("add %r0", 1, "'add' takes 2 operands, found 1");
        assertError("ja nowhere", 1, "undefined label 'nowhere'");
        assertError("add32 %r0, 0x1ffffffff", 1, "does not fit in 32 bits");
        assertError("ldxw %r0, %r1", 1, "expected a memory operand");
        assertError("a:\na:\nexit", 2, "label 'a' is defined twice");
        assertError("ja +5\nexit", 1, "outside the program");
        assertError("lock nand [%r1], %r2", 1, "unknown atomic operation");
    }

    private static void assertError(String text, int line, String message) {
        AssemblerException e = assertThrows(AssemblerException.class, () -> Assembler.assemble(text));
        assertEquals(line, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    /** Random text, and random mutations of valid text, give a program or an AssemblerException. */
    @Test
    void randomTextNeverEscapesAsAnotherException() {
        Random rnd = new Random(3);
        RandomInsns gen = new RandomInsns(rnd);
        String alphabet = "%r0123456789abcdefxjlmovdstq+-[],:# \n\t;ABCZ_.\u00e9";
        int programs = 0;
        for (int i = 0; i < 30_000; i++) {
            StringBuilder sb = new StringBuilder();
            if (rnd.nextBoolean()) {
                for (int k = 0; k < 1 + rnd.nextInt(4); k++) {
                    sb.append(Disassembler.format(gen.next(true))).append('\n');
                }
                for (int k = 0; k < 1 + rnd.nextInt(3); k++) {
                    int at = rnd.nextInt(sb.length() + 1);
                    sb.insert(at, alphabet.charAt(rnd.nextInt(alphabet.length())));
                    if (rnd.nextBoolean() && sb.length() > 1) {
                        sb.deleteCharAt(rnd.nextInt(sb.length()));
                    }
                }
            } else {
                for (int k = 0; k < rnd.nextInt(40); k++) {
                    sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
                }
            }
            try {
                Assembler.assemble(sb.toString());
                programs++;
            } catch (AssemblerException expected) {
                assertTrue(expected.getMessage().startsWith("line "), expected.getMessage());
            }
        }
        assertTrue(programs > 1000, "some mutated programs stay valid: " + programs);
    }
    /**
     * bpf_conformance's dialect: its assembler labels the first {@code exit} "exit", spells
     * bswap {@code swapN}, and names the call mode ({@code call helper|local|runtime}). The
     * expected words are the RFC 9669 encodings written out by hand.
     */
    @Test
    void readsBpfConformanceNames() {
        Insn[] p = Assembler.assemble("""
                jeq %r1, 0, exit
                ja exit
                swap16 %r0
                swap32 %r0
                swap64 %r0
                call helper 5
                call helper %r2
                call runtime 7
                call local fn
                exit
                fn:
                exit
                """);
        java.nio.LongBuffer bytes = java.nio.ByteBuffer.wrap(InsnCodec.encode(p)).order(java.nio.ByteOrder.LITTLE_ENDIAN).asLongBuffer();
        long[] words = new long[bytes.remaining()];
        bytes.get(words);
        assertEquals(0x0000_0000_0008_0115L, words[0]); // jeq r1, 0, +8: offset 8 to the first exit (slot 9)
        assertEquals(0x0000_0000_0007_0005L, words[1]); // ja +7
        assertEquals(0x0000_0010_0000_00d7L, words[2]); // bswap16 r0 (ALU64 | END, imm 16)
        assertEquals(0x0000_0020_0000_00d7L, words[3]);
        assertEquals(0x0000_0040_0000_00d7L, words[4]);
        assertEquals(0x0000_0005_0000_0085L, words[5]); // call, src 0, imm 5
        assertEquals(0x0000_0000_0000_028dL, words[6]); // callx, dst r2
        assertEquals(0x0000_0007_0000_2085L, words[7]); // call, src 2 (BTF id), imm 7
        assertEquals(0x0000_0001_0000_1085L, words[8]); // call, src 1, imm +1
    }

    /** A label the text defines itself wins over the implicit one. */
    @Test
    void anExplicitExitLabelWins() {
        Insn[] p = Assembler.assemble("""
                ja exit
                exit
                exit:
                mov %r0, 1
                exit
                """);
        assertEquals(new Insn.Ja(1, false), p[0]);
        assertThrows(AssemblerException.class, () -> Assembler.assemble("ja exit\nmov %r0, 0\n"));
    }
}
