package dev.prism.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class ExecutableMemoryTest {
    @Test
    void runsCodeAndClosesOnce() {
        String arch = System.getProperty("os.arch");
        Assumptions.assumeTrue(System.getProperty("os.name").startsWith("Linux") && arch.equals("amd64"),
                "x86-64 Linux machine code");
        // lea rax, [rdi + rsi]; add rax, rdx; ret
        byte[] code = {0x48, (byte) 0x8d, 0x04, 0x37, 0x48, 0x01, (byte) 0xd0, (byte) 0xc3};
        ExecutableMemory m = ExecutableMemory.of(code);
        assertEquals(0, m.byteSize() % Libc.get().pageSize());
        assertTrue(m.entry().address() != 0);
        assertEquals(6, m.invoke(1, 2, 3));
        m.close();
        m.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> m.invoke(1, 2, 3));
    }
}
