package dev.prism.perf;

import java.util.Objects;

/**
 * How a comparison measures.
 *
 * @param repeat        runs per batch (one {@code nanosPerRun} call); 0 calibrates per cell so
 *                      that a batch lasts about {@code batchMillis}
 * @param batches       measured batches per cell; the report gives their median and spread
 * @param warmupMillis  per target, how long at least every cell runs in turn, unreported, before
 *                      calibration and measurement (JIT compilation, caches, branch predictors);
 *                      at least one round runs whatever this is
 * @param compileRepeat measured compilations (or kernel loads) per program and target, after as
 *                      many again of warm-up
 * @param baseline      the target every other is compared with (its ratio is 1)
 * @param batchMillis   the calibrated length of one batch
 */
public record BenchOptions(int repeat, int batches, int warmupMillis, int compileRepeat, String baseline, int batchMillis) {
    public static final int DEFAULT_BATCHES = 7;
    public static final int DEFAULT_WARMUP_MILLIS = 2000;
    public static final int DEFAULT_COMPILE_REPEAT = 15;
    public static final String DEFAULT_BASELINE = "linux";
    /** Long enough that a young-generation pause (tens of ms on a small machine) is a fraction of a batch. */
    public static final int DEFAULT_BATCH_MILLIS = 50;
    /** Keeps a calibrated batch of a near-empty program from running for minutes on a slow clock. */
    public static final int MAX_REPEAT = 1 << 24;

    public BenchOptions {
        Objects.requireNonNull(baseline);
        if (repeat < 0 || repeat > MAX_REPEAT) {
            throw new IllegalArgumentException("repeat must be 1.." + MAX_REPEAT + " (or 0 to calibrate), not " + repeat);
        }
        if (batches < 1) {
            throw new IllegalArgumentException("batches must be at least 1, not " + batches);
        }
        if (warmupMillis < 0) {
            throw new IllegalArgumentException("warm-up must be at least 0 ms, not " + warmupMillis);
        }
        if (compileRepeat < 1) {
            throw new IllegalArgumentException("compile repeat must be at least 1, not " + compileRepeat);
        }
        if (batchMillis < 1) {
            throw new IllegalArgumentException("batch length must be at least 1 ms, not " + batchMillis);
        }
    }

    /** {@return calibrated 50 ms batches, 7 measured after 2 s of warm-up per target, 7 compilations, against linux} */
    public static BenchOptions defaults() {
        return new BenchOptions(0, DEFAULT_BATCHES, DEFAULT_WARMUP_MILLIS, DEFAULT_COMPILE_REPEAT, DEFAULT_BASELINE,
                DEFAULT_BATCH_MILLIS);
    }

    public BenchOptions withRepeat(int r) {
        return new BenchOptions(r, batches, warmupMillis, compileRepeat, baseline, batchMillis);
    }

    public BenchOptions withBatches(int b) {
        return new BenchOptions(repeat, b, warmupMillis, compileRepeat, baseline, batchMillis);
    }

    public BenchOptions withWarmupMillis(int w) {
        return new BenchOptions(repeat, batches, w, compileRepeat, baseline, batchMillis);
    }

    public BenchOptions withCompileRepeat(int c) {
        return new BenchOptions(repeat, batches, warmupMillis, c, baseline, batchMillis);
    }

    public BenchOptions withBaseline(String b) {
        return new BenchOptions(repeat, batches, warmupMillis, compileRepeat, b, batchMillis);
    }

    public BenchOptions withBatchMillis(int m) {
        return new BenchOptions(repeat, batches, warmupMillis, compileRepeat, baseline, m);
    }
}
