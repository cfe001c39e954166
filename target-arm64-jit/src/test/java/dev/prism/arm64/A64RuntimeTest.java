package dev.prism.arm64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.arm64.emu.A64Machine;
import dev.prism.asm.Assembler;
import dev.prism.error.TargetException;
import dev.prism.error.TrapException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Environment;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.Artifact;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The arm64 target through the SPI with what needs the run context: helpers trapping into Java,
 * maps (ARRAY inlined, the hash family through generated lookups), tail calls, bpf_loop, callx, csum_diff, legacy
 * packet loads, XDP frames whose bounds helpers move, and the traps of a run. Each program runs
 * on the interpreter and on arm64 in three code shapes (LSE, LL/SC, every branch far); r0, the
 * memory or packet and the maps must agree, and r0 must be the value worked out by hand.
 */
class A64RuntimeTest {
    private static final List<A64Jit.Options> SHAPES = List.of(new A64Jit.Options(true), new A64Jit.Options(false),
            new A64Jit.Options(true, 16));
    private static final Target INTERPRETER = new InterpreterTarget(Environment.deterministic(0, 1));

    @BeforeAll
    static void emulator() {
        A64Target t = new A64Target();
        Host.require("arm64", t.availability().available(), t.availability().reason());
    }

    private static A64Target arm64(A64Jit.Options o) {
        return new A64Target(o, Environment.deterministic(0, 1), A64Machine.DEFAULT_BUDGET);
    }

    /** Loads {@code programs} on the interpreter and every shape, prepares each with {@code setup}, runs {@code input}; {@return r0} */
    private static long same(List<Program> programs, RunInput input, Consumer<Executable> setup) {
        RunResult want;
        List<byte[]> wantMaps;
        try (Executable e = INTERPRETER.load(programs)) {
            setup.accept(e);
            want = e.run(input);
            wantMaps = contents(e, programs.get(0));
        }
        for (A64Jit.Options o : SHAPES) {
            try (Executable e = arm64(o).load(programs)) {
                setup.accept(e);
                RunResult got = e.run(input);
                assertEquals(want.r0(), got.r0(), () -> String.format("%s: r0 0x%x, interpreter 0x%x", o, got.r0(), want.r0()));
                assertArrayEquals(want.memAfter(), got.memAfter(), o + ": memory after");
                assertArrayEquals(want.packetAfter(), got.packetAfter(), o + ": packet after");
                List<byte[]> maps = contents(e, programs.get(0));
                for (int i = 0; i < maps.size(); i++) {
                    assertArrayEquals(wantMaps.get(i), maps.get(i), o + ": map " + programs.get(0).maps().get(i).name());
                }
            }
        }
        return want.r0();
    }

    /** {@return every map's keys and values in one byte string each (not PROG_ARRAY slots)} */
    private static List<byte[]> contents(Executable e, Program p) {
        return p.maps().stream().filter(m -> m.type() != MapType.PROG_ARRAY && m.type() != MapType.RINGBUF).map(m -> {
            StringBuilder sb = new StringBuilder();
            for (byte[] k : e.maps().keys(m.name())) {
                byte[] v = e.maps().lookup(m.name(), k);
                sb.append(HexFormat.of().formatHex(k)).append('=').append(v == null ? "-" : HexFormat.of().formatHex(v)).append(';');
            }
            return sb.toString().getBytes();
        }).toList();
    }

    private static Program raw(String text, MapDef... maps) {
        return Program.builder("t", ProgramType.RAW, Assembler.assemble(text)).maps(List.of(maps)).build();
    }

    private static Program xdp(String name, String text, MapDef... maps) {
        return Program.builder(name, ProgramType.XDP, Assembler.assemble(text)).maps(List.of(maps)).build();
    }

    private static final Consumer<Executable> NONE = e -> {
    };

    @Test
    void csumDiffInline() {
        byte[] mem = new byte[64];
        new Random(5).nextBytes(mem);
        String[] calls = {
            "mov %r2, 0\nmov %r4, 20\nmov %r5, 0",
            "mov %r2, 8\nmov %r4, 0\nmov %r5, 0x1234",
            "mov %r2, 16\nmov %r4, 16\nlddw %r5, 0xffffffffffff",
            "mov %r2, 6\nmov %r4, 4\nmov %r5, 0",
            "mov %r2, 0\nmov %r4, 0\nmov %r5, 0x12345",
        };
        for (String c : calls) {
            same(List.of(raw("mov %r3, %r1\nadd %r3, 32\n" + c + "\ncall 28\nexit")), RunInput.ofMem(mem), NONE);
        }
        assertEquals(-22, same(List.of(raw("mov %r3, %r1\nmov %r2, 6\nmov %r4, 4\nmov %r5, 0\ncall 28\nexit")),
                RunInput.ofMem(mem), NONE));
    }

