package dev.prism.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.error.TargetException;
import dev.prism.perf.BenchResult.Compile;
import dev.prism.perf.BenchResult.Run;
import dev.prism.perf.BenchResult.Status;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import dev.prism.verifier.VerifiedProgram;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The runner on the interpreter with tiny programs and few runs: what it reports, not how fast. */
class BenchRunnerTest {
    /** Drops frames whose first byte is odd, passes the others: reads the packet after a bounds check. */
    private static final String DROP_ODD = """
            ldxw %r2, [%r1+0]
            ldxw %r3, [%r1+4]
            mov %r4, %r2
            add %r4, 1
            mov %r0, 2
            jgt %r4, %r3, +4
            ldxb %r5, [%r2+0]
            and %r5, 1
            jeq %r5, 0, +1
            mov %r0, 1
            exit
            """;

    private static final BenchOptions FAST = BenchOptions.defaults()
            .withRepeat(20).withBatches(3).withWarmupMillis(0).withCompileRepeat(2).withBaseline("interpreter");

    private static Workload dropOdd() {
        return Workload.of(Assembler.assemble("drop_odd", ProgramType.XDP, DROP_ODD));
    }

    @Test
    void measuresAProgramAndItsFloorOnTheInterpreter() {
        List<int[]> progress = new ArrayList<>();
        BenchResult r = new BenchRunner(FAST).run(List.of(dropOdd()), List.of(new InterpreterTarget()),
                List.of(Packet.udp(64)), (done, total, label) -> progress.add(new int[] {done, total}));

        assertEquals(1, r.targets().size());
        assertTrue(r.targets().getFirst().available());
        assertTrue(r.floor("interpreter", "64 B").orElseThrow().measurement().ok());
        Run run = r.programs().getFirst().run("interpreter", "64 B").orElseThrow();
        assertEquals(Status.OK, run.measurement().status(), run.measurement()::describe);
        assertEquals("XDP_PASS", run.measurement().action(), "the built frame starts with 02: even");
        assertEquals(20, run.measurement().repeat());
        assertEquals(3, run.measurement().ns().samples().size());
        assertTrue(run.measurement().ns().median() > 0);
        assertNotNull(run.correctedNs());
        assertEquals(1.0, run.ratio(), 1e-12, "the baseline against itself");
        assertEquals(1.0, r.geomean("interpreter", "64 B").orElseThrow().ratio(), 1e-12);

        Compile c = r.programs().getFirst().compile("interpreter").orElseThrow();
        assertEquals(Status.OK, c.status(), c::describe);
        assertEquals(2, c.totalNs().samples().size());
        assertTrue(c.totalNs().median() >= c.verifyNs().median(), "verify is part of the total");

        int[] last = progress.getLast();
        assertEquals(last[1], last[0], "progress ends at its total");
        for (int i = 1; i < progress.size(); i++) {
            assertTrue(progress.get(i)[0] >= progress.get(i - 1)[0], "progress never goes back");
        }
    }

    @Test
    void calibrationPicksRunsPerBatch() {
        BenchResult r = new BenchRunner(FAST.withRepeat(0)).run(List.of(dropOdd()), List.of(new InterpreterTarget()),
                List.of(Packet.udp(64)), null);
        Run run = r.programs().getFirst().run("interpreter", "64 B").orElseThrow();
        assertTrue(run.measurement().repeat() >= 1 && run.measurement().repeat() <= BenchOptions.MAX_REPEAT);
        assertEquals(0, r.settings().repeat(), "calibrated: each measurement says its own");
    }

