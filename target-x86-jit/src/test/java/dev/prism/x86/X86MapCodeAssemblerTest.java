package dev.prism.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Byte-exact check against {@code llvm-mc-19} of the {@link X86Assembler} instructions added
 * for {@link X86MapCode}: PAUSE and SYSCALL.
 */
class X86MapCodeAssemblerTest {
    private record Case(String asm, Consumer<X86Assembler> emit) {
    }

    @Test
    void encodingsMatchLlvmMc() throws Exception {
        LlvmMc.require();
        List<Case> cases = List.of(
                new Case("pause", X86Assembler::pause),
                new Case("syscall", X86Assembler::syscall));
        List<String> expected = LlvmMc.encode(cases.stream().map(Case::asm).toList());
        for (int i = 0; i < cases.size(); i++) {
            X86Assembler a = new X86Assembler();
            cases.get(i).emit().accept(a);
            assertEquals(expected.get(i), LlvmMc.hex(a.toByteArray()), cases.get(i).asm());
        }
        // Independent of the tool: SDM PAUSE is F3 90, SYSCALL 0F 05.
        assertEquals("f390", expected.get(0));
        assertEquals("0f05", expected.get(1));
    }
}
