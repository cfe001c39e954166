package dev.prism.isa;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.error.MalformedProgramException;
import dev.prism.testing.RandomInsns;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class InsnCodecTest {

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replace(" ", ""));
    }

    private static final byte[] EXIT = hex("9500000000000000");

    @Test
    void knownEncodingsFromRfc9669Layout() {
        // mov r0, 1 ; exit   (opcode 0xb7, dst 0, imm 1)
        Insn[] p = InsnCodec.decode(hex("b700000001000000 9500000000000000"));
        assertEquals(new Insn.Alu(AluOp.MOV, Width.W64, Reg.R0, new Imm(1)), p[0]);
        assertEquals(new Insn.Exit(), p[1]);
        // ldxw r2, [r1+4]: opcode 0x61, regs byte = src 1 << 4 | dst 2, offset 4
        assertEquals(new Insn.Load(Size.W, false, Reg.R2, Reg.R1, (short) 4), InsnCodec.decode(concat(hex("6112040000000000"), EXIT))[0]);
        // lddw r3, 0x1122334455667788
        Insn[] l = InsnCodec.decode(concat(hex("1803000088776655 0000000044332211"), EXIT));
        assertEquals(0x1122334455667788L, ((Insn.LoadImm64) l[0]).value());
        assertEquals(null, l[1]);
        // lock fetch add [r10-8], r1 (64-bit): 0xdb, src 1 dst 10, off -8, imm 0x01
        assertEquals(new Insn.Atomic(AtomicOp.FETCH_ADD, Size.DW, Reg.R10, Reg.R1, (short) -8),
                InsnCodec.decode(concat(hex("db1af8ff01000000"), EXIT))[0]);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "07 10 0000 00000000 | reserved field src is 1, must be 0 (opcode 0x07)",
        "0f 21 0000 05000000 | reserved field imm is 5, must be 0 (opcode 0x0f)",
        "07 01 0100 00000000 | offset is 1, must be 0 (opcode 0x07)",
        "07 0b 0000 00000000 | dst register r11 does not exist",
        "ff 00 0000 00000000 | unknown opcode 0xff",
        "84 00 0000 01000000 | reserved field imm is 1, must be 0 (opcode 0x84)",
        "d4 00 0000 08000000 | byte swap width imm is 8",
        "db 10 0000 02000000 | atomic operation imm 0x2 is not defined",
        "85 30 0000 00000000 | call src is 3",
        "95 00 0000 01000000 | reserved field imm is 1, must be 0 (opcode 0x95)",
        "bf 10 0400 00000000 | offset is 4, must be 0 (mov) or 8, 16, 32 (movsx)",
        "05 00 0500 00000000 | jump offset 5 targets instruction 6, outside the program",
        "38 00 0000 00000000 | unknown opcode 0x38",
    })
    void malformedFieldsAreNamed(String word, String message) {
        byte[] program = concat(hex(word), EXIT);
        MalformedProgramException e = assertThrows(MalformedProgramException.class, () -> InsnCodec.decode(program));
        assertTrue(e.getMessage().startsWith("0: "), e.getMessage());
        assertTrue(e.getMessage().contains(message), e.getMessage());
        assertEquals(0, e.pc());
    }

    @Test
    void truncatedLddwAndJumpsIntoLddwAreRejected() {
        var e = assertThrows(MalformedProgramException.class, () -> InsnCodec.decode(concat(EXIT, hex("1800000001000000"))));
        assertEquals("1: lddw is missing its second slot (truncated program)", e.getMessage());
        // ja +1 lands on the second half of the lddw that follows
        var j = assertThrows(MalformedProgramException.class,
                () -> InsnCodec.decode(concat(hex("0500010000000000 1800000001000000 0000000000000000"), EXIT)));
        assertTrue(j.getMessage().contains("second slot of an lddw"), j.getMessage());
        var s = assertThrows(MalformedProgramException.class, () -> InsnCodec.decode(new byte[12]));
        assertTrue(s.getMessage().contains("not a multiple of 8"), s.getMessage());
    }

    /** Every valid instruction encodes and decodes back to itself. */
    @Test
    void encodeDecodeRoundTripsRandomInstructions() {
        RandomInsns gen = new RandomInsns(new Random(7));
        for (int i = 0; i < 100_000; i++) {
            Insn insn = gen.next(true);
            Insn[] program = insn instanceof Insn.LoadImm64 l && l.kind() == LoadImm64Kind.CODE_ADDR
                    ? new Insn[] {insn, null, new Insn.Exit(), new Insn.Exit()}
                    : insn.slots() == 2 ? new Insn[] {insn, null, new Insn.Exit()} : new Insn[] {insn, new Insn.Exit()};
            byte[] bytes = InsnCodec.encode(program);
            assertArrayEquals(program, InsnCodec.decode(bytes), insn.toString());
        }
    }

    /**
     * Decoding is a bijection on what it accepts: any 8-byte word either is rejected with
     * Prism's own error, or decodes to an instruction that re-encodes to exactly those bytes.
     */
    @Test
    void randomWordsDecodeOrFailCleanlyAndReencodeExactly() {
        Random rnd = new Random(42);
        int accepted = 0;
        ByteBuffer buf = ByteBuffer.allocate(8 * 48).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 300_000; i++) {
            long word = rnd.nextLong();
            // Bias the fields towards values that can be valid, so both outcomes are exercised.
            if (rnd.nextInt(3) > 0) {
                word = (word & ~0xffff_0000L) | (long) (rnd.nextInt(3) == 0 ? rnd.nextInt(40) : 0) << 16; // offset
            }
            if (rnd.nextInt(3) == 0) {
                word &= 0x0000_0000_ffff_ffffL; // imm 0
            }
            if (rnd.nextInt(3) > 0) {
                word = (word & ~0xff00L) | (long) rnd.nextInt(11) << 8 | (long) (rnd.nextInt(2) == 0 ? 0 : rnd.nextInt(11)) << 12;
            }
            buf.clear();
            buf.putLong(0, word);
            for (int k = 1; k < 48; k++) {
                buf.putLong(8 * k, 0x95L); // exit: room for small forward jumps
            }
            if ((word & 0xff) == 0x18) { // lddw: a second slot that is usually, not always, valid
                buf.putLong(8, rnd.nextInt(4) == 0 ? rnd.nextLong() : rnd.nextLong() & 0xffff_ffff_0000_0000L);
            }
            byte[] bytes = buf.array().clone();
            try {
                Insn[] decoded = InsnCodec.decode(bytes);
                accepted++;
                assertArrayEquals(bytes, InsnCodec.encode(decoded), () -> HexFormat.of().formatHex(bytes));
            } catch (MalformedProgramException expected) {
                assertTrue(expected.getMessage().matches("\\d+: .+"), expected.getMessage());
            }
        }
        assertTrue(accepted > 10_000, "enough valid words were exercised: " + accepted);
    }
}
