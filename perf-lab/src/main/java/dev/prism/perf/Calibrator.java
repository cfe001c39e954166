package dev.prism.perf;

import dev.prism.asm.Assembler;
import dev.prism.plan.Calibration;
import dev.prism.plan.CostClass;
import dev.prism.plan.CostModel;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.Availability;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.Target;
import java.net.InetAddress;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Measures each target's {@link CostModel} on this host ({@code prism bench --calibrate}): the
 * fixed cost of a run is the floor program's time; the cost of an instruction class or a helper
 * is the difference between a program that repeats it {@code K} times and the same program
 * without the repetitions, divided by {@code K} (less the setup instructions each repetition
 * needs, at their own measured cost). Both programs run on the 64-byte UDP frame
 * {@code prism bench} uses, in interleaved batches timed in thread CPU time; the least batch of each
 * counts.
 */
public final class Calibrator {
    /** Repetitions of a cheap instruction (ALU, loads, stores, branches). */
    static final int K = 512;
    /** Repetitions of an expensive one (calls, helpers, atomics, division). */
    static final int K_SLOW = 64;
    private static final int ROUNDS = 9;

    /** Told which measurement is running: {@code done} of {@code total}. */
    @FunctionalInterface
    public interface Progress {
        void update(int done, int total, String label);
    }

    private final long warmupMillis;
    private final long batchMillis;
    private final List<String> unmeasured = new ArrayList<>();

    /**
     * @param warmupMillis how long each program pair runs, unmeasured, before its batches
     * @param batchMillis  how long one measured batch of one program lasts
     */
    public Calibrator(long warmupMillis, long batchMillis) {
        this.warmupMillis = warmupMillis;
        this.batchMillis = batchMillis;
    }

    /** Registers r2-r4 and r7-r9 hold an unknown number, r5 an unknown non-zero one; four stack slots are written. */
    private static final String PRELUDE = """
            call 7
            mov %r2, %r0
            mov %r3, %r0
            mov %r4, %r0
            mov %r7, %r0
            mov %r8, %r0
            mov %r9, %r0
            mov %r5, %r0
            or %r5, 1
            stxdw [%r10-8], %r2
            stxdw [%r10-16], %r3
            stxdw [%r10-24], %r4
            stxdw [%r10-32], %r7
            """;
    private static final String END = "mov %r0, 2\nexit\n";

    /**
     * One measurement: {@code prelude}, then {@code times} repetitions of {@code body} (its lines
     * taken in turn), then r0 = XDP_PASS; {@code tail} after the exit (functions).
     *
     * @param key      the class id or helper key it prices
     * @param setupAlu ALU-class instructions in each repetition besides the priced one
     * @param per      priced instructions per repetition (a local call is a call and an exit)
     */
    record Probe(String key, String prelude, List<String> body, int times, String tail, List<MapDef> maps, int setupAlu,
                 int per) {
        Program program(int repeat) {
            StringBuilder sb = new StringBuilder(prelude);
            for (int i = 0; i < repeat; i++) {
                sb.append(body.get(i % body.size()).replace("#", Integer.toString(i))).append('\n');
            }
            sb.append(END).append(tail);
            Program p = Assembler.assemble("calibrate_" + key.replace(':', '_'), ProgramType.XDP, sb.toString());
            return maps.isEmpty() ? p : p.toBuilder().maps(maps).build();
        }
    }

    private static Probe cls(CostClass c, int times, String... body) {
        return new Probe(c.id(), PRELUDE, List.of(body), times, "", List.of(), 0, 1);
    }

    /** A helper whose map is map 0; {@code lookupKey} at r10-40, inserted by the prelude when {@code insert}. */
    private static Probe helper(String key, String prelude, String body, int setupAlu, MapDef... maps) {
        return new Probe(key, PRELUDE + prelude, List.of(body), K_SLOW, "", List.of(maps), setupAlu, 1);
    }

    private static final String LOOKUP = "lddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -40\ncall 1";
    private static final String KEY_INSERT = """
            stw [%r10-40], 1
            stdw [%r10-48], 0
            lddw %r1, map_idx 0
            mov %r2, %r10
            add %r2, -40
            mov %r3, %r10
            add %r3, -48
            mov %r4, 0
            call 2
            """;

