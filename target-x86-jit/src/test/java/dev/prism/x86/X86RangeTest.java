package dev.prism.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Range checks throw IllegalArgumentException naming the value, and emit nothing. */
class X86RangeTest {
    private static final X86Address M = X86Address.of(X86Reg.RDI, 8);

    private static void refused(String value, Consumer<X86Assembler> emit) {
        X86Assembler a = new X86Assembler();
        Executable e = () -> emit.accept(a);
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(value), "message '" + x.getMessage() + "' lacks " + value);
        assertEquals(0, a.position(), "bytes emitted before the check");
    }

    @Test
    void immediatesOutOfRange() {
        refused("2147483648", a -> a.mov(64, X86Reg.RAX, 0x8000_0000L));
        refused("-2147483649", a -> a.mov(64, X86Reg.RAX, -0x8000_0001L));
        refused("4294967296", a -> a.mov(32, X86Reg.RAX, 0x1_0000_0000L));
        refused("-2147483649", a -> a.mov(32, X86Reg.RAX, -0x8000_0001L));
        refused("2147483648", a -> a.add(64, X86Reg.RCX, 0x8000_0000L));
        refused("4294967296", a -> a.and(32, X86Reg.R12, 0x1_0000_0000L));
        refused("2147483648", a -> a.test(64, X86Reg.RAX, 0x8000_0000L));
        refused("256", a -> a.mov(8, M, 256));
        refused("-129", a -> a.mov(8, M, -129));
        refused("65536", a -> a.mov(16, M, 65536));
        refused("-32769", a -> a.mov(16, M, -32769));
        refused("4294967296", a -> a.mov(32, M, 0x1_0000_0000L));
        refused("2147483648", a -> a.mov(64, M, 0x8000_0000L));
    }

    @Test
    void shiftCountsOutOfRange() {
        refused("64", a -> a.shl(64, X86Reg.RAX, 64));
        refused("32", a -> a.shr(32, X86Reg.RAX, 32));
        refused("16", a -> a.rol(16, X86Reg.RAX, 16));
        refused("-1", a -> a.sar(64, X86Reg.R15, -1));
        refused("255", a -> a.sar(64, X86Reg.R15, 255));
    }

    @Test
    void operandSizesOutOfRange() {
        refused("48", a -> a.add(48, X86Reg.RAX, X86Reg.RCX));
        refused("16", a -> a.mov(16, X86Reg.RAX, X86Reg.RCX));
        refused("8", a -> a.shl(8, X86Reg.RAX));
        refused("128", a -> a.mov(128, M, X86Reg.RAX));
        refused("32", a -> a.movzx(32, X86Reg.RAX, M));
        refused("32", a -> a.movsx(32, 32, X86Reg.RAX, M)); // movsxd needs a 64-bit destination
        refused("16", a -> a.bswap(16, X86Reg.RAX));
    }

    @Test
    void displacementsAtTheInt32LimitsAreAccepted() {
        // The displacement is an int, so every value of the type encodes (disp32); what
        // can be out of range is an immediate, a shift count or an operand size.
        X86Assembler a = new X86Assembler();
        a.mov(64, X86Reg.RAX, X86Address.of(X86Reg.R12, Integer.MIN_VALUE));
        assertEquals("498b842400000080", LlvmMc.hex(a.toByteArray()));
    }
}
