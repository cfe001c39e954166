package dev.prism.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.elf.ElfObject;
import dev.prism.error.TargetException;
import dev.prism.error.TrapException;
import dev.prism.error.VerificationException;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.SkbFields;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * tc (sched_cls) programs on the interpreter: the __sk_buff context after normalization, the
 * skb helpers' refusals, and the checksum arithmetic against checksums computed from scratch.
 * (Their semantics against the kernel are in the conformance suite, suite/maps/tc.)
 */
class InterpreterTcTest {
    /** Ethernet + IPv4 (20 bytes, checksum valid) + 8 bytes of UDP header: 42 bytes. */
    private static final byte[] PACKET = HexFormat.of().parseHex("020000000002020000000001" + "0800"
            + "4500001c1c46400040110a8b0a0000010a000002" + "3039003500080000");

    private static Program tc(String text) {
        return Verifier.verify(Program.builder("t", ProgramType.TC, Assembler.assemble(text)).build(), Profile.RFC9669).normalized();
    }

    private static Interpreter.Result run(Program p, SkbFields in) {
        try (Interpreter.Instance i = new Interpreter().instantiate(List.of(p))) {
            return i.run(null, PACKET, in);
        }
    }

    @Test
    void contextFieldsReadAndWrittenInTheHostLayout() {
        Program p = tc("""
                ldxw %r2, [%r1+8]
                add %r2, 1
                stxw [%r1+8], %r2
                ldxw %r3, [%r1+0]
                stxw [%r1+48], %r3
                ldxw %r3, [%r1+16]
                stxw [%r1+52], %r3
                mov %r3, 0x12345
                stxw [%r1+72], %r3
                stw [%r1+32], 9
                ldxw %r0, [%r1+40]
                exit""");
        Interpreter.Result r = run(p, new SkbFields(41, 0, null, null));
        assertEquals(1, r.r0(), "ifindex of the test run's loopback device");
        SkbFields f = r.skbAfter();
        assertEquals(42, f.mark());
        assertEquals(9, f.priority());
        assertEquals(0x2345, f.tcClassid(), "tc_classid keeps the low 16 bits");
        byte[] cb = f.cb();
        assertEquals(PACKET.length, cb[0] & 0xff, "len");
        assertEquals(0x08, cb[4] & 0xff, "protocol is htons(ETH_P_IP): 0x0008 read little-endian");
        assertEquals(0, cb[5]);
        assertArrayEquals(PACKET, r.packetAfter());
    }

    @Test
    void theInterpreterChecksHostContextAccessesItself() {
        // hand-written host-layout programs (as if the verifier had let them through)
        Program writeLen = Program.builder("t", ProgramType.TC, Assembler.assemble("stw [%r1+16], 1\nmov %r0, 0\nexit")).build()
                .toBuilder().contextLayout(Program.ContextLayout.HOST).build();
        TrapException t = assertThrows(TrapException.class, () -> run(writeLen, null));
        assertTrue(t.getMessage().contains("offset 16 is not writable"), t.getMessage());
        Program readPad = Program.builder("t", ProgramType.TC, Assembler.assemble("ldxw %r0, [%r1+44]\nexit")).build()
                .toBuilder().contextLayout(Program.ContextLayout.HOST).build();
        t = assertThrows(TrapException.class, () -> run(readPad, null));
        assertTrue(t.getMessage().contains("offset 44 is not readable"), t.getMessage());
    }

    @Test
    void unsupportedFieldsAreRefusedByName() {
        Program p = Program.builder("t", ProgramType.TC, Assembler.assemble("ldxw %r0, [%r1+36]\nexit")).build();
        VerificationException e = assertThrows(VerificationException.class, () -> Verifier.verify(p, Profile.RFC9669));
        assertTrue(e.getMessage().contains("not supported: __sk_buff field ingress_ifindex"), e.getMessage());
        Program q = Program.builder("t", ProgramType.TC, Assembler.assemble("ldxw %r0, [%r1+152]\nexit")).build();
        e = assertThrows(VerificationException.class, () -> Verifier.verify(q, Profile.RFC9669));
        assertTrue(e.getMessage().contains("__sk_buff field tstamp"), e.getMessage());
    }

    @Test
    void adjustRoomFlagsPrismDoesNotModelTrapByName() {
        // BPF_F_ADJ_ROOM_ENCAP_L4_UDP (16): Linux knows it, Prism does not model it
        Program p = tc("mov %r2, 28\nmov %r3, 1\nmov %r4, 0x12\ncall 50\nexit");
        TrapException t = assertThrows(TrapException.class, () -> run(p, null));
        assertTrue(t.getMessage().contains("bpf_skb_adjust_room: not supported: flags 0x10"), t.getMessage());
    }

    @Test
    void adjustRoomPastThePacketEndTrapsByName() {
        // 1 byte of IPv6 encapsulation makes the 42-byte IPv4 packet "IPv6": BPF_ADJ_ROOM_NET then
        // inserts after 14 + 40 bytes, past the end of the 43 there are
        Program p = tc("""
                mov %r6, %r1
                mov %r2, 1
                mov %r3, 1
                mov %r4, 4
                call 50
                mov %r1, %r6
                mov %r2, 1
                mov %r3, 0
                mov %r4, 0
                call 50
                exit""");
        TrapException t = assertThrows(TrapException.class, () -> run(p, null));
        assertTrue(t.getMessage().contains("not supported: room inserted 54 bytes in"), t.getMessage());
    }