    @Test
    void helpersTrapIntoJava() {
        // ktime_get_ns and get_prandom_u32 from the deterministic environment, added up.
        same(List.of(raw("call 5\nmov %r6, %r0\ncall 7\nadd %r0, %r6\nexit")), RunInput.ofMem(new byte[0]), NONE);
        // r6-r9 and the stack survive a helper call.
        assertEquals(1 + 2 + 3 + 4 + 5, same(List.of(raw("""
                mov %r6, 1
                mov %r7, 2
                mov %r8, 3
                mov %r9, 4
                stdw [%r10-8], 5
                call 8
                ldxdw %r0, [%r10-8]
                add %r0, %r6
                add %r0, %r7
                add %r0, %r8
                add %r0, %r9
                exit
                """)), RunInput.ofMem(new byte[0]), NONE));
    }

    @Test
    void arrayLookupsAreInlinedAndHashLookupsCallGeneratedCode() {
        String text = """
                stw [%r10-4], 2
                lddw %r1, map_idx 0
                mov %r2, %r10
                add %r2, -4
                call 1
                jeq %r0, 0, miss
                ldxdw %r6, [%r0]
                add %r6, 40
                stxdw [%r0], %r6
                mov %r0, %r6
                exit
                miss:
                mov %r0, 99
                exit
                """;
        byte[] key = {2, 0, 0, 0};
        byte[] value = {2, 0, 0, 0, 0, 0, 0, 0};
        for (MapType type : List.of(MapType.ARRAY, MapType.HASH, MapType.PERCPU_ARRAY, MapType.LRU_HASH)) {
            MapDef m = MapDef.of("m", type, 4, 8, 4, 0);
            assertEquals(42, same(List.of(raw(text, m)), RunInput.ofMem(new byte[0]), e -> e.maps().update("m", key, value, 0)), type.id());
        }
        // A missing key: null from the hash, an index past max_entries from the array.
        assertEquals(99, same(List.of(raw(text, MapDef.of("m", MapType.HASH, 4, 8, 4, 0))), RunInput.ofMem(new byte[0]), NONE));
        assertEquals(99, same(List.of(raw(text.replace("stw [%r10-4], 2", "stw [%r10-4], 4"),
                MapDef.of("m", MapType.ARRAY, 4, 8, 4, 0))), RunInput.ofMem(new byte[0]), NONE));
        // map_value_idx: element 0 plus an offset, directly.
        assertEquals(7, same(List.of(raw("lddw %r1, map_value_idx 0, 8\nstdw [%r1], 7\nldxdw %r0, [%r1]\nexit",
                MapDef.of("m", MapType.ARRAY, 4, 16, 1, 0))), RunInput.ofMem(new byte[0]), NONE));
    }

    @Test
    void tailCallsStopAfter33() {
        // Each entry of the one program bumps a counter in the stack-free way: an array value; the 34th call falls through.
        Program entry = xdp("entry", """
                mov %r6, %r1
                stw [%r10-4], 0
                lddw %r1, map_idx 1
                mov %r2, %r10
                add %r2, -4
                call 1
                jeq %r0, 0, out
                ldxdw %r3, [%r0]
                add %r3, 1
                stxdw [%r0], %r3
                mov %r1, %r6
                lddw %r2, map_idx 0
                mov %r3, 0
                call 12
                out:
                mov %r0, 2
                exit
                """, MapDef.of("jumps", MapType.PROG_ARRAY, 4, 4, 2, 0), MapDef.of("count", MapType.ARRAY, 4, 8, 1, 0));
        byte[] packet = new byte[64];
        same(List.of(entry), RunInput.ofPacket(packet), e -> e.maps().setProgram("jumps", 0, "entry"));
        for (A64Jit.Options o : SHAPES) {
            try (Executable e = arm64(o).load(List.of(entry))) {
                e.maps().setProgram("jumps", 0, "entry");
                assertEquals(2, e.run(RunInput.ofPacket(packet)).r0());
                assertEquals(34, e.maps().lookup("count", new byte[4])[0], "the entry and 33 tail calls");
            }
        }
        // An empty slot, an index out of range: execution goes on (r0 is not readable after bpf_tail_call).
        Program fails = xdp("fails", """
                mov %r7, %r1
                lddw %r2, map_idx 0
                mov %r3, 1
                call 12
                mov %r1, %r7
                lddw %r2, map_idx 0
                mov %r3, 9
                call 12
                mov %r0, 5
                exit
                """, MapDef.of("jumps", MapType.PROG_ARRAY, 4, 4, 2, 0));
        assertEquals(5, same(List.of(fails), RunInput.ofPacket(packet), NONE));
    }

