package dev.prism.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Labels: rel8/rel32 choice, forward patching at bind, and the rel8 range check. */
class X86LabelTest {
    private static String code(X86Assembler a) {
        return LlvmMc.hex(a.toByteArray());
    }

    private static void nops(X86Assembler a, int n) {
        for (int i = 0; i < n; i++) {
            a.nop();
        }
    }

    @Test
    void backwardJumpInRangeIsRel8() {
        X86Assembler a = new X86Assembler();
        Label top = new Label();
        a.bind(top);
        a.nop();
        a.jmp(top); // at 1, ends at 3: rel -3
        a.jcc(Condition.NE, top); // at 3, ends at 5: rel -5
        assertEquals("90" + "ebfd" + "75fb", code(a));
    }

    @Test
    void backwardJumpAtTheRel8LimitIsRel8AndOneFurtherIsRel32() {
        X86Assembler a = new X86Assembler();
        Label top = new Label();
        a.bind(top);
        nops(a, 126);
        a.jmp(top); // at 126, ends at 128: rel -128, the last rel8
        assertEquals("eb80", LlvmMc.hex(Arrays.copyOfRange(a.toByteArray(), 126, 128)));
        a.jmp(top); // at 128: rel8 would be -130, so rel32 -(128 + 5) = -133
        assertEquals("e97bffffff", LlvmMc.hex(Arrays.copyOfRange(a.toByteArray(), 128, 133)));
        a.jcc(Condition.L, top); // at 133: rel32 -(133 + 6) = -139
        assertEquals("0f8c75ffffff", LlvmMc.hex(Arrays.copyOfRange(a.toByteArray(), 133, 139)));
    }

    @Test
    void forwardJumpsAreRel32AndPatchedAtBind() {
        X86Assembler a = new X86Assembler();
        Label end = new Label();
        a.jmp(end); // 0..5
        a.jcc(Condition.E, end); // 5..11
        a.call(end); // 11..16
        assertEquals("e900000000" + "0f8400000000" + "e800000000", code(a));
        a.nop(); // 16
        a.bind(end); // 17
        assertEquals(17, end.position());
        assertEquals("e90c000000" + "0f8406000000" + "e801000000" + "90", code(a));
    }

    @Test
    void shortForwardJumpIsPatchedUpToTheRel8Limit() {
        X86Assembler a = new X86Assembler();
        Label end = new Label();
        a.jmpShort(end); // ends at 2
        a.jccShort(Condition.B, end); // ends at 4
        nops(a, 123);
        a.bind(end); // 127: rels 125 and 123
        byte[] b = a.toByteArray();
        assertEquals("eb7d727b", LlvmMc.hex(Arrays.copyOf(b, 4)));

        X86Assembler c = new X86Assembler();
        Label far = new Label();
        c.jmpShort(far);
        nops(c, 127);
        c.bind(far); // rel 127 exactly
        assertEquals("eb7f", LlvmMc.hex(Arrays.copyOf(c.toByteArray(), 2)));
    }

    @Test
    void shortForwardJumpOutOfRangeThrowsAtBindNamingTheDisplacement() {
        X86Assembler a = new X86Assembler();
        Label far = new Label();
        a.jmpShort(far);
        nops(a, 128);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.bind(far));
        assertTrue(e.getMessage().contains("128"), e.getMessage());
    }

    @Test
    void shortBackwardJumpOutOfRangeThrowsNamingTheDisplacement() {
        X86Assembler a = new X86Assembler();
        Label top = new Label();
        a.bind(top);
        nops(a, 127);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> a.jccShort(Condition.E, top)); // rel 0 - 129
        assertTrue(e.getMessage().contains("-129"), e.getMessage());
    }

    @Test
    void backwardCallIsRel32() {
        X86Assembler a = new X86Assembler();
        Label f = new Label();
        a.bind(f);
        a.ret();
        a.call(f); // at 1, ends at 6: rel -6
        assertEquals("c3" + "e8faffffff", code(a));
    }

    @Test
    void bindingTwiceIsRefused() {
        X86Assembler a = new X86Assembler();
        Label l = new Label();
        a.bind(l);
        assertThrows(IllegalStateException.class, () -> a.bind(l));
        assertThrows(IllegalStateException.class, () -> new Label().position());
    }

    /**
     * A program with loops and forward branches, written once against the assembler and once
     * as llvm-mc text: llvm-mc resolves and relaxes its jumps (rel8 where it fits), so the
     * forward jumps that fit use the Short variants and the others the rel32 default.
     */
    @Test
    void labelledProgramMatchesLlvmMc() throws Exception {
        LlvmMc.require();
        LlvmMc.requireObjcopy();
        X86Assembler a = new X86Assembler();
        StringBuilder s = new StringBuilder();
        Label loop = new Label();
        Label skip = new Label();
        Label far = new Label();
        Label out = new Label();
        Label fn = new Label();

        a.bind(loop);
        s.append("loop:\n");
        a.add(64, X86Reg.RAX, 1);
        s.append("add rax, 1\n");
        a.cmp(64, X86Reg.RAX, X86Reg.R12);
        s.append("cmp rax, r12\n");
        a.jccShort(Condition.E, skip);
        s.append("je skip\n");
        a.jcc(Condition.GE, far);
        s.append("jge far\n");
        a.call(fn);
        s.append("call fn\n");
        a.jmp(loop);
        s.append("jmp loop\n");
        a.bind(skip);
        s.append("skip:\n");
        for (int i = 0; i < 40; i++) {
            a.mov(64, X86Address.of(X86Reg.R13, i * 8), X86Reg.RCX);
            s.append("mov qword ptr [r13 + ").append(i * 8).append("], rcx\n");
        }
        a.jcc(Condition.NE, loop); // backward beyond rel8
        s.append("jne loop\n");
        a.jmpShort(out);
        s.append("jmp out\n");
        a.bind(far);
        s.append("far:\n");
        a.xor(32, X86Reg.RDX, X86Reg.RDX);
        s.append("xor edx, edx\n");
        a.bind(out);
        s.append("out:\n");
        a.ret();
        s.append("ret\n");
        a.bind(fn);
        s.append("fn:\n");
        a.jmp(skip); // backward beyond rel8
        s.append("jmp skip\n");

        assertEquals(LlvmMc.hex(LlvmMc.assemble(s.toString())), code(a));
    }
}