    @Test
    void unavailableAndUnsupportedTargetsAreReportedAndTheRunGoesOn() {
        BenchResult r = new BenchRunner(FAST).run(List.of(dropOdd()),
                List.of(new InterpreterTarget(), new FakeTarget("away", Availability.no("not on this host"), false),
                        new FakeTarget("picky", Availability.yes("here"), true)),
                List.of(Packet.udp(64), Packet.udp(100)), null);

        Run away = r.programs().getFirst().run("away", "100 B").orElseThrow();
        assertEquals(Status.UNAVAILABLE, away.measurement().status());
        assertEquals("unavailable: not on this host", away.measurement().describe());
        Run picky = r.programs().getFirst().run("picky", "64 B").orElseThrow();
        assertEquals(Status.NOT_SUPPORTED, picky.measurement().status());
        assertEquals("not supported: xdp on picky", picky.measurement().describe());
        assertNull(picky.ratio());
        assertEquals(Status.NOT_SUPPORTED, r.programs().getFirst().compile("picky").orElseThrow().status());
        assertEquals(Status.UNAVAILABLE, r.programs().getFirst().compile("away").orElseThrow().status());
        assertTrue(r.programs().getFirst().run("interpreter", "100 B").orElseThrow().measurement().ok());
        assertFalse(r.targets().get(1).available());
    }

    @Test
    void aTrapFailsOnlyItsCell() {
        Program trap = Assembler.assemble("trap", ProgramType.XDP, "ldxb %r0, [%r1+30000]\nexit\n");
        BenchResult r = new BenchRunner(FAST).run(List.of(new Workload("trap", List.of(trap), List.of()), dropOdd()),
                List.of(new InterpreterTarget()), List.of(Packet.udp(64)), null);
        Run t = r.programs().getFirst().run("interpreter", "64 B").orElseThrow();
        assertEquals(Status.FAILED, t.measurement().status());
        assertTrue(t.measurement().describe().startsWith("failed: "), t.measurement().describe());
        assertTrue(r.programs().get(1).run("interpreter", "64 B").orElseThrow().measurement().ok());
    }

    @Test
    void nothingToCompareIsAnError() {
        BenchRunner runner = new BenchRunner(FAST);
        assertThrows(IllegalArgumentException.class,
                () -> runner.run(List.of(), List.of(new InterpreterTarget()), List.of(Packet.udp(64)), null));
    }