    @Test
    void bpfLoopCallsItsCallbackAndCountsFrames() {
        String text = """
                mov %r1, %nr
                lddw %r2, code cb
                mov %r3, %r10
                add %r3, -8
                stdw [%r10-8], 0
                mov %r4, 0
                call 181
                ldxdw %r6, [%r10-8]
                lsh %r6, 32
                add %r0, %r6
                exit
                cb:
                ldxdw %r3, [%r2]
                add %r3, %r1
                stxdw [%r2], %r3
                mov %r0, 0
                jlt %r1, %stop, keep
                mov %r0, 1
                keep:
                exit
                """;
        // Five calls summing 0..4; a callback that stops after i = 2 (three calls); no calls. (Flags other
        // than 0 and more than 2^23 calls, the -EINVAL and -E2BIG paths, are refused by the verifier.)
        assertEquals((10L << 32) + 5, same(List.of(raw(text.replace("%nr", "5").replace("%stop", "100"))), RunInput.ofMem(new byte[0]), NONE));
        assertEquals((3L << 32) + 3, same(List.of(raw(text.replace("%nr", "5").replace("%stop", "2"))), RunInput.ofMem(new byte[0]), NONE));
        assertEquals(0, same(List.of(raw(text.replace("%nr", "0").replace("%stop", "2"))), RunInput.ofMem(new byte[0]), NONE));
    }

    @Test
    void bpfLoopKeepsTheCallersRegistersAcrossNestedLoops() {
        // the loop's state lives in callee-saved registers: the caller's r6-r9 must survive a
        // callback that writes all four, and a callback that runs a loop of its own
        String callback = "cb:\nmov %r6, %r1\nmov %r7, %r1\nmov %r8, 1\nmov %r9, 2\nldxdw %r3, [%r2+0]\n"
                + "add %r3, %r6\nstxdw [%r2+0], %r3\nmov %r0, 0\njne %r7, 3, +1\nmov %r0, 1\nexit\n";
        String inner = "inner:\nmov %r6, %r1\nmov %r1, 3\nlddw %r2, code cb\nmov %r3, %r10\nadd %r3, -8\n"
                + "mov %r1, 0\nstxdw [%r10-8], %r1\nmov %r1, 5\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\n";
        for (String fn : new String[] {"cb", "inner"}) {
            String text = "mov %r6, 6\nmov %r7, 7\nmov %r8, 8\nmov %r9, 9\nmov %r1, 0\nstxdw [%r10-8], %r1\n"
                    + "mov %r1, 9\nlddw %r2, code " + fn + "\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\n"
                    + "call 181\nldxdw %r1, [%r10-8]\nlsh %r1, 8\nadd %r0, %r1\nmul %r6, 3\nadd %r0, %r6\n"
                    + "mul %r7, 5\nadd %r0, %r7\nmul %r8, 7\nadd %r0, %r8\nmul %r9, 11\nadd %r0, %r9\nexit\n"
                    + callback + (fn.equals("inner") ? inner : "");
            // cb: four calls (i = 0..3, stopping at 3) summing 6 into the caller's word; inner: nine calls
            // that each run cb over their own frame's word, leaving the caller's at 0
            long calls = fn.equals("cb") ? 4 : 9;
            long word = fn.equals("cb") ? 6 : 0;
            assertEquals(calls + (word << 8) + 18 + 35 + 56 + 99, same(List.of(raw(text)), RunInput.ofMem(new byte[0]), NONE));
        }
    }

    @Test
    void callxAndCodeAddresses() {
        assertEquals(7 + 30, same(List.of(raw("""
                lddw %r6, code f
                mov %r1, 7
                callx %r6
                add %r0, 30
                exit
                f:
                mov %r0, %r1
                exit
                """)), RunInput.ofMem(new byte[0]), NONE));
    }

