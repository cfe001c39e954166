package dev.prism.runtime;

import java.util.SplittableRandom;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * What a program can observe of the host that a host cannot reproduce exactly: time,
 * randomness, the CPU it runs on, and where bpf_trace_printk output goes. Injectable, so tests
 * and differential runs are deterministic.
 *
 * @param monotonicNs  bpf_ktime_get_ns
 * @param bootNs       bpf_ktime_get_boot_ns
 * @param jiffies      bpf_jiffies64
 * @param random       bpf_get_prandom_u32 (low 32 bits used)
 * @param cpu          bpf_get_smp_processor_id, and the per-CPU map slot
 * @param trace        receives each bpf_trace_printk line
 */
public record Environment(LongSupplier monotonicNs, LongSupplier bootNs, LongSupplier jiffies,
                          IntSupplier random, int cpu, java.util.function.Consumer<String> trace) {

    /**
     * The host's monotonic clock, {@link System#nanoTime} (CLOCK_MONOTONIC on Linux): a native
     * target whose environment reads this very supplier may read the clock natively instead.
     */
    public static final LongSupplier HOST_CLOCK = System::nanoTime;

    /** {@return the host's real clocks, a random generator, CPU 0, trace to stderr} */
    public static Environment host() {
        SplittableRandom rnd = new SplittableRandom();
        return new Environment(HOST_CLOCK, System::nanoTime, () -> System.nanoTime() / 4_000_000L,
                rnd::nextInt, 0, line -> System.err.println("bpf_trace_printk: " + line));
    }

    /** {@return a deterministic environment: a clock that starts at {@code startNs} and advances 1000 ns per reading} */
    public static Environment deterministic(long startNs, long seed) {
        long[] now = {startNs};
        SplittableRandom rnd = new SplittableRandom(seed);
        return new Environment(() -> now[0] += 1000, () -> now[0] += 1000, () -> now[0] / 4_000_000L,
                rnd::nextInt, 0, line -> { });
    }

    /** {@return the same environment on another CPU} */
    public Environment onCpu(int newCpu) {
        return new Environment(monotonicNs, bootNs, jiffies, random, newCpu, trace);
    }
}
