package dev.prism.perf;

import java.util.Arrays;
import java.util.List;

/**
 * Several batch means of one measurement.
 *
 * @param median  the median batch
 * @param q1      the first quartile
 * @param q3      the third quartile
 * @param min     the fastest batch
 * @param max     the slowest batch
 * @param samples every batch, in the order measured
 */
public record Stats(double median, double q1, double q3, double min, double max, List<Double> samples) {
    public Stats {
        samples = List.copyOf(samples);
    }

    /** {@return the statistics of {@code samples}} @throws IllegalArgumentException when empty */
    public static Stats of(double... samples) {
        if (samples.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        double[] sorted = samples.clone();
        Arrays.sort(sorted);
        return new Stats(quantile(sorted, 0.5), quantile(sorted, 0.25), quantile(sorted, 0.75), sorted[0],
                sorted[sorted.length - 1], Arrays.stream(samples).boxed().toList());
    }

    /** {@return the statistics of nanosecond counts} */
    public static Stats of(long... samples) {
        return of(Arrays.stream(samples).asDoubleStream().toArray());
    }

    /**
     * {@return the {@code p} quantile of sorted values, interpolated linearly between the two
     * nearest ranks (for p = 0.5 and an even count, the mean of the middle two)}
     */
    static double quantile(double[] sorted, double p) {
        double rank = p * (sorted.length - 1);
        int lo = (int) Math.floor(rank);
        int hi = (int) Math.ceil(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }

    /**
     * {@return half the interquartile range as a percentage of the median: the middle half of
     * the batches lie within about median ± this}; 0 for a median of 0. Quartiles rather than
     * the extremes, so that one batch that met a garbage collection or another process does not
     * stand for all of them (min and max are in the JSON report).
     */
    public double spreadPercent() {
        return median == 0 ? 0 : (q3 - q1) / 2 / median * 100;
    }
}
