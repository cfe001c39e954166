package dev.prism.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.prism.asm.Assembler;
import dev.prism.isa.InsnCodec;
import dev.prism.sys.LinuxBpf;
import dev.prism.sys.ProgType;
import dev.prism.sys.TestRun;
import dev.prism.testing.Host;
import java.lang.foreign.Arena;
import java.util.function.ToIntBiFunction;
import org.junit.jupiter.api.Test;

/**
 * The XDP frame against the kernel: for every delta in a range around each limit, Prism's
 * adjust_head/meta/tail return what Linux's test run returns, and leave the same bytes.
 */
class XdpBufferTest {
    private static final int LEN = 64;

    /** Runs helper {@code id} with r2 = delta in the kernel; returns r0 and the data_out length. */
    private static int[] kernel(int helper, int delta) {
        byte[] code = InsnCodec.encode(Assembler.assemble("lddw %r2, " + delta + "\ncall " + helper + "\nexit"));
        int fd = LinuxBpf.progLoad(ProgType.XDP, code, "prism_xdp_probe");
        try {
            TestRun r = LinuxBpf.testRun(fd, packet(), 4096, 1);
            return new int[] {r.retval(), r.dataOut().length};
        } finally {
            LinuxBpf.close(fd);
        }
    }

    private static byte[] packet() {
        byte[] p = new byte[LEN];
        for (int i = 0; i < LEN; i++) {
            p[i] = (byte) (i * 7 + 1);
        }
        return p;
    }

    private static void agree(String name, int helper, int from, int to, ToIntBiFunction<XdpBuffer, Integer> op) {
        for (int delta = from; delta <= to; delta++) {
            try (Arena arena = Arena.ofConfined()) {
                XdpBuffer b = new XdpBuffer(arena, packet());
                int ours = op.applyAsInt(b, delta);
                int[] linux = kernel(helper, delta);
                assertEquals(linux[0], ours, name + "(" + delta + ") return value");
                assertEquals(linux[1], b.output().length, name + "(" + delta + ") data_out length");
            }
        }
    }

    @Test
    void adjustHeadAgreesWithLinux() {
        Host.requireLinuxBpf();
        agree("adjust_head", 44, -260, -200, XdpBuffer::adjustHead);
        agree("adjust_head", 44, 40, 60, XdpBuffer::adjustHead);
    }

    @Test
    void adjustMetaAgreesWithLinux() {
        Host.requireLinuxBpf();
        try {
            kernel(54, 0);
        } catch (dev.prism.error.TargetException e) {
            if (e.getMessage().contains("cannot use helper")) {
                Host.kernelLacks("bpf_xdp_adjust_meta", e.getMessage().lines().filter(l -> l.contains("cannot use")).findFirst().orElse(""));
            }
            throw e;
        }
        agree("adjust_meta", 54, -224, -200, XdpBuffer::adjustMeta);
        agree("adjust_meta", 54, -40, 8, XdpBuffer::adjustMeta);
    }

    @Test
    void adjustTailAgreesWithLinux() {
        Host.requireLinuxBpf();
        int room = XdpBuffer.FRAME_SIZE - XdpBuffer.TAILROOM - XdpBuffer.HEADROOM - LEN;
        agree("adjust_tail", 65, room - 3, room + 3, XdpBuffer::adjustTail);
        agree("adjust_tail", 65, -55, 10, XdpBuffer::adjustTail);
    }

    @Test
    void headMovesMetadataAlongAndTailGrowsWithZeros() {
        try (Arena arena = Arena.ofConfined()) {
            XdpBuffer b = new XdpBuffer(arena, packet());
            assertEquals(0, b.adjustMeta(-8));
            b.frame().asSlice(b.dataMeta(), 8).fill((byte) 0x5a);
            assertEquals(0, b.adjustHead(-16));
            assertArrayEquals(new byte[] {0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a}, b.metadata());
            assertEquals(LEN + 16, b.packet().length);
            assertEquals(0, b.adjustTail(4));
            byte[] p = b.packet();
            assertEquals(0, p[p.length - 1]);
        }
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> new XdpBuffer(arena, new byte[13]));
            assertThrows(IllegalArgumentException.class, () -> new XdpBuffer(arena, new byte[XdpBuffer.MAX_PACKET + 1]));
        }
    }
}
