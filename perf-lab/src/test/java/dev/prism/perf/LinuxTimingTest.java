package dev.prism.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.conformance.linux.LinuxTarget;
import dev.prism.conformance.linux.ProgLoadTimer;
import dev.prism.perf.BenchResult.Run;
import dev.prism.perf.BenchResult.Status;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.testing.Host;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The kernel's own timers, as the comparison uses them (root only: skipped elsewhere). */
class LinuxTimingTest {
    private static final Program DROP = Assembler.assemble("drop", ProgramType.XDP, "mov %r0, 1\nexit\n");

    @BeforeEach
    void needsBpf() {
        Host.requireLinuxBpf();
    }

    /** nanosPerRun is the test run timed around the system call: positive, with sub-ns resolution. */
    @Test
    void nanosPerRunIsTimedAroundTheSystemCall() {
        try (Executable exe = new LinuxTarget().load(List.of(DROP))) {
            RunInput in = RunInput.ofPacket(Packet.udp(64).bytes());
            double ns = exe.nanosPerRun(in, 10_000);
            assertTrue(ns >= 0 && ns < 1_000_000, "a two-instruction program: " + ns + " ns");
            assertEquals(1, exe.run(in).r0(), "runs still run");
        }
    }

    @Test
    void progLoadTimerTimesEachLoad() {
        long[] loads = ProgLoadTimer.nanosPerLoad(List.of(DROP), 1, 3);
        assertEquals(3, loads.length);
        for (long ns : loads) {
            assertTrue(ns > 0, "a system call takes time: " + ns);
        }
    }

    @Test
    void theRunnerComparesTheInterpreterWithLinux() {
        BenchOptions fast = BenchOptions.defaults().withRepeat(100).withBatches(3).withWarmupMillis(0).withCompileRepeat(2);
        BenchResult r = new BenchRunner(fast).run(List.of(Workload.of(DROP)),
                List.of(new InterpreterTarget(), new LinuxTarget()), List.of(Packet.udp(64)), null);
        Run linux = r.programs().getFirst().run("linux", "64 B").orElseThrow();
        assertEquals(Status.OK, linux.measurement().status(), linux.measurement()::describe);
        assertEquals("XDP_DROP", linux.measurement().action());
        assertEquals(3, linux.measurement().linux().kernelNs().samples().size(), "the kernel's duration is kept");
        assertEquals(3, linux.measurement().linux().fixedWallNs().samples().size());
        assertTrue(linux.measurement().linux().fixedWallNs().min() >= 0, "never negative");
        assertEquals(linux.measurement().cpuNs(), linux.measurement().ns(), "the CPU clock by default");
        assertEquals("cpu", r.settings().clock());
        assertTrue(r.conditions() != null && !r.conditions().bpfStatsEnabled().isEmpty());
        assertEquals(1.0, linux.ratio(), 1e-12);
        Run interp = r.programs().getFirst().run("interpreter", "64 B").orElseThrow();
        assertTrue(interp.ratio() != null && interp.ratio() > 0, "ratio against linux");
        assertEquals("BPF_PROG_LOAD", r.programs().getFirst().compile("linux").orElseThrow().what());
        assertEquals(Status.OK, r.programs().getFirst().compile("linux").orElseThrow().status());
    }
}
