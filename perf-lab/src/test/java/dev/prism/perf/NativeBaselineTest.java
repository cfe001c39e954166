package dev.prism.perf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.elf.ElfObject;
import dev.prism.error.TargetException;
import dev.prism.perf.BenchResult.Run;
import dev.prism.perf.BenchResult.Status;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.testing.Host;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The native baseline against the reference interpreter: the examples' C built for the host
 * must give the r0 and the packet their BPF build gives on the interpreter, on the bench packets,
 * run after run (maps carry over), and what it lacks must say "not supported".
 */
class NativeBaselineTest {
    private static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();
    private static final NativeBaseline NATIVE = new NativeBaseline();

    @TempDir
    static Path objects;

    @BeforeAll
    static void needsClang() {
        Host.require("clang", NATIVE.availability().available(), NATIVE.availability().reason());
    }

    /** {@return the example compiled as the examples' Makefile does, with its C source beside} */
    private static Workload example(String name) throws IOException, InterruptedException {
        String clang = NativeBaseline.clang().orElseThrow();
        Path object = objects.resolve(name + ".o");
        Process p = new ProcessBuilder(clang, "-O2", "-g", "-target", "bpf", "-mcpu=v3", "-I",
                EXAMPLES.resolve("include").toString(), "-c", EXAMPLES.resolve(name + ".c").toString(), "-o", object.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, log);
        Workload w = Workload.of(name, ElfObject.load(object));
        return w.withCSource(EXAMPLES.resolve(name + ".c"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"parser", "checksum", "flow_counter", "firewall", "rate_limiter", "nfp_sampler", "loop", "calls", "lb", "forwarder", "tailcall"})
    void givesTheInterpretersR0AndPacket(String name) throws Exception {
        Workload w = example(name);
        for (Packet packet : List.of(Packet.udp(64), Packet.udp(1500))) {
            try (Executable reference = w.load(new InterpreterTarget()); Executable nat = NATIVE.load(w)) {
                for (int run = 1; run <= 3; run++) {
                    RunInput in = RunInput.ofPacket(packet.bytes());
                    RunResult want = reference.run(in);
                    RunResult got = nat.run(in);
                    String where = name + " on " + packet.label() + ", run " + run;
                    assertEquals(want.r0(), got.r0(), where + ": r0");
                    assertArrayEquals(want.packetAfter(), got.packetAfter(), where + ": packet after\n"
                            + HexFormat.of().formatHex(want.packetAfter()) + "\n" + HexFormat.of().formatHex(got.packetAfter()));
                }
            }
        }
    }

    @Test
    void whatItLacksIsNotSupported() throws Exception {
        Workload ringbuf = example("ringbuf");
        try (Executable exe = NATIVE.load(ringbuf)) {
            TargetException e = assertThrows(TargetException.class, () -> exe.run(RunInput.ofPacket(Packet.udp(64).bytes())));
            assertTrue(e.isUnsupported() && e.getMessage().contains("bpf_ringbuf_reserve"), e.getMessage());
        }
        TargetException noSource = assertThrows(TargetException.class,
                () -> NATIVE.load(new Workload("bare", List.of(BenchRunner.floorProgram()), List.of())));
        assertTrue(noSource.isUnsupported(), noSource.getMessage());
    }

    @Test
    void findsTheSourceBesideOrAboveTheObject(@TempDir Path dir) throws IOException {
        Path build = Files.createDirectories(dir.resolve("build"));
        Files.writeString(dir.resolve("x.c"), "");
        assertEquals(dir.resolve("x.c").toAbsolutePath(), NativeBaseline.sourceOf(build.resolve("x.o")).orElseThrow());
        Files.writeString(build.resolve("x.c"), "");
        assertEquals(build.resolve("x.c").toAbsolutePath(), NativeBaseline.sourceOf(build.resolve("x.o")).orElseThrow());
        assertTrue(NativeBaseline.sourceOf(build.resolve("y.o")).isEmpty());
    }

    @Test
    void theBenchRunsItBesideTheOtherTargets() throws Exception {
        BenchOptions fast = BenchOptions.defaults().withRepeat(2_000).withBatches(3).withWarmupMillis(0).withCompileRepeat(1)
                .withBaseline("interpreter");
        BenchResult r = new BenchRunner(fast).run(List.of(example("parser"), example("ringbuf")),
                List.of(new InterpreterTarget(), new NativeBaseline()), List.of(Packet.udp(64)), null);
        Run parser = r.programs().getFirst().run("native", "64 B").orElseThrow();
        assertEquals(Status.OK, parser.measurement().status(), parser.measurement()::describe);
        assertEquals("XDP_PASS", parser.measurement().action());
        assertTrue(parser.measurement().ns().median() > 0);
        assertTrue(r.floor("native", "64 B").orElseThrow().measurement().ok(), "the floor is built in C too");
        Run ringbuf = r.programs().get(1).run("native", "64 B").orElseThrow();
        assertEquals(Status.NOT_SUPPORTED, ringbuf.measurement().status(), ringbuf.measurement()::describe);
        assertEquals("clang -O2 -shared, one build", r.programs().getFirst().compile("native").orElseThrow().what());
        assertEquals(Status.OK, r.programs().getFirst().compile("native").orElseThrow().status());
    }
}