    static List<Probe> probes() {
        List<Probe> out = new ArrayList<>();
        out.add(cls(CostClass.ALU, K, "add %r2, 7", "xor %r3, %r2", "add %r4, %r3", "or %r7, %r4", "lsh %r8, 1", "sub %r9, %r8"));
        out.add(cls(CostClass.MUL, K, "mul %r2, 3", "mul %r3, %r4", "mul %r7, 5", "mul %r8, %r9"));
        out.add(cls(CostClass.DIV, K_SLOW, "div %r2, %r5", "div %r3, 7", "mod %r7, %r5", "div %r8, 13"));
        out.add(cls(CostClass.LOAD, K, "ldxdw %r2, [%r10-8]", "ldxdw %r3, [%r10-16]", "ldxw %r4, [%r10-24]", "ldxb %r7, [%r10-32]"));
        out.add(cls(CostClass.STORE, K, "stxdw [%r10-8], %r2", "stxw [%r10-16], %r3", "stdw [%r10-24], 5", "stxb [%r10-32], %r4"));
        out.add(cls(CostClass.ATOMIC, K_SLOW, "lock add [%r10-8], %r2", "lock add [%r10-16], %r3", "lock add32 [%r10-24], %r4",
                "lock add [%r10-32], %r7"));
        out.add(cls(CostClass.BRANCH, K, "jgt %r2, %r3, +0", "jeq %r4, 1000, +0", "jsgt %r7, %r8, +0", "jne %r9, 5, +0"));
        // Both programs call fn once, so that it is reachable (the verifier refuses dead code) in the
        // one without the repetitions too.
        out.add(new Probe(CostClass.CALL.id(), PRELUDE + "call local fn\n", List.of("call local fn"), K_SLOW,
                "fn:\nmov %r0, 0\nexit\n", List.of(), 1, 2));
        MapDef array = MapDef.of("arr", MapType.ARRAY, 4, 8, 4, 0);
        MapDef percpu = MapDef.of("pcpu", MapType.PERCPU_ARRAY, 4, 8, 4, 0);
        MapDef hash = MapDef.of("hash", MapType.HASH, 4, 8, 1024, 0);
        MapDef lpm = MapDef.of("lpm", MapType.LPM_TRIE, 8, 8, 64, 1); // BPF_F_NO_PREALLOC, as Linux requires
        out.add(helper("1:array", "stw [%r10-40], 1\n", LOOKUP, 3, array));
        out.add(helper("1:percpu_array", "stw [%r10-40], 1\n", LOOKUP, 3, percpu));
        out.add(helper("1:hash", KEY_INSERT, LOOKUP, 3, hash));
        out.add(helper("1:lpm_trie", """
                stw [%r10-48], 24
                stw [%r10-44], 0x0200000a
                stdw [%r10-56], 0
                lddw %r1, map_idx 0
                mov %r2, %r10
                add %r2, -48
                mov %r3, %r10
                add %r3, -56
                mov %r4, 0
                call 2
                stw [%r10-40], 32
                stw [%r10-36], 0x0200000a
                """, LOOKUP, 3, lpm));
        out.add(helper("2:hash", KEY_INSERT,
                "lddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -40\nmov %r3, %r10\nadd %r3, -48\nmov %r4, 0\ncall 2", 6, hash));
        MapDef ring = MapDef.of("ring", MapType.RINGBUF, 0, 0, 4096, 0);
        out.add(helper("130:ringbuf", "",
                "lddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -8\nmov %r3, 8\nmov %r4, 0\ncall 130", 5, ring));
        // reserve, and discard what was reserved: two calls per repetition, priced alike
        out.add(new Probe("131:ringbuf", PRELUDE, List.of(
                "lddw %r1, map_idx 0\nmov %r2, 8\nmov %r3, 0\ncall 131\njeq %r0, 0, s#\nmov %r1, %r0\nmov %r2, 0\ncall 133\ns#:"),
                K_SLOW, "", List.of(ring), 6, 2));
        // bpf_loop's own cost: the call and one round trip into a callback that stops at once (its
        // instructions, the callback's exit among them, are priced by their classes)
        // (both programs make one such call, so that cb is reachable without the repetitions too)
        String loop = "mov %r1, 1\nlddw %r2, code cb\nmov %r3, 0\nmov %r4, 0\ncall 181";
        out.add(new Probe("181", PRELUDE + loop + "\n", List.of(loop), K_SLOW, "cb:\nmov %r0, 1\nexit\n", List.of(), 5, 1));
        out.add(helper("5", "", "call 5", 0));
        out.add(helper("7", "", "call 7", 0));
        out.add(helper("28", "",
                "mov %r1, %r10\nadd %r1, -8\nmov %r2, 4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 4\nmov %r5, 0\ncall 28", 7));
        return out;
    }

