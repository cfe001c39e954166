package dev.prism.conformance.linux;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.error.TargetException;
import dev.prism.isa.AluOp;
import dev.prism.isa.CallKind;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.JumpOp;
import dev.prism.isa.Reg;
import dev.prism.isa.Size;
import dev.prism.isa.Width;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.sys.BpfMap;
import dev.prism.program.MapType;
import dev.prism.testing.Host;
import org.junit.jupiter.api.Test;

class LinuxRawRunnerTest {
    private final LinuxRawRunner runner = new LinuxRawRunner();

    private static Program raw(Insn... insns) {
        return Program.of("linux_raw_test", ProgramType.RAW, insns);
    }

    private static Insn mov(Reg dst, int imm) {
        return new Insn.Alu(AluOp.MOV, Width.W64, dst, new Imm(imm));
    }

    @Test
    void r0ComesBackWithAll64Bits() {
        Host.requireLinuxBpf();
        Program p = raw(mov(Reg.R0, 1), new Insn.Alu(AluOp.LSH, Width.W64, Reg.R0, new Imm(40)), new Insn.Exit());
        assertEquals(1L << 40, runner.run(p, new byte[0]).r0());
    }

    @Test
    void negativeR0IsNotTruncated() {
        Host.requireLinuxBpf();
        // mov64 sign-extends its immediate: r0 = 0xffff_ffff_ffff_fffe.
        assertEquals(-2L, runner.run(raw(mov(Reg.R0, -2), new Insn.Exit()), null).r0());
    }

    @Test
    void readsMemoryThroughR1() {
        Host.requireLinuxBpf();
        Program p = raw(new Insn.Load(Size.W, false, Reg.R0, Reg.R1, (short) 0), new Insn.Exit());
        LinuxRawRunner.Result r = runner.run(p, new byte[] {0x11, 0x22, 0x33, 0x44, 0x55});
        assertEquals(0x44332211L, r.r0());
        assertArrayEquals(new byte[] {0x11, 0x22, 0x33, 0x44, 0x55}, r.memAfter());
    }

    @Test
    void r2IsTheLengthAndR1IsZeroWithoutMemory() {
        Host.requireLinuxBpf();
        Program len = raw(new Insn.Alu(AluOp.MOV, Width.W64, Reg.R0, Reg.R2), new Insn.Exit());
        assertEquals(5L, runner.run(len, new byte[5]).r0());
        Program ptr = raw(new Insn.Alu(AluOp.MOV, Width.W64, Reg.R0, Reg.R1), new Insn.Exit());
        assertEquals(0L, runner.run(ptr, new byte[0]).r0());
    }

    @Test
    void storesShowInMemoryAfterTheRun() {
        Host.requireLinuxBpf();
        Program p = raw(
                mov(Reg.R3, 0x7f),
                new Insn.Store(Size.B, Reg.R1, (short) 1, Reg.R3),
                new Insn.Store(Size.H, Reg.R1, (short) 2, new Imm(0x1234)),
                mov(Reg.R0, 0),
                new Insn.Exit());
        LinuxRawRunner.Result r = runner.run(p, new byte[] {1, 2, 3, 4, 5});
        assertEquals(0L, r.r0());
        assertArrayEquals(new byte[] {1, 0x7f, 0x34, 0x12, 5}, r.memAfter());
    }

    @Test
    void theWholeStackIsTheTestProgramsOwn() {
        Host.requireLinuxBpf();
        // Linux limits the stack of a whole call chain to 512 bytes; a wrapper with any stack
        // of its own would make this program's frame too large.
        Program p = raw(
                new Insn.Store(Size.DW, Reg.R10, (short) -512, new Imm(0x55)),
                new Insn.Load(Size.DW, false, Reg.R0, Reg.R10, (short) -512),
                new Insn.Exit());
        assertEquals(0x55L, runner.run(p, new byte[0]).r0());
    }

    @Test
    void rejectionCarriesTheVerifierLog() {
        Host.requireLinuxBpf();
        Program p = raw(new Insn.Alu(AluOp.MOV, Width.W64, Reg.R0, Reg.R3), new Insn.Exit());
        TargetException e = assertThrows(TargetException.class, () -> runner.run(p, new byte[4]));
        assertTrue(e.getMessage().contains("R3 !read_ok"), e.getMessage());
        assertTrue(e.getMessage().contains("subtract 9"), e.getMessage());
    }

    @Test
    void accessPastTheMemoryIsRejected() {
        Host.requireLinuxBpf();
        Program p = raw(new Insn.Load(Size.B, false, Reg.R0, Reg.R1, (short) 4), new Insn.Exit());
        TargetException e = assertThrows(TargetException.class, () -> runner.run(p, new byte[4]));
        assertTrue(e.getMessage().contains("invalid access to map value"), e.getMessage());
    }

    @Test
    void wrapperLengthMatchesTheWrapper() {
        BpfMap fake = new BpfMap(3, MapType.ARRAY, 4, 8, 1);
        assertEquals(LinuxRawRunner.wrapperLength(true), LinuxRawRunner.wrapper(fake, 8, fake).length);
        assertEquals(LinuxRawRunner.wrapperLength(false), LinuxRawRunner.wrapper(null, 0, fake).length);
    }

    // Packet mode: legacy packet loads run in a SCHED_CLS program (see the class comment).

    /** 16 bytes of packet, as in the suite's 5.5-packet cases. */
    private static final byte[] PACKET = {
        0x12, 0x34, 0x56, 0x78, (byte) 0x9a, (byte) 0xbc, (byte) 0xde, (byte) 0xf0,
        (byte) 0xff, (byte) 0xee, (byte) 0xdd, (byte) 0xcc, 0x01, 0x02, 0x03, 0x04};

