package dev.prism.perf;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Everything one comparison measured and derived: the document the JSON report writes out and
 * the other reports render. Times are nanoseconds.
 *
 * @param host     where it ran
 * @param settings how it measured
 * @param targets  the targets compared, in the order asked for
 * @param packets  the input frames
 * @param floors   per target and packet: the XDP_PASS program's time
 * @param programs per program: every target and packet, and compile times
 * @param geomeans per target and packet: the geometric mean of the floor-corrected ratios
 * @param conditions what the machine was doing while it measured; null when not recorded
 */
public record BenchResult(Host host, Settings settings, List<TargetInfo> targets, List<PacketInfo> packets,
                          List<Floor> floors, List<ProgramResult> programs, List<Geomean> geomeans,
                          Conditions conditions) {
    public BenchResult {
        targets = List.copyOf(targets);
        packets = List.copyOf(packets);
        floors = List.copyOf(floors);
        programs = List.copyOf(programs);
        geomeans = List.copyOf(geomeans);
    }

    /** {@return a result without recorded conditions} */
    public BenchResult(Host host, Settings settings, List<TargetInfo> targets, List<PacketInfo> packets,
                       List<Floor> floors, List<ProgramResult> programs, List<Geomean> geomeans) {
        this(host, settings, targets, packets, floors, programs, geomeans, null);
    }

    /**
     * What the machine was doing, so that ratios can be judged on another machine.
     *
     * @param governors        the CPU frequency governors in use (scaling_governor of each CPU, distinct,
     *                         with their counts), or why they could not be read
     * @param cpusAllowed      the CPUs the measuring thread may run on (Cpus_allowed_list)
     * @param pinned           whether that is a single CPU
     * @param pinRequested     the CPU asked for with --pin, or null
     * @param bpfStatsEnabled  kernel.bpf_stats_enabled ("1" adds two clock reads per kernel run), or why unreadable
     * @param loadBefore       the 1, 5 and 15 minute load averages when the run started
     * @param loadAfter        the same when it ended
     * @param runnableAtStart  runnable / total scheduling entities (/proc/loadavg's fourth field) at the start
     * @param timing           how each kind of target was timed and which clock the ratios use
     */
    public record Conditions(String governors, String cpusAllowed, boolean pinned, Integer pinRequested,
                             String bpfStatsEnabled, String loadBefore, String loadAfter, String runnableAtStart,
                             List<String> timing) {
        public Conditions {
            timing = List.copyOf(timing);
        }

        /** {@return these conditions with the load average at the end of the run} */
        public Conditions withLoadAfter(String load) {
            return new Conditions(governors, cpusAllowed, pinned, pinRequested, bpfStatsEnabled, loadBefore, load,
                    runnableAtStart, timing);
        }
    }

    /** How a cell ended. */
    public enum Status {
        /** measured */
        OK,
        /** the target lacks a feature the program needs (TargetException.isUnsupported) */
        NOT_SUPPORTED,
        /** the target cannot run on this host (linux without root) */
        UNAVAILABLE,
        /** the target or the program failed: a trap, a kernel refusal, a rejection by the verifier */
        FAILED;

        /** {@return "ok", "not-supported", "unavailable" or "failed"} */
        @JsonValue
        public String id() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /** {@return a cell of this status as a table shows it: "not supported: ...", "unavailable: ...", "failed: ..."} */
        public String describe(String reason) {
            return switch (this) {
                case OK -> "ok";
                case NOT_SUPPORTED -> reason.contains("not supported") ? reason : "not supported: " + reason;
                case UNAVAILABLE -> "unavailable: " + reason;
                case FAILED -> "failed: " + reason;
            };
        }
    }

    /**
     * @param cpu    the CPU model (/proc/cpuinfo), or os.arch
     * @param cpus   available processors
     * @param kernel os.name and os.version
     * @param jvm    the Java runtime
     * @param date   when the run started, ISO 8601
     */
    public record Host(String cpu, int cpus, String kernel, String jvm, String date) {
    }

    /**
     * @param repeat        runs per batch, 0 when calibrated per cell (each measurement gives its own)
     * @param batchMillis   the calibrated length of a batch
     * @param batches       measured batches per cell
     * @param warmupMillis  the least warm-up per target
     * @param compileRepeat measured compilations per program and target
     * @param baseline      the target the ratios divide by
     * @param epsilonNs     the least floor-corrected time ({@link Ratios#EPSILON_NS})
     * @param floorProgram  what the floor runs
     * @param clock         the clock of every {@code ns} (times, floors, ratios): "cpu" (the measuring
     *                      thread's CPU time) or "wall"
     */
    public record Settings(int repeat, int batchMillis, int batches, int warmupMillis, int compileRepeat, String baseline,
                           double epsilonNs, String floorProgram, String clock) {
        public Settings(int repeat, int batchMillis, int batches, int warmupMillis, int compileRepeat, String baseline,
                        double epsilonNs, String floorProgram) {
            this(repeat, batchMillis, batches, warmupMillis, compileRepeat, baseline, epsilonNs, floorProgram, "wall");
        }
    }

    /** A target as this host sees it. */
    public record TargetInfo(String id, String description, boolean available, String reason) {
    }

    /** @param label how the tables name it; @param size its bytes */
    public record PacketInfo(String label, int size) {
    }

    /**
     * One target's time on one program and packet.
     *
     * @param status what happened
     * @param reason why it is not OK (the target's message), null when OK
     * @param action the XDP action of the first run (r0 by name), null when none ran
     * @param repeat runs per batch
     * @param ns     mean nanoseconds per run, one sample per batch, on the clock of
     *               {@link Settings#clock()}; null unless OK
     * @param wallNs the same batches on the wall clock; null when not measured apart
     * @param cpuNs  the same batches in the measuring thread's CPU time; null when not measured
     * @param linux  linux only: the kernel's own duration and the fixed cost of a call
     *               ({@link KernelClocks}); null otherwise
     */
    public record Measurement(Status status, String reason, String action, int repeat, Stats ns, Stats wallNs,
                              Stats cpuNs, KernelClocks linux) {
        public Measurement(Status status, String reason, String action, int repeat, Stats ns) {
            this(status, reason, action, repeat, ns, null, null, null);
        }

        public static Measurement ok(String action, int repeat, Stats ns) {
            return new Measurement(Status.OK, null, action, repeat, ns);
        }

        /** {@return a measurement on both clocks: {@code ns} is one of them, the one the ratios use} */
        public static Measurement ok(String action, int repeat, Stats ns, Stats wallNs, Stats cpuNs, KernelClocks linux) {
            return new Measurement(Status.OK, null, action, repeat, ns, wallNs, cpuNs, linux);
        }

        public static Measurement notOk(Status status, String reason) {
            if (status == Status.OK) {
                throw new IllegalArgumentException("an OK measurement has times");
            }
            return new Measurement(status, reason, null, 0, null);
        }

        public boolean ok() {
            return status == Status.OK;
        }

        /** {@return the reason as a table shows it ({@link Status#describe})} */
        public String describe() {
            return status.describe(reason);
        }
    }

    /**
     * What else the linux target's batches tell: {@code BPF_PROG_TEST_RUN} is timed around the
     * system call with a large repeat, less the fixed per-call cost measured with repeat 1
     * (conformance's TestRunTimer); the measurement's wall and CPU times are those per run.
     *
     * @param kernelNs    the kernel's own duration (whole ns per run), for comparison
     * @param fixedWallNs the fixed cost of one call on the wall clock
     * @param fixedCpuNs  the same in thread CPU time; null when unreadable
     */
    public record KernelClocks(Stats kernelNs, Stats fixedWallNs, Stats fixedCpuNs) {
    }

    /** The floor: a program that only returns XDP_PASS, on one target and packet. */
    public record Floor(String target, String packet, Measurement measurement) {
    }

    /**
     * One program on one target and packet.
     *
     * @param measurement the raw time
     * @param floorNs     the floor's median, when the floor was measured
     * @param correctedNs max(median - floor, epsilon), when both were measured
     * @param atFloor     whether the median is within epsilon of the floor (the ratio is then noise)
     * @param ratio       correctedNs / the baseline's correctedNs
     * @param rawRatio    median / the baseline's median, uncorrected, for reference
     * @param baselineAtFloor whether the baseline's median is within epsilon of its floor (the
     *                    ratio is then noise too)
     * @param pairedRatio the median over the measured rounds of the round's corrected time over
     *                    the baseline's in the same round, each corrected by its own target's
     *                    floor batch of that round ({@link Ratios#pairedRatio}); null when not
     *                    all four were measured in as many rounds
     */
    public record Run(String target, String packet, Measurement measurement, Double floorNs, Double correctedNs,
                      boolean atFloor, Double ratio, Double rawRatio, boolean baselineAtFloor, Double pairedRatio) {
        public static Run of(String target, String packet, Measurement m) {
            return new Run(target, packet, m, null, null, false, null, null, false, null);
        }
    }

    /**
     * How long one target takes to accept a program, on a warm JVM.
     *
     * @param what     what is timed: "verify + compile + load" (Prism: the verifier on every
     *                 program, Target.compile of each proof, the entry's load) or "BPF_PROG_LOAD"
     *                 (the kernel's verifier and JIT, the system call alone)
     * @param verifyNs Prism's verifier alone; null for linux
     * @param totalNs  everything {@code what} names
     */
    public record Compile(String target, String what, Status status, String reason, Stats verifyNs, Stats totalNs) {
        public boolean ok() {
            return status == Status.OK;
        }

        /** {@return the reason as a table shows it ({@link Status#describe})} */
        public String describe() {
            return status.describe(reason);
        }
    }

    /**
     * @param name         the program (file name without extension)
     * @param instructions instruction slots of all its programs
     * @param programs     programs loaded together (tail call targets included)
     */
    public record ProgramResult(String name, int instructions, int programs, List<Run> runs, List<Compile> compile) {
        public ProgramResult {
            runs = List.copyOf(runs);
            compile = List.copyOf(compile);
        }

        public Optional<Run> run(String target, String packet) {
            return runs.stream().filter(r -> r.target().equals(target) && r.packet().equals(packet)).findFirst();
        }

        public Optional<Compile> compile(String target) {
            return compile.stream().filter(c -> c.target().equals(target)).findFirst();
        }
    }

    /**
     * @param ratio    the geometric mean of the programs' floor-corrected ratios against the
     *                 baseline; null when no program has one
     * @param programs how many programs it covers
     */
    public record Geomean(String target, String packet, Double ratio, int programs) {
    }

    public Optional<Floor> floor(String target, String packet) {
        return floors.stream().filter(f -> f.target().equals(target) && f.packet().equals(packet)).findFirst();
    }

    public Optional<Geomean> geomean(String target, String packet) {
        return geomeans.stream().filter(g -> g.target().equals(target) && g.packet().equals(packet)).findFirst();
    }

    /** {@return whether the baseline is among the targets and was measured somewhere} */
    public boolean hasBaseline() {
        return geomeans.stream().anyMatch(g -> g.ratio() != null);
    }
}
