package dev.prism.perf;

import java.util.Collection;
import java.util.List;

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
     * {@return the median over rounds r of corrected(t_r, floor_r) / corrected(b_r, baseFloor_r)}:
     * each batch less its own target's floor batch of the same round, so that both sides of a
     * ratio come from the same window of time (the measured rounds interleave the targets); null
     * when a list is empty, the lists differ in length or a batch is not a number
     *
     * @param t         a program's batches on a target, in round order
     * @param floor     that target's floor batches
     * @param b         the same program's batches on the baseline
     * @param baseFloor the baseline's floor batches
     */
    public static Double pairedRatio(List<Double> t, List<Double> floor, List<Double> b, List<Double> baseFloor) {
        int n = t.size();
        if (n == 0 || floor.size() != n || b.size() != n || baseFloor.size() != n) {
            return null;
        }
        double[] ratios = new double[n];
        for (int i = 0; i < n; i++) {
            if (!Double.isFinite(t.get(i) + floor.get(i) + b.get(i) + baseFloor.get(i))) {
                return null;
            }
            ratios[i] = ratio(corrected(t.get(i), floor.get(i)), corrected(b.get(i), baseFloor.get(i)));
        }
        return Stats.of(ratios).median();
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
