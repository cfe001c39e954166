package dev.prism.sys;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.program.MapType;
import dev.prism.error.TargetException;
import dev.prism.isa.AluOp;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.InsnCodec;
import dev.prism.isa.Reg;
import dev.prism.isa.Width;
import dev.prism.testing.Host;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LinuxBpfTest {

    @BeforeEach
    void needsBpf() {
        Host.requireLinuxBpf();
    }

    private static byte[] code(Insn... insns) {
        return InsnCodec.encode(insns);
    }

    @Test
    void xdpProgramReturnsItsR0() {
        int fd = LinuxBpf.progLoad(ProgType.XDP,
                code(new Insn.Alu(AluOp.MOV, Width.W64, Reg.R0, new Imm(7)), new Insn.Exit()), "prism_test");
        try {
            byte[] packet = new byte[64];
            packet[20] = 0x5a;
            TestRun run = LinuxBpf.testRun(fd, packet, 128, 1);
            assertEquals(7, run.retval());
            // The program leaves the packet alone: what comes back is what went in.
            assertArrayEquals(packet, run.dataOut());
        } finally {
            LinuxBpf.close(fd);
        }
    }

    @Test
    void mapRoundTrip() {
        BpfMap map = LinuxBpf.mapCreate(MapType.HASH, 4, 8, 4, 0, "prism test map");
        try {
            byte[] key = {1, 2, 3, 4};
            byte[] value = {9, 8, 7, 6, 5, 4, 3, 2};
            assertNull(LinuxBpf.mapLookup(map, key));
            LinuxBpf.mapUpdate(map, key, value, LinuxBpf.BPF_ANY);
            assertArrayEquals(value, LinuxBpf.mapLookup(map, key));
            assertNull(LinuxBpf.mapLookup(map, new byte[] {4, 3, 2, 1}));
        } finally {
            LinuxBpf.close(map.fd());
        }
    }

    @Test
    void arrayMapElementsExistFromTheStartAndAreZero() {
        BpfMap map = LinuxBpf.mapCreate(MapType.ARRAY, 4, 3, 2, 0, null);
        try {
            assertArrayEquals(new byte[3], LinuxBpf.mapLookup(map, new byte[] {1, 0, 0, 0}));
            // Past max_entries an array has no element: ENOENT, so null.
            assertNull(LinuxBpf.mapLookup(map, new byte[] {2, 0, 0, 0}));
        } finally {
            LinuxBpf.close(map.fd());
        }
    }

    @Test
    void rejectedProgramCarriesTheVerifierLog() {
        // r0 = r3, with r3 never written: the verifier's "R3 !read_ok".
        byte[] bad = code(new Insn.Alu(AluOp.MOV, Width.W64, Reg.R0, Reg.R3), new Insn.Exit());
        TargetException e = assertThrows(TargetException.class, () -> LinuxBpf.progLoad(ProgType.XDP, bad, "prism_bad"));
        assertTrue(e.getMessage().contains("EACCES"), e.getMessage());
        assertTrue(e.getMessage().contains("R3 !read_ok"), e.getMessage());
    }

    @Test
    void kernelRefusalNamesTheErrno() {
        // map_fd is a __u32: -1 is no descriptor at all.
        TargetException e = assertThrows(TargetException.class,
                () -> LinuxBpf.mapLookup(new BpfMap(-1, MapType.ARRAY, 4, 4, 1), new byte[4]));
        assertTrue(e.getMessage().contains("EBADF"), e.getMessage());
    }

    @Test
    void availableHere() {
        assertTrue(LinuxBpf.availability().available());
        assertEquals("bpf() works", LinuxBpf.availability().reason());
    }
}