    @Test
    void userLayoutTcProgramsAreNotRunUnnormalized() {
        Program p = Program.builder("t", ProgramType.TC, Assembler.assemble("ldxw %r0, [%r1+0]\nexit")).build();
        assertThrows(TargetException.class, () -> run(p, null));
        // the target verifies and normalizes what it is given
        try (var e = new InterpreterTarget().load(List.of(p))) {
            assertEquals(PACKET.length, e.run(dev.prism.target.RunInput.ofPacket(PACKET)).r0());
        }
    }

    @Test
    void shortIpPacketsAreRefusedAsLinuxsSkbTestRunRefusesThem() {
        Program p = tc("mov %r0, 0\nexit");
        byte[] cut = java.util.Arrays.copyOf(PACKET, 33);
        try (Interpreter.Instance i = new Interpreter().instantiate(List.of(p))) {
            assertThrows(IllegalArgumentException.class, () -> i.run(null, cut, null));
        }
    }

    @Test
    void tcSectionsMapToTheTcType() {
        for (String s : List.of("tc", "classifier", "tcx/ingress", "tcx/egress", "tc/egress")) {
            assertEquals(Optional.of(ProgramType.TC), ElfObject.typeOf(s), s);
        }
    }

    /**
     * Linux's incremental updates agree with a checksum computed from scratch (RFC 1071) for
     * random 20-byte headers and random replacements of a 16- and a 32-bit word, up to the
     * representation of zero (0x0000 / 0xffff).
     */
    @Test
    void incrementalChecksumsMatchFullRecomputation() {
        Random rnd = new Random(19);
        for (int n = 0; n < 20_000; n++) {
            byte[] h = new byte[20];
            rnd.nextBytes(h);
            h[10] = 0;
            h[11] = 0;
            int sum = full(h);
            h[10] = (byte) (sum >>> 8);
            h[11] = (byte) sum;
            int field = le16(h, 10);
            int word = 2 * rnd.nextInt(10);
            if (word == 10) {
                word = 12;
            }
            byte[] g = h.clone();
            int from2 = le16(g, word);
            int to2 = rnd.nextInt(0x10000);
            g[word] = (byte) to2;
            g[word + 1] = (byte) (to2 >>> 8);
            int inc2 = Checksum.replace2(field, from2, to2);
            int inc4via2 = Checksum.replace4(field, from2, to2);
            assertEquals(sameSum(inc2), sameSum(expected(g)), "replace2 at " + word);
            assertEquals(sameSum(inc4via2), sameSum(expected(g)), "replace4 of a 16-bit word at " + word);
            byte[] k = h.clone();
            int at = 12 + 4 * rnd.nextInt(2);
            int from4 = le32(k, at);
            int to4 = rnd.nextInt();
            for (int b = 0; b < 4; b++) {
                k[at + b] = (byte) (to4 >>> (8 * b));
            }
            assertEquals(sameSum(Checksum.replace4(field, from4, to4)), sameSum(expected(k)), "replace4 at " + at);
            int diff = (int) StandardHelpers.csumDiff(new ArrayContext(h, k, at), 0, 4, 4, 4, 0);
            assertEquals(sameSum(Checksum.replaceByDiff(field, diff)), sameSum(expected(k)), "replace by diff at " + at);
        }
    }

    /** {@return the checksum field (as read little-endian) a header with {@code h}'s other bytes needs} */
    private static int expected(byte[] h) {
        byte[] z = h.clone();
        z[10] = 0;
        z[11] = 0;
        int s = full(z);
        return (s >>> 8) | (s & 0xff) << 8;
    }

    /** RFC 1071: the complement of the one's complement sum of the big-endian words. */
    private static int full(byte[] b) {
        long s = 0;
        for (int i = 0; i < b.length; i += 2) {
            s += (b[i] & 0xff) << 8 | (b[i + 1] & 0xff);
        }
        while ((s >>> 16) != 0) {
            s = (s & 0xffff) + (s >>> 16);
        }
        return (int) (~s & 0xffff);
    }

    /** 0x0000 and 0xffff are the same one's complement number. */
    private static int sameSum(int v) {
        return v == 0xffff ? 0 : v;
    }

    private static int le16(byte[] b, int i) {
        return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8;
    }

    private static int le32(byte[] b, int i) {
        return le16(b, i) | le16(b, i + 2) << 16;
    }

    /** Program memory for csum_diff: "from" at address 0 (the old word), "to" at 4 (the new one). */
    private record ArrayContext(byte[] before, byte[] after, int at) implements HelperContext {
        @Override
        public byte[] read(long address, int size) {
            return java.util.Arrays.copyOfRange(address == 0 ? before : after, at, at + size);
        }

        @Override
        public void write(long address, byte[] bytes) {
            throw new UnsupportedOperationException();
        }

        @Override
        public java.lang.foreign.MemorySegment memory(long address, int size, boolean write) {
            throw new UnsupportedOperationException();
        }

        @Override
        public dev.prism.runtime.maps.BpfMap map(long handle) {
            throw new UnsupportedOperationException();
        }

        @Override
        public dev.prism.runtime.maps.BpfMap mapOwning(long programAddress) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long programAddress(long nativeAddress) {
            return nativeAddress;
        }

        @Override
        public long nativeAddress(long programAddress) {
            return programAddress;
        }

        @Override
        public XdpBuffer xdp() {
            return null;
        }

        @Override
        public Environment env() {
            return Environment.host();
        }
    }
}