    @Test
    void optionsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> BenchOptions.defaults().withBatches(0));
        assertThrows(IllegalArgumentException.class, () -> BenchOptions.defaults().withRepeat(-1));
        assertThrows(IllegalArgumentException.class, () -> BenchOptions.defaults().withCompileRepeat(0));
    }

    /** Runs per measured batch in the interleaving tests: warm-up batches start at 16 and double, never 7. */
    private static final int MEASURED = 7;

    @Test
    void measuredRoundsInterleaveTheTargetsInRotatingOrder() {
        List<String> log = new ArrayList<>();
        List<Target> targets = List.of(new Recording("a", 10, 30, log, false),
                new FakeTarget("away", Availability.no("not on this host"), false),
                new Recording("b", 5, 45, log, false), new Recording("c", 20, 40, log, false));
        List<int[]> progress = new ArrayList<>();
        BenchResult r = new BenchRunner(FAST.withRepeat(MEASURED).withBatches(4).withBaseline("a")).clock(BenchRunner.Clock.WALL)
                .run(List.of(dropOdd()), targets, List.of(Packet.udp(64)),
                        (done, total, label) -> progress.add(new int[] {done, total}));

        // per target two cells (the floor, drop_odd) of one packet; round r starts at target r mod 3
        List<String> expected = new ArrayList<>();
        String[][] order = {{"a", "b", "c"}, {"b", "c", "a"}, {"c", "a", "b"}, {"a", "b", "c"}};
        for (String[] round : order) {
            for (String t : round) {
                expected.add(t + " xdp_pass");
                expected.add(t + " drop_odd");
            }
        }
        List<String> measured = log.stream().filter(e -> e.endsWith(" " + MEASURED))
                .map(e -> e.substring(0, e.lastIndexOf(' '))).toList();
        assertEquals(expected, measured);
        int lastBatch = log.lastIndexOf(log.stream().filter(e -> e.endsWith(" " + MEASURED)).reduce((x, y) -> y).orElseThrow());
        List<String> closes = log.stream().filter(e -> e.startsWith("close ")).toList();
        assertEquals(6, closes.size(), "every executable is closed: " + log);
        assertTrue(log.indexOf(closes.getFirst()) > lastBatch, "executables stay open until the rounds are over: " + log);

        // b's drop_odd takes 45 - 5 = 40 ns of its own, a's 30 - 10 = 20 in every round
        Run b = r.programs().getFirst().run("b", "64 B").orElseThrow();
        assertEquals(List.of(45.0, 45.0, 45.0, 45.0), b.measurement().ns().samples());
        assertEquals(2.0, b.ratio(), 1e-12);
        assertEquals(2.0, b.pairedRatio(), 1e-12);
        assertEquals(Status.UNAVAILABLE, r.programs().getFirst().run("away", "64 B").orElseThrow().measurement().status());
        int[] last = progress.getLast();
        assertEquals(last[1], last[0], "progress ends at its total");
        for (int i = 1; i < progress.size(); i++) {
            assertTrue(progress.get(i)[0] >= progress.get(i - 1)[0], "progress never goes back");
        }
    }

    @Test
    void aFailureToCloseKeepsTheMeasurements() {
        List<String> log = new ArrayList<>();
        BenchResult r = new BenchRunner(FAST.withRepeat(MEASURED).withBaseline("a")).clock(BenchRunner.Clock.WALL)
                .run(List.of(dropOdd()), List.of(new Recording("a", 10, 30, log, true), new Recording("b", 5, 45, log, false)),
                        List.of(Packet.udp(64)), null);
        assertTrue(r.programs().getFirst().run("a", "64 B").orElseThrow().measurement().ok());
        assertEquals(2.0, r.programs().getFirst().run("b", "64 B").orElseThrow().ratio(), 1e-12);
        assertEquals(4, log.stream().filter(e -> e.startsWith("close ")).count(), "b's executables closed after a's failed");
    }

    /**
     * A target whose executables take {@code floorNs} (the floor program) or {@code programNs}
     * per run, and log "TARGET PROGRAM REPEAT" for every timed batch and "close TARGET PROGRAM";
     * its compile refuses, so that the compile timing takes no time.
     */
    private record Recording(String id, double floorNs, double programNs, List<String> log, boolean failsToClose)
            implements Target {
        @Override
        public String description() {
            return "recording";
        }

        @Override
        public Availability availability() {
            return Availability.yes("here");
        }

        @Override
        public Capabilities capabilities() {
            return new InterpreterTarget().capabilities();
        }

        @Override
        public Artifact compile(VerifiedProgram program) {
            throw TargetException.unsupported("compile on " + id);
        }

        @Override
        public Executable load(List<Program> programs) {
            String name = programs.getFirst().name();
            double ns = name.equals("xdp_pass") ? floorNs : programNs;
            return new Executable() {
                @Override
                public RunResult run(RunInput input) {
                    return new RunResult(2, new byte[0]);
                }

                @Override
                public double nanosPerRun(RunInput input, int repeat) {
                    log.add(id + " " + name + " " + repeat);
                    return ns;
                }

                @Override
                public void close() {
                    log.add("close " + id + " " + name);
                    if (failsToClose) {
                        throw new IllegalStateException("cannot free " + name);
                    }
                }
            };
        }
    }

    /** A target that is away, or refuses every XDP program as a gap. */
    private record FakeTarget(String id, Availability availability, boolean refuses) implements Target {
        @Override
        public String description() {
            return "fake";
        }

        @Override
        public Capabilities capabilities() {
            return new InterpreterTarget().capabilities();
        }

        @Override
        public Artifact compile(VerifiedProgram program) {
            throw TargetException.unsupported("xdp on " + id);
        }
    }
}
