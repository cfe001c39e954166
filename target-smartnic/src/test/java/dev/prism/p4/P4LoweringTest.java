package dev.prism.p4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.error.TargetException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Environment;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.Executable;
import dev.prism.target.Reason;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Verdict;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The P4 lowering: golden P4 files for small programs (reviewed by hand; regenerate with
 * {@code -Dprism.golden.update=true} and review the diff), each accepted by p4test and
 * p4c-bm2-ss and run on BMv2 against the interpreter; the refusals {@link P4Target#check}
 * gives, with pcs and rule ids; the listing's pc map; compile refusing exactly what check says.
 */
class P4LoweringTest {
    private static final List<MapDef> COUNTS = List.of(MapDef.of("counts", MapType.ARRAY, 4, 8, 4, 0));

    private static String resource(String name) {
        try (InputStream in = P4LoweringTest.class.getResourceAsStream("/p4/golden/" + name)) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** The golden programs: name, type, maps, raw memory size. */
    private record Golden(String name, ProgramType type, List<MapDef> maps, int memSize) {
        Program program() {
            return Program.builder(name, type, Assembler.assemble(resource(name + ".s"))).maps(maps).build();
        }

        VerifiedProgram verified() {
            return Verifier.verify(program(), Profile.RFC9669, type == ProgramType.RAW ? memSize : -1, null);
        }
    }

    private static final List<Golden> GOLDEN = List.of(
            new Golden("mac_swap_tx", ProgramType.XDP, List.of(), -1),
            new Golden("array_counter", ProgramType.XDP, COUNTS, -1),
            new Golden("alu_raw", ProgramType.RAW, List.of(), 16),
            new Golden("loop_sum", ProgramType.XDP, List.of(), -1));

    @TestFactory
    Stream<DynamicTest> goldenSource() {
        return GOLDEN.stream().map(g -> DynamicTest.dynamicTest(g.name() + ".p4", () -> {
            P4Lowering.Result r = P4Lowering.lower(g.verified());
            assertTrue(r.refusals().isEmpty(), r.refusals().toString());
            String want = resource(g.name() + ".p4");
            if (Boolean.getBoolean("prism.golden.update")) {
                Files.writeString(Path.of("src/test/resources/p4/golden/" + g.name() + ".p4"), r.source());
                return;
            }
            assertNotNull(want, "golden file " + g.name() + ".p4 missing (run with -Dprism.golden.update=true)");
            assertEquals(want, r.source(), "the P4 for " + g.name() + " changed; review and regenerate the golden file");
        }));
    }

    /** Each golden program through p4test and p4c-bm2-ss, then on BMv2 against the interpreter. */
    @TestFactory
    Stream<DynamicTest> goldenOnBmv2() {
        return GOLDEN.stream().map(g -> DynamicTest.dynamicTest(g.name() + " [p4test, p4c-bm2-ss, bmv2 vs interpreter]", () -> {
            P4Target t = new P4Target(true);
            Host.require("p4", t.availability().available(), t.availability().reason());
            P4Artifact a = (P4Artifact) t.compile(g.verified());
            assertTrue(a.bmv2Json().length > 0);
            Random rnd = new Random(g.name().hashCode());
            List<RunInput> inputs = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                byte[] b = new byte[g.type() == ProgramType.RAW ? g.memSize() : 14 + rnd.nextInt(60)];
                rnd.nextBytes(b);
                if (g.type() == ProgramType.RAW && i % 4 == 0) {
                    b[8] = 0; // divisor 0 in the low bytes: the guarded paths
                    for (int k = 9; k < 16; k++) {
                        b[k] = i % 8 == 0 ? 0 : (byte) 0xff;
                    }
                }
                inputs.add(g.type() == ProgramType.RAW ? RunInput.ofMem(b) : RunInput.ofPacket(b));
            }
            try (Executable got = a.load();
                 Executable want = new InterpreterTarget(Environment.deterministic(0, 1)).load(List.of(g.program()))) {
                List<RunResult> results = got.run(inputs);
                for (int i = 0; i < inputs.size(); i++) {
                    RunResult w = want.run(inputs.get(i));
                    assertEquals(w.r0(), results.get(i).r0(), g.name() + " input " + i);
                    if (g.type() == ProgramType.RAW) {
                        assertEquals(java.util.HexFormat.of().formatHex(w.memAfter()),
                                java.util.HexFormat.of().formatHex(results.get(i).memAfter()), g.name() + " memory after, input " + i);
                    } else if (results.get(i).packetAfter() != null) {
                        assertEquals(java.util.HexFormat.of().formatHex(w.packetAfter()),
                                java.util.HexFormat.of().formatHex(results.get(i).packetAfter()), g.name() + " packet after, input " + i);
                    }
                }
                for (MapDef m : g.maps()) {
                    for (byte[] k : want.maps().keys(m.name())) {
                        assertEquals(java.util.HexFormat.of().formatHex(want.maps().lookup(m.name(), k)),
                                java.util.HexFormat.of().formatHex(got.maps().lookup(m.name(), k)), m.name());
                    }
                }
            }
        }));
    }

    private static Verdict check(String text, List<MapDef> maps) {
        Program p = Program.builder("t", ProgramType.XDP, Assembler.assemble(text)).maps(maps).build();
        return new P4Target().check(Verifier.verify(p, Profile.RFC9669));
    }

    @Test
    void hashWritesAreRefusedWithTheReason() {
        String text = """
                stw [%r10-4], 0
                mov %r2, %r10
                add %r2, -4
                lddw %r1, map_idx 0
                call 1
                jeq %r0, 0, out
                stdw [%r0+0], 7
                out:
                mov %r0, 2
                exit
                """;
        Verdict v = check(text, List.of(MapDef.of("h", MapType.HASH, 4, 8, 4, 0)));
        assertFalse(v.ok());
        Reason r = v.reasons().stream().filter(x -> x.rule().equals("map-write")).findFirst().orElseThrow(() -> new AssertionError(v));
        assertEquals(7, r.pc()); // stdw [%r0+0]: lddw takes two slots
        assertTrue(r.sentence().contains("read-only") || r.sentence().contains("never writes hash maps"), r.sentence());
    }

    @Test
    void unsupportedHelpersAndCallsAreRefusedAtTheirPcs() {
        String text = """
                call 8
                call local f
                mov %r0, 2
                exit
                f:
                mov %r0, 0
                exit
                """;
        Verdict v = check(text, List.of());
        assertTrue(v.reasons().stream().anyMatch(r -> r.pc() == 0 && r.rule().equals("helper")), v.toString());
        assertTrue(v.reasons().stream().anyMatch(r -> r.pc() == 1 && r.rule().equals("bpf-call") && r.liftable()), v.toString());
    }

    @Test
    void compileRefusesWhatCheckReports() {
        String text = "call 8\nmov %r0, 2\nexit\n";
        Program p = Program.builder("t", ProgramType.XDP, Assembler.assemble(text)).build();
        VerifiedProgram vp = Verifier.verify(p, Profile.RFC9669);
        Verdict v = new P4Target().check(vp);
        TargetException e = assertThrows(TargetException.class, () -> new P4Target().compile(vp));
        assertEquals(v.message(), e.getMessage());
        assertEquals(v, e.verdict());
    }

    @Test
    void loopsPastTheUnrollLimitAreRefusedAtTheHead() {
        String text = """
                mov %r0, 0
                mov %r6, 0
                again:
                add %r0, %r6
                add %r6, 1
                jlt %r6, 100000, again
                exit
                """;
        Verdict v = check(text, List.of());
        assertTrue(v.reasons().stream().anyMatch(r -> r.rule().equals("loop-trips") || r.rule().equals("p4-unroll-limit")),
                v.toString());
    }

    @Test
    void loopsAreUnrolledByTheirTripBound() {
        Golden g = GOLDEN.get(3);
        P4Lowering.Result r = P4Lowering.lower(g.verified());
        // the loop body (pcs 7..12) appears once per iteration: 8 proven trips
        long bodies = r.source().lines().filter(l -> l.contains("// block 7..12")).count();
        assertTrue(bodies >= 8 && bodies <= 9, "loop body copies: " + bodies);
    }

    @Test
    void theListingMapsLinesToPcsAndInstructions() {
        Golden g = GOLDEN.get(0);
        P4Lowering.Result r = P4Lowering.lower(g.verified());
        P4Artifact a = new P4Artifact(g.verified(), r, null, 0, "no toolchain in this test");
        String listing = a.listing();
        // the store's annotation comes right before the P4 lines it became
        int at = listing.indexOf("; pc 9: stxw [%r2+0], %r7");
        assertTrue(at >= 0, listing);
        String after = listing.substring(at, listing.indexOf("; pc 10:", at));
        assertTrue(after.contains("h.p[0].v = tv[7:0];") && after.contains("h.p[3].v = tv[31:24];"), after);
        // every line of the source is in the listing, numbered
        long numbered = listing.lines().filter(l -> !l.trim().startsWith(";")).count();
        assertEquals(r.source().split("\n", -1).length - 1, numbered);
    }

    /**
     * Every XDP action and the helpers on BMv2: r0 = first byte mod 5 (a division by a constant
     * that is not a power of two), 4 through bpf_redirect; ktime and prandom called on the way.
     */
    @Test
    void everyActionAndHelperOnBmv2() {
        String text = """
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 1
                jgt %r4, %r3, tx
                ldxb %r6, [%r2+0]
                call 5
                mov %r7, %r0
                call 7
                mov %r8, %r0
                mod %r6, 5
                jeq %r6, 4, redirect
                mov %r0, %r6
                exit
                redirect:
                mov %r1, 2
                mov %r2, 0
                call 23
                exit
                tx:
                mov %r0, 3
                exit
                """;
        P4Target t = new P4Target(false);
        Host.require("p4", t.availability().available(), t.availability().reason());
        Program p = Program.builder("actions", ProgramType.XDP, Assembler.assemble(text)).build();
        VerifiedProgram vp = Verifier.verify(p, Profile.RFC9669);
        List<RunInput> inputs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            byte[] b = new byte[14 + i];
            b[0] = (byte) (i * 37);
            b[13] = (byte) i;
            inputs.add(RunInput.ofPacket(b));
        }
        try (Executable got = t.compile(vp).load();
             Executable want = new InterpreterTarget(Environment.deterministic(0, 1)).load(List.of(p))) {
            List<RunResult> g = got.run(inputs);
            java.util.Set<Long> seen = new java.util.TreeSet<>();
            for (int i = 0; i < inputs.size(); i++) {
                RunResult w = want.run(inputs.get(i));
                assertEquals(w.r0(), g.get(i).r0(), "input " + i);
                seen.add(w.r0());
                if (w.r0() == 2 || w.r0() == 3) {
                    assertNotNull(g.get(i).packetAfter(), "XDP_PASS and XDP_TX leave the switch, input " + i);
                    assertEquals(java.util.HexFormat.of().formatHex(w.packetAfter()),
                            java.util.HexFormat.of().formatHex(g.get(i).packetAfter()), "input " + i);
                } else {
                    assertEquals(null, g.get(i).packetAfter(), "dropped, aborted and redirected packets have no packet after");
                }
            }
            assertEquals(java.util.Set.of(0L, 1L, 2L, 3L, 4L), seen, "every action taken");
        }
    }

    /**
     * LPM_TRIE as a range + ternary table: nested prefixes (/8, /16, /24, /32 and a /0 default)
     * looked up with keys of every prefix length 0..40, so the entry with the longest prefix not
     * longer than the key's must win, as in Linux's trie.
     */
    @Test
    void lpmLookupsMatchTheTrieWithNestedPrefixes() {
        String text = """
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 5
                mov %r0, 2
                jgt %r4, %r3, out
                ldxb %r5, [%r2+0]
                stxw [%r10-8], %r5
                ldxw %r5, [%r2+1]
                stxw [%r10-4], %r5
                mov %r2, %r10
                add %r2, -8
                lddw %r1, map_idx 0
                call 1
                mov %r6, 255
                jeq %r0, 0, miss
                ldxw %r6, [%r0+0]
                miss:
                mov %r0, %r6
                out:
                exit
                """;
        P4Target t = new P4Target(false);
        Host.require("p4", t.availability().available(), t.availability().reason());
        List<MapDef> maps = List.of(MapDef.of("lpm", MapType.LPM_TRIE, 8, 4, 16, 1));
        Program p = Program.builder("lpm", ProgramType.XDP, Assembler.assemble(text)).maps(maps).build();
        VerifiedProgram vp = Verifier.verify(p, Profile.RFC9669);
        int[][] entries = {{0, 0, 0, 0, 0, 10}, {8, 10, 0, 0, 0, 1}, {16, 10, 1, 0, 0, 2}, {24, 10, 1, 2, 0, 3}, {32, 10, 1, 2, 3, 4},
                {16, 10, 2, 0, 0, 5}};
        List<RunInput> inputs = new ArrayList<>();
        int[][] addrs = {{10, 1, 2, 3}, {10, 1, 2, 9}, {10, 1, 9, 9}, {10, 9, 9, 9}, {11, 0, 0, 0}, {10, 2, 200, 1}};
        for (int[] a : addrs) {
            for (int plen = 0; plen <= 40; plen++) {
                byte[] b = new byte[14];
                b[0] = (byte) plen;
                for (int k = 0; k < 4; k++) {
                    b[1 + k] = (byte) a[k];
                }
                inputs.add(RunInput.ofPacket(b));
            }
        }
        try (Executable got = t.compile(vp).load();
             Executable want = new InterpreterTarget(Environment.deterministic(0, 1)).load(List.of(p))) {
            for (int[] e : entries) {
                byte[] key = {(byte) e[0], 0, 0, 0, (byte) e[1], (byte) e[2], (byte) e[3], (byte) e[4]};
                byte[] value = {(byte) e[5], 0, 0, 0};
                want.maps().update("lpm", key, value, 0);
                got.maps().update("lpm", key, value, 0);
            }
            List<RunResult> g = got.run(inputs);
            java.util.Set<Long> seen = new java.util.TreeSet<>();
            for (int i = 0; i < inputs.size(); i++) {
                long w = want.run(inputs.get(i)).r0();
                seen.add(w);
                assertEquals(w, g.get(i).r0(), "lookup " + java.util.HexFormat.of().formatHex(inputs.get(i).packet(), 0, 5));
            }
            assertEquals(java.util.Set.of(1L, 2L, 3L, 4L, 5L, 10L, 255L), seen, "every entry wins somewhere, and prefix lengths past 32 miss");
        }
    }

    @Test
    void withoutTheToolchainTheSourceIsStillEmitted() {
        Golden g = GOLDEN.get(0);
        P4Artifact a = new P4Artifact(g.verified(), P4Lowering.lower(g.verified()), null, 0, "p4c-bm2-ss not found");
        assertTrue(a.source().contains("V1Switch("));
        TargetException e = assertThrows(TargetException.class, a::load);
        assertTrue(e.getMessage().contains("p4c-bm2-ss not found"), e.getMessage());
    }
}
