package dev.prism.conformance.linux;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.error.TargetException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Helpers;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.sys.LinuxBpf;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import dev.prism.testing.Host;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Programs with maps on the Linux target, each one a differential test: the same script runs on
 * the reference interpreter and on the kernel, and what each observed (r0, the packet after the
 * run, map contents through {@link MapAccess}) must be equal.
 */
class LinuxObjectTest {
    /** Ethernet + IPv4 header + padding: 64 bytes, the usual minimum frame. */
    private static final byte[] PACKET = HexFormat.of().parseHex(
            "ffffffffffff0011223344550800" + "45000032000000004011" + "00000a0000010a000002" + "00".repeat(30));
    private static final HexFormat HEX = HexFormat.of();
    private static final long XDP_PASS = 2;

    /** What a script observed on one target, in order; equal lists mean the targets agree. */
    private interface Script {
        List<String> run(Executable e);
    }

    private static Program xdp(String name, String text, MapDef... maps) {
        return Program.builder(name, ProgramType.XDP, Assembler.assemble(text)).maps(List.of(maps)).build();
    }

    /** Runs {@code script} on the interpreter and on the kernel and requires the same observations. */
    private static List<String> onBoth(List<Program> programs, Script script) {
        Host.requireLinuxBpf();
        List<String> reference;
        try (Executable e = new InterpreterTarget().load(programs)) {
            reference = script.run(e);
        }
        List<String> kernel;
        try (Executable e = new LinuxTarget().load(programs)) {
            kernel = script.run(e);
        }
        assertEquals(reference, kernel, "interpreter (expected) against linux (actual)");
        return kernel;
    }

    private static String run(Executable e, byte[] packet) {
        RunResult r = e.run(RunInput.ofPacket(packet));
        return "r0=" + r.r0() + " packet=" + HEX.formatHex(r.packetAfter());
    }

    /** {@return every element of {@code map} as "map[key]=value", sorted (hash order differs)} */
    private static List<String> dump(Executable e, String map) {
        MapAccess m = e.maps();
        List<String> out = new ArrayList<>();
        for (byte[] key : m.keys(map)) {
            out.add(map + "[" + HEX.formatHex(key) + "]=" + HEX.formatHex(m.lookup(map, key)));
        }
        out.sort(null);
        return out;
    }