    /** {@return a calibration of every available target among {@code targets}} */
    public Calibration run(List<Target> targets, Progress progress) {
        RunInput input = RunInput.ofPacket(Packet.udp(64).bytes());
        List<Probe> probes = probes();
        int total = targets.size() * (probes.size() + 1);
        int done = 0;
        unmeasured.clear();
        Map<String, CostModel> models = new LinkedHashMap<>();
        for (Target t : targets) {
            Availability a = t.availability();
            if (!a.available()) {
                done += probes.size() + 1;
                continue;
            }
            progress.update(done++, total, t.id() + " floor");
            Program floor = BenchRunner.floorProgram();
            double perRun = measure(t, floor, floor, input);
            EnumMap<CostClass, Double> classes = new EnumMap<>(CostClass.class);
            Map<String, Double> helpers = new TreeMap<>();
            for (Probe p : probes) {
                progress.update(done++, total, t.id() + " " + p.key());
                double delta;
                try {
                    delta = measure(t, p.program(0), p.program(p.times()), input);
                } catch (RuntimeException e) {
                    // the target cannot run this probe (a helper it lacks): its default stands, and the
                    // report says so
                    unmeasured.add(t.id() + " " + p.key() + ": " + e.getMessage());
                    continue;
                }
                double alu = classes.getOrDefault(CostClass.ALU, 0.0);
                double perRep = delta / p.times() - p.setupAlu() * alu;
                if (p.key().equals("181")) {
                    perRep -= classes.getOrDefault(CostClass.CALL, 0.0); // the callback's exit, priced as a call
                }
                double unit = Math.max(0, perRep / p.per());
                if (isClass(p.key())) {
                    classes.put(CostClass.valueOf(p.key().toUpperCase(java.util.Locale.ROOT)), unit);
                } else {
                    helpers.put(p.key(), unit);
                    if (p.key().equals("131:ringbuf")) {
                        helpers.put("132", unit);
                        helpers.put("133", unit);
                    }
                }
            }
            // A helper without a probe of its own costs what the plainest call does (bpf_get_prandom_u32:
            // no arguments, no map), the price of crossing into the helper runtime on this target.
            double helperDefault = helpers.containsKey("7") ? helpers.get("7")
                    : helpers.isEmpty() ? CostModel.uncalibrated(t.id()).helperDefaultNs()
                    : median(helpers.values().stream().mapToDouble(Double::doubleValue).toArray());
            models.put(t.id(), new CostModel(t.id(), perRun, classes, helpers, helperDefault));
        }
        progress.update(total, total, "done");
        return new Calibration(null, host(), OffsetDateTime.now().truncatedTo(ChronoUnit.SECONDS).toString(), models);
    }

    /** {@return the probes the last {@link #run} could not measure, as "target key: why"; their defaults stood} */
    public List<String> unmeasured() {
        return List.copyOf(unmeasured);
    }

    private static boolean isClass(String key) {
        return Arrays.stream(CostClass.values()).anyMatch(c -> c.id().equals(key));
    }

    /** {@return time of {@code with} - time of {@code without}; for the same program, its time} */
    private double measure(Target t, Program without, Program with, RunInput input) {
        double[] r = measurePair(t, without, with, input);
        return without == with ? r[0] : r[1] - r[0];
    }

