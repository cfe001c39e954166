package dev.prism.perf;

import dev.prism.perf.BenchResult.Floor;
import dev.prism.perf.BenchResult.Measurement;
import dev.prism.perf.BenchResult.PacketInfo;
import dev.prism.perf.BenchResult.ProgramResult;
import dev.prism.perf.BenchResult.Run;
import dev.prism.perf.BenchResult.Status;
import dev.prism.perf.BenchResult.TargetInfo;
import java.util.ArrayList;
import java.util.List;

/** A comparison with made-up numbers whose derived values are easy to work out by hand. */
public final class Synthetic {
    private Synthetic() {
    }

    /**
     * Two programs, four targets (linux the baseline, x86-64 refusing the second program, arm64
     * unavailable), one packet; floors: linux 10, interpreter 1000, x86-64 20.
     */
    public static BenchResult result() {
        String p = "64 B";
        List<Floor> floors = List.of(
                new Floor("linux", p, ok(10)),
                new Floor("interpreter", p, ok(1000)),
                new Floor("x86-64", p, ok(20)),
                new Floor("arm64", p, unavailable()));
        List<ProgramResult> programs = new ArrayList<>();
        programs.add(program("a", List.of(run("linux", ok(30)), run("interpreter", ok(3000)), run("x86-64", ok(30)),
                run("arm64", unavailable()))));
        programs.add(program("b", List.of(run("linux", ok(90)), run("interpreter", ok(9000)),
                Run.of("x86-64", p, Measurement.notOk(Status.NOT_SUPPORTED, "not supported: helper 1 | map lookup")),
                run("arm64", unavailable()))));
        BenchResult measured = new BenchResult(
                new BenchResult.Host("test cpu", 1, "Linux test", "Java test", "2025-01-01T00:00:00Z"),
                new BenchResult.Settings(100, 50, 3, 1000, 2, "linux", Ratios.EPSILON_NS, "mov %r0, 2; exit"),
                List.of(new TargetInfo("linux", "kernel", true, "bpf() works"),
                        new TargetInfo("interpreter", "interp", true, "pure Java"),
                        new TargetInfo("x86-64", "jit", true, "native"),
                        new TargetInfo("arm64", "jit", false, "no libunicorn")),
                List.of(new PacketInfo(p, 64)), floors, programs, List.of());
        return Comparison.derive(measured);
    }

    static Measurement ok(double ns) {
        return Measurement.ok("XDP_PASS", 100, Stats.of(ns * 0.99, ns, ns * 1.01));
    }

    static Measurement unavailable() {
        return Measurement.notOk(Status.UNAVAILABLE, "no libunicorn");
    }

    static Run run(String target, Measurement m) {
        return Run.of(target, "64 B", m);
    }

    static ProgramResult program(String name, List<Run> runs) {
        return new ProgramResult(name, 10, 1, runs, List.of(
                new BenchResult.Compile("linux", "BPF_PROG_LOAD", Status.OK, null, null, Stats.of(50_000L, 60_000L)),
                new BenchResult.Compile("interpreter", "verify + compile + load", Status.OK, null, Stats.of(1_000L), Stats.of(2_000L)),
                new BenchResult.Compile("x86-64", "verify + compile + load", Status.NOT_SUPPORTED, "not supported: xdp", null, null),
                new BenchResult.Compile("arm64", "verify + compile + load", Status.UNAVAILABLE, "no libunicorn", null, null)));
    }

}
