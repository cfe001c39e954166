package dev.prism.sys;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.error.TargetException;
import org.junit.jupiter.api.Test;

/** sched_getaffinity / sched_setaffinity through {@link Libc}, on this machine's kernel. */
class LibcAffinityTest {
    @Test
    void pinningSetsOneBitAndTheSavedMaskComesBack() {
        Libc libc = Libc.get();
        byte[] saved = libc.affinity();
        try {
            libc.pinToCpu(0);
            byte[] pinned = libc.affinity();
            assertEquals(1, pinned[0], "only CPU 0");
            for (int i = 1; i < pinned.length; i++) {
                assertEquals(0, pinned[i], "byte " + i);
            }
        } finally {
            libc.setAffinity(saved);
        }
        assertArrayEquals(saved, libc.affinity());
    }

    @Test
    void aCpuTheMachineLacksIsRefusedNamingIt() {
        Libc libc = Libc.get();
        byte[] saved = libc.affinity();
        try {
            // sched_setaffinity: EINVAL when the mask holds no CPU the thread may use
            TargetException e = assertThrows(TargetException.class, () -> libc.pinToCpu(1023));
            assertTrue(e.getMessage().startsWith("sched_setaffinity(cpu 1023) failed: "), e.getMessage());
            assertThrows(TargetException.class, () -> libc.setAffinity(new byte[128]), "an empty mask");
        } finally {
            libc.setAffinity(saved);
        }
    }
}