    private static Insn ctxToR6() {
        return new Insn.Alu(AluOp.MOV, Width.W64, Reg.R6, Reg.R1);
    }

    @Test
    void ldabsAtOffsetZeroReadsTheFirstBytesBigEndian() {
        Host.requireLinuxBpf();
        // The skb's data starts at mem[0] (the mac header), not 14 bytes in.
        Program p = raw(ctxToR6(), new Insn.PacketLoad(Size.W, null, 0), new Insn.Exit());
        LinuxRawRunner.Result r = runner.run(p, PACKET);
        assertEquals(0x12345678L, r.r0());
        assertArrayEquals(PACKET, r.memAfter());
    }

    @Test
    void ldindAddsTheRegister() {
        Host.requireLinuxBpf();
        // r7 + 4 = 8: the half word ff ee.
        Program p = raw(ctxToR6(), mov(Reg.R7, 4), new Insn.PacketLoad(Size.H, Reg.R7, 4), new Insn.Exit());
        assertEquals(0xffeeL, runner.run(p, PACKET).r0());
    }

    @Test
    void r2IsTheLengthInPacketMode() {
        Host.requireLinuxBpf();
        Program p = raw(
                ctxToR6(),
                new Insn.Alu(AluOp.MOV, Width.W64, Reg.R7, Reg.R2),
                new Insn.PacketLoad(Size.B, null, 0),
                new Insn.Alu(AluOp.MOV, Width.W64, Reg.R0, Reg.R7),
                new Insn.Exit());
        assertEquals(PACKET.length, runner.run(p, PACKET).r0());
    }

    @Test
    void everyExitReachesTheEpilogue() {
        Host.requireLinuxBpf();
        // Two exits: the first taken when the byte is 0x12, else the second.
        Program p = raw(
                ctxToR6(),
                new Insn.PacketLoad(Size.B, null, 0),
                new Insn.Jump(JumpOp.JNE, Width.W64, Reg.R0, new Imm(0x12), (short) 2),
                mov(Reg.R0, 1),
                new Insn.Exit(),
                mov(Reg.R0, 2),
                new Insn.Exit());
        assertEquals(1L, runner.run(p, PACKET).r0());
        byte[] other = PACKET.clone();
        other[0] = 0x13;
        assertEquals(2L, runner.run(p, other).r0());
    }

    @Test
    void outOfBoundsPacketLoadGivesZero() {
        Host.requireLinuxBpf();
        // The word at 14 crosses the end of the 16-byte packet; the movs around it would give 7 or 99.
        Program p = raw(ctxToR6(), mov(Reg.R0, 7), new Insn.PacketLoad(Size.W, null, 14), mov(Reg.R0, 99), new Insn.Exit());
        assertEquals(0L, runner.run(p, PACKET).r0());
    }

    @Test
    void packetShorterThanAnEthernetHeaderIsNotSupported() {
        Host.requireLinuxBpf();
        Program p = raw(ctxToR6(), new Insn.PacketLoad(Size.B, null, 0), new Insn.Exit());
        TargetException e = assertThrows(TargetException.class, () -> runner.run(p, new byte[13]));
        assertEquals("not supported: the kernel's skb test run needs at least 14 bytes of packet, the case has 13", e.getMessage());
    }

    @Test
    void packetModeNeedsAPacketLoadAndNoLocalCall() {
        Insn load = new Insn.PacketLoad(Size.B, null, 0);
        assertTrue(LinuxRawRunner.packetMode(raw(ctxToR6(), load, new Insn.Exit())));
        assertFalse(LinuxRawRunner.packetMode(raw(mov(Reg.R0, 0), new Insn.Exit())));
        assertFalse(LinuxRawRunner.packetMode(raw(
                ctxToR6(), load, new Insn.Call(CallKind.LOCAL, 1), new Insn.Exit(), mov(Reg.R0, 0), new Insn.Exit())));
        assertFalse(LinuxRawRunner.packetMode(raw(ctxToR6(), load, new Insn.CallX(Reg.R1), new Insn.Exit())));
    }

    @Test
    void packetProgramTurnsExitsIntoJumpsToTheEpilogue() {
        BpfMap fake = new BpfMap(3, MapType.ARRAY, 4, 8, 1);
        Insn[] body = {ctxToR6(), new Insn.Exit(), Insn.LoadImm64.of(Reg.R3, 0x1_0000_0000L), null, new Insn.Exit()};
        Insn[] all = LinuxRawRunner.packetProgram(body, 16, fake);
        int prologue = LinuxRawRunner.PACKET_PROLOGUE_LENGTH;
        assertEquals(mov(Reg.R2, 16), all[0]);
        assertEquals(prologue + body.length + 5, all.length);
        // Slot 1 of the body jumps over 3 slots to the epilogue, slot 4 over none.
        assertEquals(new Insn.Ja(3, false), all[prologue + 1]);
        assertEquals(new Insn.Ja(0, false), all[prologue + 4]);
        assertEquals(new Insn.Store(Size.DW, Reg.R1, (short) 0, Reg.R0), all[prologue + body.length + 2]);
        assertEquals(new Insn.Exit(), all[all.length - 1]);
    }

    @Test
    void onlyRawProgramsAreTaken() {
        Program xdp = Program.of("x", ProgramType.XDP, new Insn[] {mov(Reg.R0, 0), new Insn.Exit()});
        TargetException e = assertThrows(TargetException.class, () -> runner.run(xdp, null));
        assertTrue(e.getMessage().startsWith("not supported"), e.getMessage());
    }
}
