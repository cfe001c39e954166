package dev.prism.conformance.linux;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.function.IntToLongFunction;

/**
 * Times {@code BPF_PROG_TEST_RUN} from user space, with the resolution of Prism's own targets.
 *
 * <p>The kernel's {@code duration} is the time of its repetition loop divided by {@code repeat},
 * truncated to whole nanoseconds (net/bpf/test_run.c, bpf_test_timer_leave): 5 or 10 ns for a
 * small XDP program, up to 20% off. Instead one call with a large {@code repeat} is timed around
 * the downcall, and so are {@value #SMALL_CALLS} calls with {@code repeat} {@value #SMALL_REPEAT},
 * half before it and half after. A call costs {@code T(n) = F + n·p}: F the fixed cost of one
 * call (the system call, copying the packet in and out, setting up the test run, building the
 * attribute in Java), p the time per run. Then
 * <pre>
 *   p = (T(N) − T(s)) / (N − s)        F = T(s) − s·p
 * </pre>
 * with T(s) the median of the small calls (one call that met an interrupt does not move it).
 * Both are computed twice: on the wall clock ({@link System#nanoTime()}) and on the calling
 * thread's CPU time ({@link ThreadMXBean#getCurrentThreadCpuTime()}, CLOCK_THREAD_CPUTIME_ID
 * on Linux), which leaves out the time the thread was not running, like the kernel's own timer
 * (it stops across cond_resched).
 */
public final class TestRunTimer {
    /** Runs per call of the small calls that measure the fixed cost. */
    public static final int SMALL_REPEAT = 1;
    /** Small calls per measurement; their median is T(s). */
    public static final int SMALL_CALLS = 8;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private TestRunTimer() {
    }

    /**
     * One measurement of {@code repeat} runs.
     *
     * @param repeat      the large call's runs
     * @param wallNs      per run on the wall clock, fixed cost subtracted
     * @param cpuNs       per run in thread CPU time, fixed cost subtracted; NaN when the JVM
     *                    cannot read thread CPU time
     * @param kernelNs    the kernel's own {@code duration} of the large call (whole ns)
     * @param fixedWallNs F on the wall clock: what one call costs besides its runs
     * @param fixedCpuNs  F in thread CPU time; NaN when unreadable
     */
    public record Timing(int repeat, double wallNs, double cpuNs, double kernelNs, double fixedWallNs, double fixedCpuNs) {
    }

    /** One timed call: its wall and thread CPU nanoseconds and the kernel's duration. */
    record Call(long wallNs, long cpuNs, long kernelNs) {
    }

    /**
     * {@return p = (T(big) − T(small)) / (big − small), not below 0} (noise can make a large call
     * of a near-empty program look cheaper than a small one)
     *
     * @throws IllegalArgumentException unless {@code bigRepeat > smallRepeat >= 1}
     */
    static double perRun(double bigNs, int bigRepeat, double smallNs, int smallRepeat) {
        if (smallRepeat < 1 || bigRepeat <= smallRepeat) {
            throw new IllegalArgumentException("need repeats big > small >= 1, not " + bigRepeat + " and " + smallRepeat);
        }
        return Math.max(0, (bigNs - smallNs) / (bigRepeat - smallRepeat));
    }

    /** {@return F = T(small) − small·p, not below 0} */
    static double fixedCost(double smallNs, int smallRepeat, double perRunNs) {
        return Math.max(0, smallNs - smallRepeat * perRunNs);
    }

    /** {@return the median of {@code values} (the mean of the middle two for an even count)} */
    static double median(long[] values) {
        long[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
    }

    /**
     * {@return the timing of {@code big} against {@code small} calls}; NaN CPU times stay NaN.
     * A {@code repeat} of at most {@link #SMALL_REPEAT} cannot be told apart from the fixed cost:
     * then the kernel's duration is the time per run on both clocks and F is NaN.
     */
    static Timing derive(int repeat, Call big, Call[] small) {
        if (repeat <= SMALL_REPEAT) {
            return new Timing(repeat, big.kernelNs(), big.kernelNs(), big.kernelNs(), Double.NaN, Double.NaN);
        }
        double smallWall = median(Arrays.stream(small).mapToLong(Call::wallNs).toArray());
        double wall = perRun(big.wallNs(), repeat, smallWall, SMALL_REPEAT);
        double cpu = Double.NaN;
        double fixedCpu = Double.NaN;
        if (big.cpuNs() >= 0 && Arrays.stream(small).allMatch(c -> c.cpuNs() >= 0)) {
            double smallCpu = median(Arrays.stream(small).mapToLong(Call::cpuNs).toArray());
            cpu = perRun(big.cpuNs(), repeat, smallCpu, SMALL_REPEAT);
            fixedCpu = fixedCost(smallCpu, SMALL_REPEAT, cpu);
        }
        return new Timing(repeat, wall, cpu, big.kernelNs(), fixedCost(smallWall, SMALL_REPEAT, wall), fixedCpu);
    }

    /**
     * {@return {@code repeat} runs timed as the class describes}
     *
     * @param testRun makes one test run call with the given repeat and returns the kernel's
     *                duration (whole ns per run)
     */
    public static Timing time(int repeat, IntToLongFunction testRun) {
        if (repeat < 1) {
            throw new IllegalArgumentException("repeat must be positive, was " + repeat);
        }
        if (repeat <= SMALL_REPEAT) {
            return derive(repeat, call(repeat, testRun), new Call[0]);
        }
        Call[] small = new Call[SMALL_CALLS];
        for (int i = 0; i < SMALL_CALLS / 2; i++) {
            small[i] = call(SMALL_REPEAT, testRun);
        }
        Call big = call(repeat, testRun);
        for (int i = SMALL_CALLS / 2; i < SMALL_CALLS; i++) {
            small[i] = call(SMALL_REPEAT, testRun);
        }
        return derive(repeat, big, small);
    }

    private static Call call(int repeat, IntToLongFunction testRun) {
        long cpu0 = cpuNow();
        long wall0 = System.nanoTime();
        long kernel = testRun.applyAsLong(repeat);
        long wall1 = System.nanoTime();
        long cpu1 = cpuNow();
        return new Call(wall1 - wall0, cpu0 < 0 || cpu1 < 0 ? -1 : cpu1 - cpu0, kernel);
    }

    /** {@return this thread's CPU time in ns, or -1 when the JVM cannot read it} */
    private static long cpuNow() {
        return THREADS.isCurrentThreadCpuTimeSupported() && THREADS.isThreadCpuTimeEnabled() ? THREADS.getCurrentThreadCpuTime() : -1;
    }
}