    /** {@return the least ns per run of {@code a} and {@code b} over batches run in turn} */
    private double[] measurePair(Target t, Program a, Program b, RunInput input) {
        try (Executable ea = t.load(List.of(a)); Executable eb = t.load(List.of(b))) {
            ea.run(input);
            eb.run(input);
            Batch ba = warm(ea, input);
            Batch bb = warm(eb, input);
            // The least of the interleaved batches: on a shared machine every disturbance (another
            // process, a collection, a frequency change) only adds time, so the minimum is the
            // estimate of the program's own cost that the fewest outliers move.
            double ma = Double.MAX_VALUE;
            double mb = Double.MAX_VALUE;
            for (int i = 0; i < ROUNDS; i++) {
                ma = Math.min(ma, ba.perRun(ea, input));
                mb = Math.min(mb, bb.perRun(eb, input));
            }
            return new double[] {ma, mb};
        }
    }

    /**
     * How one executable is timed: {@code repeat} runs a call, less the {@code fixedNs} a call
     * costs whatever its repeat (preparing the input, a kernel timer's extra system calls: up to
     * milliseconds, which in a batch sized on the wall clock can be most of it).
     */
    private record Batch(int repeat, double fixedNs) {
        double perRun(Executable exe, RunInput input) {
            return Math.max(0, cpuNanos(exe, input, repeat) - fixedNs) / repeat;
        }
    }

    /**
     * {@return the thread CPU time of one {@code nanosPerRun} call}: unlike the wall clock, it stops
     * while the scheduler runs something else, so a calibration on a busy machine measures the
     * program and not its neighbours. Every target here runs its program on the calling thread (a
     * native call, the emulator, the interpreter, or the kernel's test run in the thread's system
     * time); a target that runs elsewhere is timed on the wall clock.
     */
    private static double cpuNanos(Executable exe, RunInput input, int repeat) {
        if (!exe.runsOnCallingThread()) { // a device or another process: only the wall clock sees it
            long w0 = System.nanoTime();
            exe.nanosPerRun(input, repeat);
            return System.nanoTime() - w0;
        }
        long t0 = THREADS.getCurrentThreadCpuTime();
        exe.nanosPerRun(input, repeat);
        return THREADS.getCurrentThreadCpuTime() - t0;
    }

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    /**
     * Runs {@code exe} for the warm-up time; {@return the batch}: the fixed cost of a call is the
     * least time of a call of one run, and the repeat doubles until a call lasts the batch length
     * and at least 20 times that fixed cost.
     */
    private Batch warm(Executable exe, RunInput input) {
        long deadline = System.nanoTime() + warmupMillis * 1_000_000L;
        double fixed = Double.MAX_VALUE;
        int n = 16;
        do {
            fixed = Math.min(fixed, cpuNanos(exe, input, 1));
            double t = cpuNanos(exe, input, n);
            if ((t < batchMillis * 1_000_000.0 || t < 20 * fixed) && n < BenchOptions.MAX_REPEAT / 2) {
                n *= 2;
            }
        } while (System.nanoTime() < deadline);
        for (int i = 0; i < 3; i++) {
            fixed = Math.min(fixed, cpuNanos(exe, input, 1));
        }
        return new Batch(n, fixed);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static String host() {
        String name;
        try {
            name = InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            name = "unknown host";
        }
        return name + ", " + System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors() + " cpus, Java "
                + Runtime.version().feature() + loadNote();
    }

    /** {@return ", load L" with the one-minute load average when the system tells it, else ""} */
    static String loadNote() {
        double load = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        return load < 0 ? "" : String.format(java.util.Locale.ROOT, ", load %.1f", load);
    }

    /** {@return a warning when the machine is busier than its processors, else null} */
    public static String busyWarning() {
        double load = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        int cpus = Runtime.getRuntime().availableProcessors();
        return load > cpus ? String.format(java.util.Locale.ROOT, "warning: the load average is %.1f on %d cpus: other"
                + " work shares the cores and caches, so the costs measured now are high; calibrate on an idle machine",
                load, cpus) : null;
    }
}
