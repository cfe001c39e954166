package dev.prism.arm64.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.arm64.A64Assembler;
import dev.prism.arm64.A64Reg;
import dev.prism.target.Availability;
import dev.prism.testing.Host;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The libunicorn binding on its own: mappings, registers, budgets, the invalid-access hook. */
class UnicornTest {
    private static final long CODE = 0x10_0000;
    private static final long DATA = 0x20_0000;
    private static final long END = 0x1_0000;

    private static void requireUnicorn() {
        Host.require("arm64", Unicorn.availability().available(), Unicorn.availability().reason());
    }

    @Test
    void aMissingLibraryIsAReasonNotACrash() {
        Availability a = Unicorn.probe("libprism-no-such-library.so.9");
        assertFalse(a.available());
        assertEquals("libprism-no-such-library.so.9 not found (Debian package libunicorn2)", a.reason());
    }

    @Test
    void availabilityNamesTheVersion() {
        requireUnicorn();
        assertTrue(Unicorn.availability().reason().startsWith("libunicorn 2."), Unicorn.availability().reason());
        assertTrue(Unicorn.strerror(6).contains("UC_ERR_READ_UNMAPPED"), Unicorn.strerror(6));
    }

    private static byte[] code(java.util.function.Consumer<A64Assembler> body) {
        A64Assembler a = new A64Assembler();
        body.accept(a);
        return a.bytes();
    }

    @Test
    void runsCodeOnSharedHostMemory() {
        requireUnicorn();
        try (Unicorn uc = Unicorn.open(Unicorn.CpuModel.MAX); Arena arena = Arena.ofConfined()) {
            uc.map(CODE, 0x1_0000, Unicorn.PROT_READ | Unicorn.PROT_EXEC);
            uc.write(CODE, code(a -> {
                a.ldr(64, A64Reg.X2, A64Reg.X0, 0);
                a.add(64, A64Reg.X2, A64Reg.X2, A64Reg.X1);
                a.str(64, A64Reg.X2, A64Reg.X0, 8);
                a.movImm(64, A64Reg.X0, 0x1234_5678_9abc_def0L);
                a.ret();
            }));
            MemorySegment host = arena.allocate(0x1_0000, 16);
            host.set(ValueLayout.JAVA_LONG, 0, 40);
            uc.map(DATA, host, Unicorn.PROT_READ | Unicorn.PROT_WRITE);
            uc.reg(Unicorn.x(0), DATA);
            uc.reg(Unicorn.x(1), 2);
            uc.reg(Unicorn.REG_LR, END);
            Unicorn.Stop stop = uc.start(CODE, END, 1000);
            assertTrue(stop.ok(), stop.message());
            assertEquals(END, stop.pc());
            assertEquals(0x1234_5678_9abc_def0L, uc.reg(Unicorn.x(0)));
            assertEquals(42, host.get(ValueLayout.JAVA_LONG, 8), "the emulated store is in the host segment");
            assertEquals(42, java.nio.ByteBuffer.wrap(uc.read(DATA + 8, 8)).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
            uc.unmap(DATA, 0x1_0000);
        }
    }

    @Test
    void invalidAccessesAreRecordedWithTheirExactPc() {
        requireUnicorn();
        try (Unicorn uc = Unicorn.open(Unicorn.CpuModel.CORTEX_A57)) {
            uc.map(CODE, 0x1_0000, Unicorn.PROT_READ | Unicorn.PROT_EXEC);
            uc.write(CODE, code(a -> {
                a.nop();
                a.nop();
                a.str(32, A64Reg.X1, A64Reg.X0, 4);
                a.ret();
            }));
            uc.reg(Unicorn.x(0), 0x4000_0000L);
            uc.reg(Unicorn.REG_LR, END);
            Unicorn.Stop stop = uc.start(CODE, END, 1000);
            assertFalse(stop.ok());
            assertNotNull(stop.fault());
            assertEquals(new Unicorn.MemoryFault("write", "unmapped", 0x4000_0004L, 4, CODE + 8), stop.fault());
            assertEquals(CODE + 8, stop.pc());
            // A write to code is refused as protected.
            uc.reg(Unicorn.x(0), CODE);
            Unicorn.Stop prot = uc.start(CODE, END, 1000);
            assertEquals(new Unicorn.MemoryFault("write", "protected", CODE + 4, 4, CODE + 8), prot.fault());
        }
    }

    @Test
    void theBudgetStopsAHang() {
        requireUnicorn();
        try (Unicorn uc = Unicorn.open(Unicorn.CpuModel.MAX)) {
            uc.map(CODE, 0x1_0000, Unicorn.PROT_READ | Unicorn.PROT_EXEC);
            uc.write(CODE, code(a -> {
                a.nop();
                a.b(0);
            }));
            Unicorn.Stop stop = uc.start(CODE, END, 1000);
            assertTrue(stop.ok());
            assertNull(stop.fault());
            assertEquals(CODE + 4, stop.pc());
        }
    }

    @Test
    void aClosedEngineRefusesWork() {
        requireUnicorn();
        Unicorn uc = Unicorn.open(Unicorn.CpuModel.MAX);
        uc.close();
        uc.close();
        assertThrows(IllegalStateException.class, () -> uc.reg(Unicorn.REG_PC));
        assertThrows(IllegalArgumentException.class, () -> Unicorn.x(31));
    }
}