    private static byte[] u32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    @Test
    void anArrayCountsPacketsAcrossRuns() {
        MapDef counts = MapDef.of("counts", MapType.ARRAY, 4, 8, 4, 0);
        Program p = xdp("count", """
                stw [%r10-4], 0
                lddw %r1, map_idx 0
                mov %r2, %r10
                add %r2, -4
                call 1                    # map_lookup_elem(counts, &0)
                jeq %r0, 0, out
                mov %r1, 1
                lock add [%r0+0], %r1
                out:
                mov %r0, 2
                exit
                """, counts);
        List<String> seen = onBoth(List.of(p), e -> {
            List<String> o = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                o.add(run(e, PACKET));
            }
            o.addAll(dump(e, "counts"));
            return o;
        });
        assertEquals("r0=2 packet=" + HEX.formatHex(PACKET), seen.get(0));
        assertEquals(List.of("counts[00000000]=0300000000000000", "counts[01000000]=0000000000000000",
                "counts[02000000]=0000000000000000", "counts[03000000]=0000000000000000"), seen.subList(3, 7));
    }

    @Test
    void aSecondNoExistUpdateOfAHashIsEexist() {
        MapDef seen = MapDef.of("seen", MapType.HASH, 4, 4, 16, 0);
        Program p = xdp("noexist", """
                stw [%r10-4], 2           # key 2
                stw [%r10-8], 7           # value 7
                lddw %r1, map_idx 0
                mov %r2, %r10
                add %r2, -4
                mov %r3, %r10
                add %r3, -8
                mov %r4, 1                # BPF_NOEXIST
                call 2                    # map_update_elem: r0 = 0 or -EEXIST
                exit
                """, seen);
        List<String> o = onBoth(List.of(p), e -> {
            List<String> r = new ArrayList<>();
            r.add("r0=" + e.run(RunInput.ofPacket(PACKET)).r0());
            r.add("r0=" + e.run(RunInput.ofPacket(PACKET)).r0());
            r.addAll(dump(e, "seen"));
            return r;
        });
        assertEquals(List.of("r0=0", "r0=" + Integer.toUnsignedLong(-17), "seen[02000000]=07000000"), o);
        try (Executable e = new LinuxTarget().load(List.of(p))) {
            e.run(RunInput.ofPacket(PACKET));
            assertEquals(0xffff_ffefL, e.run(RunInput.ofPacket(PACKET)).r0(), "the kernel's retval, unmasked");
        }
    }

    @Test
    void globalDataIsReadAndWrittenThroughMapValueIdx() {
        MapDef data = new MapDef(".data", MapType.ARRAY, 4, 8, 1, 0, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, false);
        MapDef rodata = new MapDef(".rodata", MapType.ARRAY, 4, 4, 1, 0, new byte[] {9}, true);
        Program p = xdp("globals", """
                lddw %r1, map_value_idx 0, 4
                ldxw %r0, [%r1+0]         # .data[4..8) = 0x08070605
                lddw %r2, map_value_idx 1, 0
                ldxb %r3, [%r2+0]         # .rodata[0] = 9
                add %r0, %r3
                stb [%r1-4], 0x55         # .data[0] = 0x55
                exit
                """, data, rodata);
        List<String> o = onBoth(List.of(p), e -> {
            List<String> r = new ArrayList<>();
            r.add(run(e, PACKET));
            r.addAll(dump(e, ".data"));
            r.addAll(dump(e, ".rodata"));
            return r;
        });
        assertEquals("r0=" + (0x08070605L + 9), o.get(0).split(" ")[0]);
        assertEquals(List.of(".data[00000000]=5502030405060708", ".rodata[00000000]=09000000"), o.subList(1, 3));
    }

    @Test
    void adjustHeadGrowsThePacketAndTheNewHeadIsWritable() {
        Program p = xdp("push", """
                mov %r6, %r1
                mov %r2, -16
                call 44                   # xdp_adjust_head(ctx, -16)
                jne %r0, 0, fail
                ldxw %r2, [%r6+0]
                ldxw %r3, [%r6+4]
                mov %r4, %r2
                add %r4, 16
                jgt %r4, %r3, fail
                stdw [%r2+0], 0x44332211
                stdw [%r2+8], -1
                mov %r0, 2
                exit
                fail:
                mov %r0, 0
                exit
                """);
        List<String> o = onBoth(List.of(p), e -> List.of(run(e, PACKET)));
        assertEquals("r0=2 packet=" + "1122334400000000" + "ffffffffffffffff" + HEX.formatHex(PACKET), o.get(0));
    }

    @Test
    void aRingBufferHoldsTheSubmittedRecordAndNotTheDiscardedOne() {
        MapDef events = MapDef.of("events", MapType.RINGBUF, 0, 0, 4096, 0);
        Program p = xdp("rb", """
                mov %r6, %r1
                ldxw %r2, [%r6+0]
                ldxw %r3, [%r6+4]
                mov %r4, %r2
                add %r4, 1
                jgt %r4, %r3, out
                ldxb %r7, [%r2+0]         # packet[0]: 1 = submit, else discard
                lddw %r1, map_idx 0
                mov %r2, 16
                mov %r3, 0
                call 131                  # ringbuf_reserve(events, 16, 0)
                jeq %r0, 0, out
                stdw [%r0+0], 0x11223344
                stdw [%r0+8], -2
                mov %r1, %r0
                mov %r2, 0
                jne %r7, 1, discard
                call 132                  # ringbuf_submit
                ja out
                discard:
                call 133                  # ringbuf_discard
                out:
                mov %r0, 2
                exit
                """, events);
        byte[] submit = PACKET.clone();
        submit[0] = 1;
        byte[] discard = PACKET.clone();
        discard[0] = 0;
        List<String> o = onBoth(List.of(p), e -> {
            List<String> r = new ArrayList<>();
            r.add(run(e, submit));
            r.add(run(e, discard));
            for (byte[] record : e.maps().drain("events")) {
                r.add("record " + HEX.formatHex(record));
            }
            r.add("after drain " + e.maps().drain("events").size());
            return r;
        });
        assertEquals(List.of("record 4433221100000000feffffffffffffff", "after drain 0"), o.subList(2, 4));
    }

    @Test
    void aTailCallThroughAProgArrayRunsTheSecondProgram() {
        MapDef jmp = MapDef.of("jmp", MapType.PROG_ARRAY, 4, 4, 4, 0);
        Program entry = xdp("entry", """
                lddw %r2, map_idx 0
                mov %r3, 1
                call 12                   # tail_call(ctx, jmp, 1)
                mov %r0, 1                # slot empty: falls through
                exit
                """, jmp);
        Program target = xdp("target", "mov %r0, 7\nexit", jmp);
        List<String> o = onBoth(List.of(entry, target), e -> {
            List<String> r = new ArrayList<>();
            r.add("r0=" + e.run(RunInput.ofPacket(PACKET)).r0());
            e.maps().setProgram("jmp", 1, "target");
            r.add("r0=" + e.run(RunInput.ofPacket(PACKET)).r0());
            return r;
        });
        assertEquals(List.of("r0=1", "r0=7"), o);
    }

    /**
     * A per-CPU value from user space is one round_up(value_size, 8) block per possible CPU. The
     * interpreter simulates one CPU; the kernel runs the program on whichever CPU the test
     * thread is on, so the block compared with the interpreter's CPU 0 is the one the run
     * changed, and every other block must be as user space wrote it.
     */
    @Test
    void perCpuValuesHaveOneRoundedBlockPerPossibleCpu() {
        Host.requireLinuxBpf();
        MapDef pc = MapDef.of("pc", MapType.PERCPU_ARRAY, 4, 4, 1, 0);
        Program p = xdp("percpu", """
                stw [%r10-4], 0
                lddw %r1, map_idx 0
                mov %r2, %r10
                add %r2, -4
                call 1
                jeq %r0, 0, out
                ldxw %r1, [%r0+0]
                mov %r2, %r1
                add %r2, 1
                stxw [%r0+0], %r2         # this CPU's copy += 1
                mov %r0, %r1              # the value before
                exit
                out:
                mov %r0, 0
                exit
                """, pc);
        byte[] block5 = {5, 0, 0, 0, 0, 0, 0, 0};
        int cpus = LinuxBpf.possibleCpus();

        long interpreterR0;
        byte[] interpreterBlock;
        try (Executable e = new InterpreterTarget().load(List.of(p))) {
            e.maps().update("pc", u32(0), block5, 0);
            interpreterR0 = e.run(RunInput.ofPacket(PACKET)).r0();
            interpreterBlock = e.maps().lookup("pc", u32(0));
        }
        assertEquals(8, interpreterBlock.length, "one CPU, value 4 rounded up to 8");

        try (Executable e = new LinuxTarget().load(List.of(p))) {
            byte[] all = new byte[8 * cpus];
            for (int cpu = 0; cpu < cpus; cpu++) {
                System.arraycopy(block5, 0, all, 8 * cpu, 8);
            }
            e.maps().update("pc", u32(0), all, 0);
            assertEquals(interpreterR0, e.run(RunInput.ofPacket(PACKET)).r0());
            byte[] after = e.maps().lookup("pc", u32(0));
            assertEquals(8 * cpus, after.length, "round8(4) * " + cpus + " possible CPUs");
            List<byte[]> changed = new ArrayList<>();
            for (int cpu = 0; cpu < cpus; cpu++) {
                byte[] block = Arrays.copyOfRange(after, 8 * cpu, 8 * cpu + 8);
                if (!Arrays.equals(block, block5)) {
                    changed.add(block);
                }
            }
            assertEquals(1, changed.size(), "exactly the running CPU's copy changed");
            assertArrayEquals(interpreterBlock, changed.get(0));
        }
        assertEquals(5, interpreterR0);
        assertArrayEquals(new byte[] {6, 0, 0, 0, 0, 0, 0, 0}, interpreterBlock);
    }

    // ---------------------------------------------------------------------------------------
    // The kernel side alone: what the interpreter does not run, and the Executable contract.

    @Test
    void tcAndSocketFilterProgramsRunOnThePacket() {
        Host.requireLinuxBpf();
        // struct __sk_buff: len at offset 0.
        Program tc = Program.builder("tc_len", ProgramType.TC, Assembler.assemble("ldxw %r0, [%r1+0]\nexit")).build();
        Program socket = tc.toBuilder().name("sock_len").type(ProgramType.SOCKET).build();
        try (Executable e = new LinuxTarget().load(List.of(tc))) {
            RunResult r = e.run(RunInput.ofPacket(PACKET));
            assertEquals(PACKET.length, r.r0(), "sched_cls sees the frame from the mac header");
            assertArrayEquals(PACKET, r.packetAfter());
        }
        try (Executable e = new LinuxTarget().compile(socket).load()) {
            RunResult r = e.run(RunInput.ofPacket(PACKET));
            assertEquals(PACKET.length - 14, r.r0(), "a socket filter's skb starts at the network header");
            // bpf_prog_test_run_skb pushes the Ethernet header back for data_out, zeroed (memset
            // of the hh_len bytes for a non-L2 program type).
            byte[] expected = PACKET.clone();
            Arrays.fill(expected, 0, 14, (byte) 0);
            assertArrayEquals(expected, r.packetAfter(), "data_out: a zeroed Ethernet header, then the packet");
        }
    }

    @Test
    void aRejectedProgramCarriesTheVerifierLog() {
        Host.requireLinuxBpf();
        Program p = xdp("bad", "mov %r0, %r2\nexit");
        TargetException e = assertThrows(TargetException.class, () -> new LinuxTarget().load(List.of(p)));
        assertTrue(e.getMessage().contains("kernel rejected bad") && e.getMessage().contains("R2 !read_ok"), e.getMessage());
    }

    @Test
    void userSpaceUpdatesAreSeenByTheProgramAndMapErrorsNameTheMap() {
        Host.requireLinuxBpf();
        MapDef h = MapDef.of("h", MapType.HASH, 4, 8, 2, 0);
        Program p = xdp("read", """
                stw [%r10-4], 3
                lddw %r1, map_idx 0
                mov %r2, %r10
                add %r2, -4
                call 1
                jeq %r0, 0, out
                ldxdw %r0, [%r0+0]
                exit
                out:
                mov %r0, 0
                exit
                """, h);
        try (Executable e = new LinuxTarget().load(List.of(p))) {
            MapAccess m = e.maps();
            assertEquals(List.of(h), m.defs());
            assertEquals(0, e.run(RunInput.ofPacket(PACKET)).r0());
            m.update("h", u32(3), new byte[] {42, 0, 0, 0, 0, 0, 0, 0}, 0);
            assertEquals(42, e.run(RunInput.ofPacket(PACKET)).r0());
            TargetException exists = assertThrows(TargetException.class,
                    () -> m.update("h", u32(3), new byte[8], 1));
            assertTrue(exists.getMessage().contains("map h") && exists.getMessage().contains("EEXIST"), exists.getMessage());
            assertTrue(m.delete("h", u32(3)));
            assertEquals(false, m.delete("h", u32(3)));
            assertEquals(List.of(), m.keys("h"));
            assertTrue(assertThrows(TargetException.class, () -> m.lookup("nope", u32(0))).getMessage().contains("maps: h"));
        }
    }

    @Test
    void closeIsIdempotentAndARunAfterItFails() {
        Host.requireLinuxBpf();
        MapDef events = MapDef.of("events", MapType.RINGBUF, 0, 0, 4096, 0);
        Program p = xdp("closing", "lddw %r1, map_idx 0\nmov %r0, 2\nexit", events);
        Executable e = new LinuxTarget().load(List.of(p));
        assertEquals(List.of(), e.maps().drain("events"), "maps the ring");
        e.close();
        assertDoesNotThrow(e::close);
        assertThrows(TargetException.class, () -> e.run(RunInput.ofPacket(PACKET)));
    }

    @Test
    void rawProgramsStillGoThroughTheRawRunner() {
        Host.requireLinuxBpf();
        Program p = Program.of("raw", ProgramType.RAW, Assembler.assemble("ldxb %r0, [%r1+1]\nexit"));
        try (Executable e = new LinuxTarget().compile(p).load()) {
            RunResult r = e.run(RunInput.ofMem(new byte[] {1, 2, 3}));
            assertEquals(2, r.r0());
            assertArrayEquals(new byte[] {1, 2, 3}, r.memAfter());
        }
        assertThrows(TargetException.class, () -> new LinuxTarget().load(List.of(p, p)));
    }

    @Test
    void capabilitiesListEveryImplementedHelper() {
        Target linux = new LinuxTarget();
        assertTrue(linux.capabilities().helpers().containsAll(
                List.of(Helpers.MAP_LOOKUP_ELEM, Helpers.TAIL_CALL, Helpers.RINGBUF_RESERVE, Helpers.XDP_ADJUST_HEAD)));
        // every helper Prism implements, less Prism's own (ids from PRISM_BASE: csd_read), which
        // no kernel has, and less those this kernel refuses by name: each of these is checked
        // with a load of its own (some builds lack bpf_xdp_adjust_meta)
        assertTrue(!linux.capabilities().helpers().contains(Helpers.CSD_READ));
        for (var h : Helpers.all()) {
            if (h.id() >= Helpers.PRISM_BASE || linux.capabilities().helpers().contains(h.id())) {
                continue;
            }
            Host.requireLinuxBpf();
            byte[] call = dev.prism.isa.InsnCodec.encode(new dev.prism.isa.Insn[] {
                new dev.prism.isa.Insn.Call(dev.prism.isa.CallKind.HELPER, h.id()),
                new dev.prism.isa.Insn.Alu(dev.prism.isa.AluOp.MOV, dev.prism.isa.Width.W64, dev.prism.isa.Reg.R0, new dev.prism.isa.Imm(0)),
                new dev.prism.isa.Insn.Exit()});
            for (var type : List.of(dev.prism.sys.ProgType.XDP, dev.prism.sys.ProgType.SCHED_CLS)) {
                TargetException refused = assertThrows(TargetException.class,
                        () -> dev.prism.sys.LinuxBpf.close(dev.prism.sys.LinuxBpf.progLoad(type, call, "prism_test")),
                        "bpf_" + h.name() + " is not in the capabilities, yet a " + type + " program calling it loads");
                assertTrue(refused.getMessage().contains("cannot use helper") || refused.getMessage().contains("unknown func")
                        || refused.getMessage().contains("invalid func"), "bpf_" + h.name() + ": " + refused.getMessage());
            }
        }
    }
}
