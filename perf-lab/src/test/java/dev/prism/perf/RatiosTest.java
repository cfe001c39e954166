package dev.prism.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.perf.BenchResult.ProgramResult;
import dev.prism.perf.BenchResult.Run;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RatiosTest {
    @Test
    void correctionSubtractsTheFloorDownToEpsilon() {
        assertEquals(70.0, Ratios.corrected(100, 30));
        assertEquals(Ratios.EPSILON_NS, Ratios.corrected(30.5, 30));
        assertEquals(Ratios.EPSILON_NS, Ratios.corrected(20, 30), "below the floor is noise, not negative time");
        assertTrue(Ratios.atFloor(30.5, 30));
        assertFalse(Ratios.atFloor(32, 30));
    }

    @Test
    void geomeanIsTheNthRootOfTheProduct() {
        assertEquals(4.0, Ratios.geomean(List.of(2.0, 8.0)), 1e-12);
        assertEquals(1.0, Ratios.geomean(List.of(0.1, 10.0)), 1e-12);
        assertEquals(3.0, Ratios.geomean(List.of(1.0, 3.0, 9.0)), 1e-12);
        assertEquals(1e-200, Ratios.geomean(List.of(1e-200, 1e-200, 1e-200)), 1e-212, "no underflow");
    }

    @Test
    void geomeanRefusesWhatHasNone() {
        assertThrows(IllegalArgumentException.class, () -> Ratios.geomean(List.of()));
        assertThrows(IllegalArgumentException.class, () -> Ratios.geomean(List.of(1.0, 0.0)));
        assertThrows(IllegalArgumentException.class, () -> Ratios.geomean(List.of(-1.0)));
        assertThrows(IllegalArgumentException.class, () -> Ratios.ratio(1, 0));
    }

    @Test
    void pairedRatioCorrectsEachRoundByItsOwnFloorAndTakesTheMedian() {
        // rounds: corrected 20, 20, 29 over the baseline's 10, 20, 10 -> 2, 1, 2.9; median 2
        List<Double> t = List.of(30.0, 60.0, 40.0);
        List<Double> floor = List.of(10.0, 40.0, 11.0);
        List<Double> b = List.of(15.0, 25.0, 16.0);
        List<Double> baseFloor = List.of(5.0, 5.0, 6.0);
        assertEquals(2.0, Ratios.pairedRatio(t, floor, b, baseFloor), 1e-12, "not the medians' (40 - 11) / (16 - 5)");
        // a round at its floor counts as epsilon: 1 / 10, 20 / 20 -> median of 0.1 and 1
        assertEquals(0.55, Ratios.pairedRatio(List.of(10.5, 60.0), List.of(10.0, 40.0), List.of(15.0, 25.0),
                List.of(5.0, 5.0)), 1e-12);
        assertNull(Ratios.pairedRatio(List.of(), List.of(), List.of(), List.of()));
        assertNull(Ratios.pairedRatio(t, List.of(10.0, 40.0), b, baseFloor), "a floor that stopped early");
        assertNull(Ratios.pairedRatio(List.of(30.0, Double.NaN, 40.0), floor, b, baseFloor));
    }

    @Test
    void derivedRunsHaveTheirPairedRatio() {
        // every cell's batches are 0.99, 1 and 1.01 times its time, so each round's ratio is the ratio
        BenchResult r = Synthetic.result();
        assertEquals(100.0, r.programs().get(0).run("interpreter", "64 B").orElseThrow().pairedRatio(), 1e-9);
        assertEquals(0.5, r.programs().get(0).run("x86-64", "64 B").orElseThrow().pairedRatio(), 1e-9);
        assertEquals(1.0, r.programs().get(1).run("linux", "64 B").orElseThrow().pairedRatio(), 1e-9);
        assertNull(r.programs().get(1).run("x86-64", "64 B").orElseThrow().pairedRatio(), "not measured");
        assertNull(r.programs().get(0).run("arm64", "64 B").orElseThrow().pairedRatio(), "unavailable");
    }

    @Test
    void derivedRunsAreFloorCorrectedAndDividedByTheBaseline() {
        BenchResult r = Synthetic.result();
        Run interpA = r.programs().get(0).run("interpreter", "64 B").orElseThrow();
        assertEquals(1000.0, interpA.floorNs());
        assertEquals(2000.0, interpA.correctedNs());
        assertEquals(100.0, interpA.ratio(), 1e-9, "(3000 - 1000) / (30 - 10)");
        assertEquals(100.0, interpA.rawRatio(), 1e-9, "3000 / 30");
        Run x86A = r.programs().get(0).run("x86-64", "64 B").orElseThrow();
        assertEquals(0.5, x86A.ratio(), 1e-9, "(30 - 20) / (30 - 10)");
        Run linuxB = r.programs().get(1).run("linux", "64 B").orElseThrow();
        assertEquals(1.0, linuxB.ratio(), 1e-9);
        Run x86B = r.programs().get(1).run("x86-64", "64 B").orElseThrow();
        assertNull(x86B.ratio(), "nothing measured, no ratio");
        assertNull(x86B.correctedNs());
    }

    @Test
    void geomeansCoverTheProgramsWithARatio() {
        BenchResult r = Synthetic.result();
        // interpreter: a (3000-1000)/(30-10) = 100, b (9000-1000)/(90-10) = 100
        assertEquals(100.0, r.geomean("interpreter", "64 B").orElseThrow().ratio(), 1e-9);
        assertEquals(2, r.geomean("interpreter", "64 B").orElseThrow().programs());
        assertEquals(0.5, r.geomean("x86-64", "64 B").orElseThrow().ratio(), 1e-9);
        assertEquals(1, r.geomean("x86-64", "64 B").orElseThrow().programs());
        assertEquals(1.0, r.geomean("linux", "64 B").orElseThrow().ratio(), 1e-9);
        assertTrue(r.hasBaseline());
    }

    @Test
    void withoutTheBaselineThereAreNoRatios() {
        BenchResult r = Synthetic.result();
        BenchResult.Settings s = r.settings();
        BenchResult other = Comparison.derive(new BenchResult(r.host(),
                new BenchResult.Settings(s.repeat(), s.batchMillis(), s.batches(), s.warmupMillis(), s.compileRepeat(),
                        "arm64", s.epsilonNs(), s.floorProgram()), r.targets(), r.packets(), r.floors(), r.programs(), List.of()));
        assertFalse(other.hasBaseline());
        assertNull(other.programs().get(0).run("interpreter", "64 B").orElseThrow().ratio());
        assertEquals(2000.0, other.programs().get(0).run("interpreter", "64 B").orElseThrow().correctedNs(),
                "correction needs no baseline");
    }

    @Test
    void aBaselineAtItsFloorIsFlaggedOnTheOthers() {
        BenchResult r = Synthetic.result();
        List<ProgramResult> programs = new ArrayList<>(r.programs());
        ProgramResult a = programs.getFirst();
        List<Run> runs = new ArrayList<>(a.runs());
        runs.set(0, Run.of("linux", "64 B", Synthetic.ok(10.5))); // floor 10
        programs.set(0, new ProgramResult(a.name(), a.instructions(), a.programs(), runs, a.compile()));
        BenchResult derived = Comparison.derive(new BenchResult(r.host(), r.settings(), r.targets(), r.packets(),
                r.floors(), programs, List.of()));
        Run linux = derived.programs().getFirst().run("linux", "64 B").orElseThrow();
        assertTrue(linux.atFloor());
        assertEquals(Ratios.EPSILON_NS, linux.correctedNs());
        Run interp = derived.programs().getFirst().run("interpreter", "64 B").orElseThrow();
        assertTrue(interp.baselineAtFloor());
        assertFalse(interp.atFloor());
        assertEquals(2000.0, interp.ratio(), 1e-9, "2000 / epsilon: large, and flagged");
    }
}
