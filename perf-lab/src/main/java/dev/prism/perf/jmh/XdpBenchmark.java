package dev.prism.perf.jmh;

import dev.prism.elf.ElfObject;
import dev.prism.perf.BenchRunner;
import dev.prism.perf.Packet;
import dev.prism.perf.Workload;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Targets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link Executable#run} of an example program on a prepared packet, per target and packet
 * size: what one run costs a JVM caller, harness included (the packet copy, the context, the
 * result). {@code program=pass} is the floor, {@code r0 = XDP_PASS; exit}, as in
 * {@code prism bench}.
 *
 * <p>The objects are read from {@code examples/build} under the working directory, or from the
 * directory named by {@code -Dprism.examples=DIR} (build them with {@code make examples}). A
 * target that refuses a program fails that parameter combination in setup; JMH reports it and
 * goes on with the next (perf-lab/README.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xss4m"})
public class XdpBenchmark {
    @Param({"pass", "calls", "checksum", "firewall", "flow_counter", "loop", "parser", "rate_limiter", "ringbuf", "tailcall"})
    public String program;

    @Param({"interpreter", "x86-64"})
    public String target;

    @Param({"64", "1500"})
    public int packetSize;

    private Executable exe;
    private RunInput input;

    @Setup(Level.Trial)
    public void setUp() {
        Workload w = program.equals("pass") ? Workload.of(BenchRunner.floorProgram()) : example(program);
        exe = w.load(Targets.byId(target));
        input = RunInput.ofPacket(Packet.udp(packetSize).bytes());
        exe.run(input); // a trap or a refusal fails the trial here, not in the measurement
    }

    @Benchmark
    public RunResult run() {
        return exe.run(input);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (exe != null) {
            exe.close();
        }
    }

    /** {@return examples/build/NAME.o as a workload} */
    static Workload example(String name) {
        Path dir = Path.of(System.getProperty("prism.examples", "examples/build"));
        Path file = dir.resolve(name + ".o");
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("no " + file.toAbsolutePath() + ": run 'make examples' in the repository root, "
                    + "run the benchmarks from there, or pass -Dprism.examples=DIR");
        }
        return Workload.of(name, ElfObject.load(file));
    }
}
