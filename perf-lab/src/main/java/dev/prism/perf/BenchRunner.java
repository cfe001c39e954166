package dev.prism.perf;

import dev.prism.asm.Assembler;
import dev.prism.conformance.linux.LinuxTarget;
import dev.prism.conformance.linux.ProgLoadTimer;
import dev.prism.conformance.linux.TestRunTimer;
import dev.prism.conformance.linux.TimedTestRun;
import dev.prism.error.TargetException;
import dev.prism.error.TrapException;
import dev.prism.error.VerificationException;
import dev.prism.perf.BenchResult.Compile;
import dev.prism.perf.BenchResult.Conditions;
import dev.prism.perf.BenchResult.KernelClocks;
import dev.prism.perf.BenchResult.Floor;
import dev.prism.perf.BenchResult.Host;
import dev.prism.perf.BenchResult.Measurement;
import dev.prism.perf.BenchResult.PacketInfo;
import dev.prism.perf.BenchResult.ProgramResult;
import dev.prism.perf.BenchResult.Run;
import dev.prism.perf.BenchResult.Settings;
import dev.prism.perf.BenchResult.Status;
import dev.prism.perf.BenchResult.TargetInfo;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.sys.LinuxBpf;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.Target;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Runs every program on every packet and target in one process and one sitting, so that the
 * numbers can be set side by side (DESIGN.md: performance claims come from benchmarks compared in
 * one run with the Linux kernel JIT).
 *
 * <p>Per target, the floor program and every program are loaded once, run once, warmed up and
 * calibrated on every packet ({@link #prepare}); then the measured rounds interleave the
 * targets, one batch of every program and packet of every target per round
 * ({@link #measureRounds}), so that every target is measured in the same windows of time;
 * then each program's compile time is measured per target (the JVM is warm by then). A batch is
 * one {@link Executable#nanosPerRun} call, so each target times itself the way it best can (the
 * kernel with its own test-run loop).
 *
 * <p>A target that cannot run on this host, or refuses a program, costs one cell saying why; the
 * run goes on. Not thread-safe; targets are used from the calling thread only.
 */
public final class BenchRunner {
    /** What the floor runs: the least an XDP program can do. */
    public static final String FLOOR_SOURCE = "mov %r0, 2\nexit\n";
    /** A calibration probe stops growing once a call lasts this long. */
    private static final long PROBE_NS = 2_000_000L;
    /** Runs in a cell's first warm-up batch; it doubles from there (see {@link #warmUp}). */
    private static final int WARMUP_REPEAT = 16;
    /** Progress steps of a cell besides its batches: the first run, the warm-up, the calibration. */
    private static final int STEPS_PER_CELL_BEFORE_BATCHES = 3;

    /**
     * Told as the run goes: {@code done} of {@code total} steps (a cell's first run, warm-up,
     * calibration and each batch; a program's compile timing), working on {@code label}. Long
     * steps without progress (warm-up rounds) repeat the count with a new label.
     */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (done, total, label) -> { };

        void update(int done, int total, String label);
    }

    private final BenchOptions options;
    private Progress progress = Progress.NONE;
    /** Compile timing's warm-up: a block timed as one, the shortest warm-up, the longest (a JVM that never settles). */
    static final long STEADY_BLOCK_MILLIS = 250;
    static final long STEADY_MIN_MILLIS = 1_000;
    static final long STEADY_MAX_MILLIS = 15_000;
    private int done;
    private int total;
    private boolean verifierWarm;

    public BenchRunner(BenchOptions options) {
        this.options = Objects.requireNonNull(options);
    }

    private int batch = 1;
    private Integer pin;
    private Clock clock = Clock.CPU;

    /** The clock of the reported times, floors and ratios; both are measured. */
    public enum Clock {
        /**
         * The measuring thread's CPU time (CLOCK_THREAD_CPUTIME_ID through ThreadMXBean): what
         * the thread ran, user and kernel, without the time it waited for a CPU on a busy
         * machine, like the kernel's own test-run timer.
         */
        CPU,
        /** System.nanoTime: everything, the time other processes held the CPU included. */
        WALL;

        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** {@return this runner, reporting times, floors and ratios on {@code c}} */
    public BenchRunner clock(Clock c) {
        this.clock = Objects.requireNonNull(c);
        return this;
    }

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    /** {@return the calling thread's CPU time in ns, or -1 when the JVM cannot read it} */
    static long threadCpuNanos() {
        return THREADS.isCurrentThreadCpuTimeSupported() && THREADS.isThreadCpuTimeEnabled()
                ? THREADS.getCurrentThreadCpuTime() : -1;
    }

    /**
     * {@return this runner, measuring with the calling thread pinned to {@code cpu}} (its affinity
     * is restored afterwards); a kernel test run executes on the caller's CPU, so every target
     * then runs there
     */
    public BenchRunner pin(int cpu) {
        if (cpu < 0) {
            throw new IllegalArgumentException("--pin takes a CPU number, not " + cpu);
        }
        this.pin = cpu;
        return this;
    }

    /** {@return how each kind of target is timed, as the reports say it} */
    static List<String> timing(Clock clock) {
        return List.of(
                "linux: BPF_PROG_TEST_RUN with the batch's repeat, timed around the system call, less the fixed cost of "
                        + "a call (the median of " + TestRunTimer.SMALL_CALLS + " calls with repeat " + TestRunTimer.SMALL_REPEAT
                        + "), on the wall clock and in thread CPU time; the kernel's own duration (whole ns) beside them",
                "Prism targets: the target's own loop of runs on one prepared input, on the wall clock inside the "
                        + "loop and in thread CPU time around it",
                NativeBaseline.TIMING,
                "times, floors and ratios use " + (clock == Clock.CPU
                        ? "thread CPU time (--clock cpu), which leaves out the time the thread waited for a CPU, for"
                        + " every target whose runs happen on the measuring thread (a GPU or OpenCL device, P4's switch"
                        + " and csd's engines are on the wall clock)"
                        : "the wall clock (--clock wall) for every target") + "; the other clock is beside them");
    }

    /**
     * {@return this runner, running {@code n} inputs per {@link Executable#run(List)} call}:
     * ns/run stays per input (a batch device's time per packet when it takes many at once)
     */
    public BenchRunner batch(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("batch must be at least 1, not " + n);
        }
        this.batch = n;
        return this;
    }

    /**
     * An executable timed in batches: {@link #nanosPerRun} makes ceil(repeat / n) calls of
     * {@link Executable#run(List)} with n copies of the input, and divides by the inputs run.
     */
    static final class Batched implements Executable {
        private final Executable exe;
        private final int n;

        Batched(Executable exe, int n) {
            this.exe = exe;
            this.n = n;
        }

        @Override
        public dev.prism.target.RunResult run(RunInput input) {
            return exe.run(input);
        }

        @Override
        public boolean runsOnCallingThread() {
            return exe.runsOnCallingThread();
        }

        @Override
        public List<dev.prism.target.RunResult> run(List<RunInput> inputs) {
            return exe.run(inputs);
        }

        @Override
        public double nanosPerRun(RunInput input, int repeat) {
            if (repeat <= 0) {
                throw new IllegalArgumentException("repeat must be positive, was " + repeat);
            }
            List<RunInput> inputs = java.util.Collections.nCopies(n, input);
            int calls = (repeat + n - 1) / n;
            long t0 = System.nanoTime();
            for (int i = 0; i < calls; i++) {
                exe.run(inputs);
            }
            return (System.nanoTime() - t0) / ((double) calls * n);
        }

        @Override
        public dev.prism.target.MapAccess maps() {
            return exe.maps();
        }

        @Override
        public void close() {
            exe.close();
        }
    }

    /** {@return the floor program: {@code r0 = XDP_PASS; exit}} */
    public static Program floorProgram() {
        return Assembler.assemble("xdp_pass", ProgramType.XDP, FLOOR_SOURCE);
    }

    /**
     * {@return every program on every packet and target, with floors, compile times, ratios and
     * geometric means}
     *
     * @param targets the targets in report order; unavailable ones are reported, not measured
     */
    public BenchResult run(List<Workload> workloads, List<Target> targets, List<Packet> packets, Progress listener) {
        if (pin == null) {
            return measure(workloads, targets, packets, listener);
        }
        try {
            return LinuxBpf.onCpu(pin, () -> measure(workloads, targets, packets, listener));
        } catch (dev.prism.error.TargetException e) {
            throw new IllegalArgumentException("cannot pin to CPU " + pin + ": " + e.getMessage(), e);
        }
    }

    private BenchResult measure(List<Workload> workloads, List<Target> targets, List<Packet> packets, Progress listener) {
        if (clock == Clock.CPU && threadCpuNanos() < 0) {
            throw new IllegalStateException("this JVM cannot read thread CPU time: use the wall clock (--clock wall)");
        }
        Conditions conditions = BenchConditions.read(pin, timing(clock));
        if (workloads.isEmpty() || targets.isEmpty() || packets.isEmpty()) {
            throw new IllegalArgumentException("a comparison needs programs, targets and packets");
        }
        if (workloads.stream().map(Workload::name).distinct().count() < workloads.size()) {
            throw new IllegalArgumentException("two programs share a name: " + workloads.stream().map(Workload::name).toList());
        }
        this.progress = listener == null ? Progress.NONE : listener;
        this.done = 0;
        this.verifierWarm = false;
        int cells = (workloads.size() + 1) * packets.size();
        this.total = targets.size() * (cells * (STEPS_PER_CELL_BEFORE_BATCHES + options.batches()) + workloads.size());
        Host host = host();
        List<TargetInfo> infos = new ArrayList<>();
        List<Floor> floors = new ArrayList<>();
        Map<String, List<Run>> runs = new LinkedHashMap<>();
        Map<String, List<Compile>> compiles = new LinkedHashMap<>();
        List<Workload> all = new ArrayList<>();
        Workload floor = Workload.of(floorProgram());
        for (Target t : targets) {
            if (t instanceof NativeBaseline n && t.availability().available()) {
                floor = floor.withCSource(n.floorSource());
            }
        }
        all.add(floor);
        all.addAll(workloads);
        List<Prepared> prepared = new ArrayList<>();
        try {
            for (Target target : targets) {
                Availability a = target.availability();
                infos.add(new TargetInfo(target.id(), target.description(), a.available(), a.reason()));
                Prepared p = new Prepared(target, a);
                prepared.add(p); // before it loads anything, so that the finally below closes what it loaded
                prepare(p, all, packets);
            }
            measureRounds(prepared, all);
        } finally {
            prepared.forEach(Prepared::close);
        }
        for (Prepared p : prepared) {
            Target target = p.target;
            for (Cell c : p.cells) {
                if (c.workload() == 0) {
                    floors.add(new Floor(target.id(), c.packet().label(), c.result()));
                } else {
                    runs.computeIfAbsent(all.get(c.workload()).name(), k -> new ArrayList<>())
                            .add(Run.of(target.id(), c.packet().label(), c.result()));
                }
            }
            if (p.availability.available() && !(target instanceof LinuxTarget) && !(target instanceof NativeBaseline)
                    && !verifierWarm) {
                warmVerifier(workloads);
                verifierWarm = true;
            }
            for (Workload w : workloads) {
                compiles.computeIfAbsent(w.name(), k -> new ArrayList<>()).add(compileTime(target, p.availability, w));
                step(target.id() + " compile " + w.name());
            }
        }
        List<ProgramResult> programs = new ArrayList<>();
        for (Workload w : workloads) {
            programs.add(new ProgramResult(w.name(), w.instructions(), w.programs().size(),
                    runs.getOrDefault(w.name(), List.of()), compiles.getOrDefault(w.name(), List.of())));
        }
        Settings settings = new Settings(options.repeat(), options.batchMillis(), options.batches(), options.warmupMillis(),
                options.compileRepeat(), options.baseline(), Ratios.EPSILON_NS,
                String.join("; ", FLOOR_SOURCE.strip().split("\n")), clock.id());
        List<PacketInfo> packetInfos = packets.stream().map(p -> new PacketInfo(p.label(), p.size())).toList();
        return Comparison.derive(new BenchResult(host, settings, infos, packetInfos, floors, programs, List.of(),
                conditions.withLoadAfter(BenchConditions.loadNow())));
    }

    /**
     * One program (index into the workloads, 0 the floor) on one packet, while it is measured:
     * its input, the first run's action, runs per batch, the batches so far, or why it stopped.
     */
    private static final class Cell {
        private final int workload;
        private final Packet packet;
        private final RunInput input;
        private Executable exe;
        private String action;
        private int repeat;
        private final double[] wall;
        private final double[] cpu;
        /** linux: each batch's {@link TestRunTimer.Timing}; null elsewhere */
        private final TestRunTimer.Timing[] timings;
        private Measurement failed;
        private Clock clock;

        Cell(int workload, Packet packet, int batches) {
            this.workload = workload;
            this.packet = packet;
            this.input = RunInput.ofPacket(packet.bytes());
            this.wall = new double[batches];
            this.cpu = new double[batches];
            this.timings = new TestRunTimer.Timing[batches];
        }

        /**
         * Measures batch {@code k} on both clocks: the kernel with its timer
         * ({@link TimedTestRun}), the others with their own loop on the wall clock and the
         * thread's CPU time around it (the input's preparation, once per batch, is in it).
         */
        void measure(int k) {
            if (exe instanceof TimedTestRun kernel) {
                timings[k] = kernel.timeRuns(input, repeat);
                wall[k] = timings[k].wallNs();
                cpu[k] = timings[k].cpuNs();
            } else {
                long cpu0 = threadCpuNanos();
                wall[k] = exe.nanosPerRun(input, repeat);
                long cpu1 = threadCpuNanos();
                cpu[k] = cpu0 < 0 || cpu1 < 0 ? Double.NaN : (cpu1 - cpu0) / (double) repeat;
            }
        }

        int workload() {
            return workload;
        }

        Packet packet() {
            return packet;
        }

        boolean live() {
            return failed == null;
        }

        Measurement result() {
            if (failed != null) {
                return failed;
            }
            Stats wallNs = Stats.of(wall);
            Stats cpuNs = finite(cpu);
            Stats ns = clock == Clock.CPU && cpuNs != null && (exe == null || exe.runsOnCallingThread()) ? cpuNs : wallNs;
            KernelClocks linux = timings[0] == null ? null : new KernelClocks(
                    finite(column(TestRunTimer.Timing::kernelNs)), finite(column(TestRunTimer.Timing::fixedWallNs)),
                    finite(column(TestRunTimer.Timing::fixedCpuNs)));
            return Measurement.ok(action, repeat, ns, wallNs, cpuNs, linux);
        }

        private double[] column(java.util.function.ToDoubleFunction<TestRunTimer.Timing> f) {
            return java.util.Arrays.stream(timings).mapToDouble(f).toArray();
        }

        /** {@return the statistics of {@code v}, or null where a value could not be read (NaN)} */
        private static Stats finite(double[] v) {
            return java.util.Arrays.stream(v).allMatch(Double::isFinite) ? Stats.of(v) : null;
        }
    }

    /**
     * One target while it is measured: its cells (every workload on every packet) and the
     * executables they run, open from {@link #prepare} until the measured rounds are over.
     */
    private static final class Prepared {
        private final Target target;
        private final Availability availability;
        private final List<Cell> cells = new ArrayList<>();
        /** what was loaded, unwrapped, to be closed */
        private final List<Executable> loaded = new ArrayList<>();

        Prepared(Target target, Availability availability) {
            this.target = target;
            this.availability = availability;
        }

        /** Closes every executable; a failure to free is not the program's, and the measurements stand. */
        void close() {
            for (Executable exe : loaded) {
                try {
                    exe.close();
                } catch (RuntimeException e) {
                    // the measurements stand
                }
            }
            loaded.clear();
        }
    }

    /**
     * Makes every workload on every packet on {@code p}'s target ready to measure, in three
     * phases over all its cells:
     * <ol>
     *   <li>every workload is loaded, and each cell runs once: its XDP action (a trap or a
     *       refusal ends the cell here);</li>
     *   <li>warm-up: rounds of one short batch per cell, until {@code warmupMillis} have passed
     *       (at least one round), so that the JVM has compiled the target's hot paths before
     *       anything is calibrated or counted;</li>
     *   <li>calibration of runs per batch, now that the runs are as fast as they will get.</li>
     * </ol>
     * The executables stay open for {@link #measureRounds}. An unavailable target's cells say
     * why, and its steps, its batches' included, are done here.
     */
    private void prepare(Prepared p, List<Workload> all, List<Packet> packets) {
        Target target = p.target;
        List<Cell> cells = p.cells;
        for (int w = 0; w < all.size(); w++) {
            for (Packet packet : packets) {
                Cell c = new Cell(w, packet, options.batches());
                c.clock = clock;
                cells.add(c);
            }
        }
        if (!p.availability.available()) {
            cells.forEach(c -> c.failed = Measurement.notOk(Status.UNAVAILABLE, p.availability.reason()));
            skip(cells.size() * STEPS_PER_CELL_BEFORE_BATCHES + cells.size() * options.batches(), target.id() + " unavailable");
            return;
        }
        for (int w = 0; w < all.size(); w++) {
            Executable exe = null;
            Measurement failed = null;
            try {
                exe = all.get(w).load(target);
                p.loaded.add(exe);
                exe = batch > 1 ? new Batched(exe, batch) : exe;
            } catch (RuntimeException e) {
                failed = failure(e);
            }
            for (Cell c : cells) {
                if (c.workload == w) {
                    c.exe = exe;
                    c.failed = failed;
                }
            }
        }
        for (Cell c : cells) {
            if (c.live()) {
                attempt(c, () -> {
                    c.action = c.exe.run(c.input).xdpAction();
                    c.repeat = WARMUP_REPEAT;
                });
            }
            step(label(target, all, c, "first run"));
        }
        warmUp(target, all, cells);
        for (Cell c : cells) {
            if (c.live()) {
                attempt(c, () -> c.repeat = options.repeat() > 0 ? options.repeat() : calibrate(c.exe, c.input));
            }
            step(label(target, all, c, "calibrate"));
        }
    }

    /**
     * The measured rounds, across every available target: round r is one batch of every live
     * cell of every target, the targets taken in turn from target r mod n (n available
     * targets), so that none always runs right after another. Within a target the cells go in
     * their order, the floor amid its programs. Every target's batch k is thus measured in the
     * same window of time as the others' batch k: a machine whose speed drifts over seconds
     * (another process, a frequency change, a noisy neighbour VM) moves every target alike
     * rather than the one that happened to be measured then, and the ratios compare like
     * with like.
     */
    private void measureRounds(List<Prepared> prepared, List<Workload> all) {
        List<Prepared> available = prepared.stream().filter(p -> p.availability.available()).toList();
        for (int round = 0; round < options.batches(); round++) {
            int k = round;
            for (int i = 0; i < available.size(); i++) {
                Prepared p = available.get((round + i) % available.size());
                for (Cell c : p.cells) {
                    if (c.live()) {
                        attempt(c, () -> c.measure(k));
                    }
                    step(label(p.target, all, c, "batch " + (k + 1) + "/" + options.batches()));
                }
            }
        }
    }

    /**
     * Runs rounds of every live cell until {@code warmupMillis} have passed, at least one. A
     * cell's warm-up batch grows while it is shorter than a tenth of a measured batch, so that a
     * slow program does not take the whole warm-up and a fast one is still run many times.
     */
    private void warmUp(Target target, List<Workload> all, List<Cell> cells) {
        long deadline = System.nanoTime() + options.warmupMillis() * 1_000_000L;
        long enough = options.batchMillis() * 100_000L;
        int round = 0;
        do {
            round++;
            for (Cell c : cells) {
                if (c.live()) {
                    attempt(c, () -> {
                        long t0 = System.nanoTime();
                        c.exe.nanosPerRun(c.input, c.repeat);
                        if (System.nanoTime() - t0 < enough && c.repeat < BenchOptions.MAX_REPEAT / 2) {
                            c.repeat *= 2;
                        }
                    });
                }
            }
            note(target.id() + " warm-up round " + round);
        } while (System.nanoTime() < deadline && cells.stream().anyMatch(Cell::live));
        skip(cells.size(), target.id() + " warm-up done");
    }

    /** Runs {@code action} for {@code c}; a failure ends the cell with the reason. */
    private static void attempt(Cell c, Runnable action) {
        try {
            action.run();
        } catch (RuntimeException e) {
            c.failed = failure(e);
        }
    }

    private static String label(Target target, List<Workload> all, Cell c, String phase) {
        return target.id() + " " + all.get(c.workload).name() + " " + c.packet.label() + " " + phase;
    }

    /**
     * {@return runs per batch so that a batch lasts about {@code batchMillis}}: probes with 1, 8,
     * 64, ... runs until a call lasts {@value #PROBE_NS} ns, then scales. The probes double as
     * warm-up. A call is timed whole (a kernel run with its system calls, which only makes its
     * batches a little shorter), in thread CPU time where the JVM reads it: on a busy machine a
     * probe that waited for a CPU would look long on the wall clock and leave the cell with
     * batches of a few runs, in which the fixed cost of a kernel call is most of the time.
     */
    private int calibrate(Executable exe, RunInput input) {
        long n = 1;
        while (true) {
            long dt = timeCall(exe, input, (int) n);
            if (dt >= PROBE_NS || n >= BenchOptions.MAX_REPEAT) {
                dt = Math.min(dt, timeCall(exe, input, (int) n)); // once more, keeping the faster
                double perRun = (double) dt / n;
                long want = (long) (options.batchMillis() * 1_000_000.0 / perRun);
                return Math.clamp(want, 1, BenchOptions.MAX_REPEAT);
            }
            n = Math.min(n * 8, BenchOptions.MAX_REPEAT);
        }
    }

    /** {@return the nanoseconds of one {@code nanosPerRun} call: thread CPU time, else the wall clock} */
    private static long timeCall(Executable exe, RunInput input, int n) {
        long cpu0 = threadCpuNanos();
        long t0 = System.nanoTime();
        exe.nanosPerRun(input, n);
        long wall = System.nanoTime() - t0;
        long cpu1 = threadCpuNanos();
        return Math.max(cpu0 < 0 || cpu1 < 0 ? wall : cpu1 - cpu0, 1);
    }

    /**
     * {@return how long {@code target} takes to accept {@code w}}: for linux the BPF_PROG_LOAD
     * system call ({@link ProgLoadTimer}); for the others the pipeline of the Target SPI, timed
     * step by step: Prism's verifier on every program, {@link Target#compile} of each proof (the
     * JIT), and {@link dev.prism.target.Artifact#load} of the entry (executable memory, maps).
     * Closing is not timed.
     */
    private Compile compileTime(Target target, Availability a, Workload w) {
        if (!a.available()) {
            return new Compile(target.id(), what(target), Status.UNAVAILABLE, a.reason(), null, null);
        }
        int n = options.compileRepeat();
        if (target instanceof NativeBaseline nb) {
            return nb.buildNanos(w)
                    .map(ns -> new Compile(target.id(), what(target), Status.OK, null, null, Stats.of(ns)))
                    .orElseGet(() -> new Compile(target.id(), what(target), Status.NOT_SUPPORTED,
                            "not built (no C source, or the load failed)", null, null));
        }
        try {
            if (target instanceof LinuxTarget) {
                long[] loads = ProgLoadTimer.nanosPerLoad(w.programs(), n, n);
                return new Compile(target.id(), what(target), Status.OK, null, null, Stats.of(loads));
            }
            long[] verify = new long[n];
            long[] totals = new long[n];
            steadyState(target, w, n);
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                List<VerifiedProgram> proofs = new ArrayList<>();
                for (Program p : w.programs()) {
                    proofs.add(Verifier.verify(p, Profile.RFC9669));
                }
                long t1 = System.nanoTime();
                List<Artifact> artifacts = new ArrayList<>();
                for (VerifiedProgram v : proofs) {
                    artifacts.add(target.compile(v));
                }
                Executable exe = artifacts.getFirst().load();
                long t2 = System.nanoTime();
                exe.close();
                verify[i] = t1 - t0;
                totals[i] = t2 - t0;
            }
            return new Compile(target.id(), what(target), Status.OK, null, Stats.of(verify), Stats.of(totals));
        } catch (RuntimeException e) {
            Measurement m = failure(e);
            return new Compile(target.id(), what(target), m.status(), m.reason(), null, null);
        }
    }

    /**
     * Compiles {@code w} until the JVM has compiled the verifier and the JIT for it: in blocks of
     * at least {@link #STEADY_BLOCK_MILLIS} (and {@code n} rounds), for at least the warm-up time
     * (and {@link #STEADY_MIN_MILLIS}), until two blocks in a row have medians no more than 3%
     * below the best median before them (steady state), at most {@link #STEADY_MAX_MILLIS}. A fixed half second was not
     * enough: C2 was still compiling the verifier, and the times were twice the steady ones.
     */
    private void steadyState(Target target, Workload w, int n) {
        long start = System.nanoTime();
        double best = Double.MAX_VALUE;
        int steadyBlocks = 0;
        long minMillis = Math.max(STEADY_MIN_MILLIS, options.warmupMillis());
        List<Long> block = new ArrayList<>();
        while (true) {
            block.clear();
            long blockEnd = System.nanoTime() + STEADY_BLOCK_MILLIS * 1_000_000L;
            while (block.size() < n || System.nanoTime() < blockEnd) {
                long t0 = System.nanoTime();
                for (Program p : w.programs()) {
                    target.compile(Verifier.verify(p, Profile.RFC9669)).load().close();
                }
                block.add(System.nanoTime() - t0);
            }
            double median = Stats.of(block.stream().mapToLong(Long::longValue).toArray()).median();
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            steadyBlocks = median >= best * 0.97 ? steadyBlocks + 1 : 0;
            best = Math.min(best, median);
            if (elapsedMillis >= STEADY_MAX_MILLIS || (steadyBlocks >= 2 && elapsedMillis >= minMillis)) {
                return;
            }
            note("compile warm-up");
        }
    }

    /**
     * Runs the verifier over every program until {@code warmupMillis} have passed (at least once),
     * so that the first Prism target's compile times are those of a warm JVM, like the next
     * ones'. Programs the verifier refuses are left to {@link #compileTime} to report.
     */
    private void warmVerifier(List<Workload> workloads) {
        long deadline = System.nanoTime() + options.warmupMillis() * 1_000_000L;
        do {
            for (Workload w : workloads) {
                for (Program p : w.programs()) {
                    try {
                        Verifier.verify(p, Profile.RFC9669);
                    } catch (RuntimeException e) {
                        // reported with the compile times
                    }
                }
            }
            note("verifier warm-up");
        } while (System.nanoTime() < deadline);
    }

    private static String what(Target target) {
        if (target instanceof NativeBaseline) {
            return "clang -O2 -shared, one build";
        }
        return target instanceof LinuxTarget ? "BPF_PROG_LOAD" : "verify + compile + load";
    }

    /** {@return a cell for a failure}: a gap in the target is "not supported", anything else "failed" */
    static Measurement failure(RuntimeException e) {
        String message = e.getMessage() == null ? e.toString() : e.getMessage();
        return switch (e) {
            case TargetException t when t.isUnsupported() -> Measurement.notOk(Status.NOT_SUPPORTED, message);
            case TrapException t -> Measurement.notOk(Status.FAILED, "trap: " + message);
            case VerificationException v -> Measurement.notOk(Status.FAILED, "rejected by the verifier: " + message);
            default -> Measurement.notOk(Status.FAILED, firstLine(message));
        };
    }

    /** Kernel refusals carry the verifier log; a table cell takes its first line. */
    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private void step(String label) {
        done++;
        progress.update(done, total, label);
    }

    private void skip(int steps, String label) {
        done += steps;
        progress.update(done, total, label);
    }

    /** Says what is going on without a step done (the warm-up takes time, not steps). */
    private void note(String label) {
        progress.update(done, total, label);
    }

    static Host host() {
        String cpu = System.getProperty("os.arch");
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).strip();
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no /proc: the architecture will do
        }
        return new Host(cpu, Runtime.getRuntime().availableProcessors(),
                System.getProperty("os.name") + " " + System.getProperty("os.version"),
                "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")",
                OffsetDateTime.now().truncatedTo(ChronoUnit.SECONDS).toString());
    }
}