    @Test
    void legacyPacketLoadsOnRawAndXdp() {
        byte[] mem = new byte[32];
        for (int i = 0; i < mem.length; i++) {
            mem[i] = (byte) (i * 17);
        }
        same(List.of(raw("ldabsw 4\nmov %r6, %r0\nldabsh 30\nadd %r0, %r6\nmov %r7, 3\nldindb %r7, 1\nadd %r0, %r7\nexit")),
                RunInput.ofMem(mem), NONE);
        // Past the end, before the start: the program ends with r0 = 0.
        assertEquals(0, same(List.of(raw("mov %r0, 5\nldabsw 29\nmov %r0, 9\nexit")), RunInput.ofMem(mem), NONE));
        assertEquals(0, same(List.of(raw("mov %r0, 5\nmov %r7, -8\nldindb %r7, 4\nmov %r0, 9\nexit")), RunInput.ofMem(mem), NONE));
        same(List.of(xdp("p", "mov %r6, %r1\nldabsh 12\nexit")), RunInput.ofPacket(mem), NONE);
    }

    @Test
    void xdpFramesMoveWithTheirHelpers() {
        // adjust_head(-8), then write the new first byte and read data_end - data through the refreshed context.
        Program p = xdp("p", """
                mov %r6, %r1
                mov %r2, -8
                call 44
                jne %r0, 0, out
                ldxw %r2, [%r6+0]
                ldxw %r3, [%r6+4]
                mov %r4, %r2
                add %r4, 8
                jgt %r4, %r3, out
                stb [%r2], 0x5a
                sub %r3, %r2
                mov %r0, %r3
                exit
                out:
                mov %r0, 1
                exit
                """);
        byte[] packet = new byte[40];
        new Random(3).nextBytes(packet);
        assertEquals(48, same(List.of(p), RunInput.ofPacket(packet), NONE));
    }

    @Test
    void trapsNameTheirPc() {
        // 50,000 callbacks: within the verifier's bound of BPF instructions, past a small native budget.
        Program spin = raw("""
                mov %r1, 50000
                lddw %r2, code cb
                mov %r3, 0
                mov %r4, 0
                call 181
                exit
                cb:
                mov %r0, 0
                exit
                """);
        A64Target small = new A64Target(A64Jit.Options.DEFAULT, Environment.deterministic(0, 1), 100_000);
        try (Executable e = small.load(List.of(spin))) {
            TrapException t = assertThrows(TrapException.class, () -> e.run(RunInput.ofMem(new byte[0])));
            assertTrue(t.pc() == 5 || t.pc() == 7 || t.pc() == 8, t.getMessage());
            assertTrue(t.getMessage().endsWith("instruction budget of 100000 native instructions exhausted"), t.getMessage());
            // the machine is usable after a trap
            assertThrows(TrapException.class, () -> e.run(RunInput.ofMem(new byte[0])));
        }
    }

    @Test
    void aCompiledArtifactHasCodeAndADisassembledListing() {
        Program p = raw("ldxw %r6, [%r1+4]\ncall 5\nmov %r0, %r6\nadd %r0, 1\nexit");
        Artifact a = arm64(A64Jit.Options.DEFAULT).compile(Verifier.verify(p, Profile.RFC9669, 8, null));
        byte[] code = a.bytes();
        assertEquals(0, code.length % 4);
        assertEquals(0xa9bf7bfd, java.nio.ByteBuffer.wrap(code, 0, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(),
                "the entry starts with stp x29, x30, [sp, #-16]!");
        String listing = a.listing();
        assertTrue(listing.contains("     0: ldxw %r6, [%r1+4]\n"), listing);
        if (Host.onPath(A64Listing.TOOL)) {
            assertTrue(listing.contains("ldr w19, [x0, #4]"), listing);
            assertTrue(listing.contains("blr x9"), listing);
            assertTrue(listing.contains("stp x29, x30, [sp, #-16]!"), listing);
        } else {
            assertTrue(listing.startsWith("; " + A64Listing.TOOL), listing);
        }
        assertTrue(listing.contains("bytes of arm64 for 5 BPF instructions"), listing);
        try (Executable e = a.load()) {
            assertEquals(0x01020304L + 1, e.run(RunInput.ofMem(new byte[] {0, 0, 0, 0, 4, 3, 2, 1})).r0() & 0xffff_ffffL);
        }
        TargetException wrong = assertThrows(TargetException.class, () -> {
            try (Executable e = a.load()) {
                e.run(RunInput.ofMem(new byte[4]));
            }
        });
        assertEquals("the program was verified for 8 bytes of memory; this run has 4", wrong.getMessage());
    }
}
