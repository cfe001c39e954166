package dev.prism.conformance.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.conformance.linux.TestRunTimer.Call;
import dev.prism.conformance.linux.TestRunTimer.Timing;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.testing.Host;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fixed-cost subtraction of {@link TestRunTimer} on synthetic calls built from a known fixed
 * cost and time per run, and, as root, against the kernel's own duration.
 */
class TestRunTimerTest {
    /** A call of {@code repeat} runs costing {@code fixed + repeat * perRun}, plus {@code noise}. */
    private static Call call(double fixed, double perRun, int repeat, long noise) {
        long t = Math.round(fixed + repeat * perRun) + noise;
        return new Call(t, t, Math.round(perRun));
    }

    @Test
    void subtractsTheFixedCostOfACall() {
        double fixed = 1_830;
        double perRun = 7.25;
        int repeat = 400_000;
        Call big = call(fixed, perRun, repeat, 0);
        // one small call met an interrupt, one a cache miss: the median ignores both
        long[] noise = {0, 0, 40_000, 1, -1, 0, 300, 0};
        Call[] small = Arrays.stream(noise).mapToObj(n -> call(fixed, perRun, TestRunTimer.SMALL_REPEAT, n)).toArray(Call[]::new);
        Timing t = TestRunTimer.derive(repeat, big, small);
        assertEquals(perRun, t.wallNs(), 1e-4, "sub-ns per run, where the kernel says " + big.kernelNs());
        assertEquals(perRun, t.cpuNs(), 1e-4);
        assertEquals(fixed, t.fixedWallNs(), 1.0);
        assertEquals(fixed, t.fixedCpuNs(), 1.0);
        assertEquals(7.0, t.kernelNs(), "the kernel's duration is kept as it came");
        assertEquals(repeat, t.repeat());
    }

    @Test
    void perRunSolvesTwoCallsExactly() {
        // T(n) = 2000 + 3.5 n: T(1) = 2003.5, T(1001) = 5503.5
        assertEquals(3.5, TestRunTimer.perRun(5503.5, 1001, 2003.5, 1), 1e-12);
        assertEquals(2000, TestRunTimer.fixedCost(2003.5, 1, 3.5), 1e-12);
        // T(5) = 2017.5 as the small call: the same line
        assertEquals(3.5, TestRunTimer.perRun(5503.5, 1001, 2017.5, 5), 1e-12);
    }

    @Test
    void noiseNeverGivesANegativeTime() {
        assertEquals(0, TestRunTimer.perRun(1_000, 100, 1_200, 1));
        assertEquals(0, TestRunTimer.fixedCost(10, 1, 50));
    }

    @Test
    void refusesRepeatsThatCannotBeToldApart() {
        assertThrows(IllegalArgumentException.class, () -> TestRunTimer.perRun(10, 1, 10, 1));
        assertThrows(IllegalArgumentException.class, () -> TestRunTimer.perRun(10, 5, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> TestRunTimer.time(0, n -> 0));
    }

    @Test
    void aSingleRunIsTheKernelsDuration() {
        Timing t = TestRunTimer.derive(1, new Call(5_000, 4_000, 12), new Call[0]);
        assertEquals(12, t.wallNs());
        assertEquals(12, t.cpuNs());
        assertTrue(Double.isNaN(t.fixedWallNs()), "no fixed cost without two repeats");
    }

    @Test
    void anUnreadableCpuClockIsNaN() {
        Call big = new Call(10_000, -1, 5);
        Call[] small = {new Call(2_000, -1, 5), new Call(2_000, -1, 5)};
        Timing t = TestRunTimer.derive(1_001, big, small);
        assertEquals(8.0, t.wallNs(), 1e-12);
        assertTrue(Double.isNaN(t.cpuNs()) && Double.isNaN(t.fixedCpuNs()));
    }

    @Test
    void timeMakesTheSmallCallsAroundTheLargeOne() {
        List<Integer> repeats = new ArrayList<>();
        TestRunTimer.time(1_000, n -> {
            repeats.add(n);
            return 3;
        });
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < TestRunTimer.SMALL_CALLS; i++) {
            expected.add(TestRunTimer.SMALL_REPEAT);
        }
        expected.add(TestRunTimer.SMALL_CALLS / 2, 1_000);
        assertEquals(expected, repeats);
    }

    @Test
    void medianOfEvenAndOddCounts() {
        assertEquals(2, TestRunTimer.median(new long[] {3, 1, 2}));
        assertEquals(2.5, TestRunTimer.median(new long[] {4, 1, 3, 2}));
    }

    /**
     * A program of about a thousand instructions per run, so that the kernel's whole-ns duration
     * is precise to a fraction of a percent: the user-space time per run must be positive and of
     * the same order of magnitude in thread CPU time, and not below it on the wall clock (a loose
     * check, not a timing assertion: the machine may be busy).
     */
    @Test
    void agreesWithTheKernelOnALongProgram() {
        Host.requireLinuxBpf();
        Program loop = Assembler.assemble("loop", ProgramType.XDP, """
                mov %r1, 500
                l:
                sub %r1, 1
                jne %r1, 0, l
                mov %r0, 2
                exit
                """);
        RunInput in = RunInput.ofPacket(new byte[64]);
        try (Executable exe = new LinuxTarget().load(List.of(loop))) {
            TimedTestRun timed = (TimedTestRun) exe;
            double[] wall = new double[5];
            double[] cpu = new double[5];
            double[] kernel = new double[5];
            for (int i = 0; i < 5; i++) {
                Timing t = timed.timeRuns(in, 20_000);
                wall[i] = t.wallNs();
                cpu[i] = t.cpuNs();
                kernel[i] = t.kernelNs();
            }
            Arrays.sort(wall);
            Arrays.sort(cpu);
            Arrays.sort(kernel);
            double k = kernel[2];
            assertTrue(k >= 50, "1000 instructions take more than 50 ns: " + k);
            // The kernel's timer stops while the thread is rescheduled, and so does the thread's
            // CPU clock; the wall clock does not: on a busy machine it only grows.
            double close = Double.isNaN(cpu[2]) ? wall[2] : cpu[2];
            assertTrue(close > k / 4 && close < k * 4, "cpu " + cpu[2] + " ns, wall " + wall[2] + " ns, against the kernel's " + k);
            assertTrue(wall[2] > k / 4, "wall " + wall[2] + " ns against the kernel's " + k);
            assertEquals(2, exe.run(in).r0(), "runs still run");
            assertTrue(exe.nanosPerRun(in, 1_000) > 0, "nanosPerRun is the wall time per run");
        }
    }
}
