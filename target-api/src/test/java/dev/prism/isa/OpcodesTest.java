package dev.prism.isa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.testing.RandomInsns;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OpcodesTest {

    @Test
    void registryHasEveryRowOnceWithTheRightClassAndGroup() {
        Set<String> keys = new HashSet<>();
        for (Opcode op : Opcodes.all()) {
            assertTrue(keys.add(op.key()), "duplicate " + op);
            switch (op.insnClass()) {
                // le64/be64 live in the ALU class but need 64-bit registers: base64.
                case ALU -> assertTrue(op.group() == Group.BASE32 || op.group() == Group.DIVMUL32
                        || op.mnemonic().matches("(le|be)64 dst"), op.toString());
                case ALU64 -> assertTrue(op.group() == Group.BASE64 || op.group() == Group.DIVMUL64
                        || op.mnemonic().startsWith("bswap"), op.toString());
                case JMP32 -> assertEquals(Group.BASE32, op.group(), op.toString());
                case STX -> assertTrue(op.mnemonic().startsWith("lock") == (op.group() == Group.ATOMIC32 || op.group() == Group.ATOMIC64), op.toString());
                case LD, LDX, ST, JMP -> {
                }
            }
        }
        // RFC 9669 registry, counted by family: ALU 2 widths x (14 ops x K/X + neg) = 58,
        // movsx 5, byte swaps 9, jumps: ja, ja32, 11 ops x K/X x 2 classes, call x3, callx, exit = 51,
        // loads/stores 4 sizes x (ldx, st, stx) + 3 ldxs = 15, atomics 2 x 10, lddw 7, packet 6.
        assertEquals(58 + 5 + 9 + 51 + 15 + 20 + 7 + 6, Opcodes.all().size());
    }

    @Test
    void everyInstructionMapsToTheRowOfItsEncoding() {
        RandomInsns gen = new RandomInsns(new Random(1));
        Set<Opcode> seen = new HashSet<>();
        for (int i = 0; i < 200_000; i++) {
            Insn insn = gen.next(true);
            Opcode row = Opcodes.of(insn);
            assertEquals(InsnCodec.opcodeByte(insn), row.code(), insn.toString());
            seen.add(row);
        }
        assertEquals(Set.copyOf(Opcodes.all()), seen, "the random generator reaches every registry row");
    }
}
