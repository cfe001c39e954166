package dev.prism.perf;

import java.util.Collection;

/**
 * The arithmetic of a comparison: floor correction, ratios, their geometric mean.
 *
 * <p>Every target's time per run includes what the harness spends around the program: copying
 * the packet in, building the context, the call into the code, reading the result. A program
 * that only returns XDP_PASS measures exactly that (the floor), so {@code t - floor} is the
 * program's own work, comparable across targets whose harnesses differ by orders of magnitude
 * (a kernel loop against a Java interpreter's per-run allocation).
 */
public final class Ratios {
    /**
     * The least a floor-corrected time may be: a program that costs no more than the floor
     * (within noise) would otherwise have a zero or negative time and no ratio. One nanosecond
     * is the resolution of the kernel's BPF_PROG_TEST_RUN duration.
     */
    public static final double EPSILON_NS = 1.0;

    private Ratios() {
    }

    /** {@return {@code t - floor}, at least {@link #EPSILON_NS}} */
    public static double corrected(double t, double floor) {
        return Math.max(t - floor, EPSILON_NS);
    }

    /** {@return whether {@code t} is within {@link #EPSILON_NS} of the floor, so its ratio means little} */
    public static boolean atFloor(double t, double floor) {
        return t - floor < EPSILON_NS;
    }

    /** {@return {@code t / baseline}} @throws IllegalArgumentException unless both are positive */
    public static double ratio(double t, double baseline) {
        if (!(t > 0) || !(baseline > 0)) {
            throw new IllegalArgumentException("a ratio needs positive times, not " + t + " / " + baseline);
        }
        return t / baseline;
    }

    /**
     * {@return the geometric mean of {@code ratios}}: the n-th root of their product, computed
     * as exp(mean(log r)) so that long lists neither overflow nor underflow
     *
     * @throws IllegalArgumentException when empty or when a ratio is not positive
     */
    public static double geomean(Collection<Double> ratios) {
        if (ratios.isEmpty()) {
            throw new IllegalArgumentException("no ratios");
        }
        double logSum = 0;
        for (double r : ratios) {
            if (!(r > 0) || Double.isInfinite(r)) {
                throw new IllegalArgumentException("a geometric mean needs positive finite ratios, not " + r);
            }
            logSum += Math.log(r);
        }
        return Math.exp(logSum / ratios.size());
    }
}
