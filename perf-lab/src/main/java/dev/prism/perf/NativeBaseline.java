package dev.prism.perf;

import dev.prism.error.TargetException;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.target.Executable;
import dev.prism.target.Target;
import dev.prism.verifier.VerifiedProgram;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The {@code native} baseline of {@code prism bench}: a program's C source compiled by clang
 * -O2 for this host into a shared object, loaded in-process and called through the FFM linker
 * with the same packet as the other targets ({@link NativeExecutable}). It is the physical limit
 * the JITs are measured against: the same C, without a verifier's constraints or a BPF JIT.
 *
 * <p>Why a {@link Target} and only in perf-lab: {@code prism bench} compares Targets, and this
 * one fits its every step (availability, per-cell failures, floors, compile time), but it does
 * not take BPF: it takes the C the BPF was built from, which a {@link VerifiedProgram} does not
 * carry. So it is not registered with the ServiceLoader ({@code prism targets}, conformance and
 * plan never see it), {@link #compile} refuses, and the bench loads it through
 * {@link Workload#load}, which hands over {@link Workload#cSource()}.
 *
 * <p>The build: {@code clang -O2 -fPIC -shared -I SHIM -I DIR/include}, where SHIM holds the
 * native {@code prism_bpf.h} (resource {@code native/prism_bpf.h}: maps as C tables, helpers in
 * C, a host-pointer {@code struct xdp_md}) that includes the examples' own header after it. No
 * {@code -march}: code for the host's baseline ISA, as a distribution would build it.
 */
public final class NativeBaseline implements Target {
    public static final String ID = "native";
    /** How the reports say it is timed. */
    static final String TIMING = "native: a loop of FFM calls into the clang -O2 build on one prepared frame, timed as the Prism targets";
    /** The environment variable that names the clang to use; else clang-19, then clang, on PATH. */
    public static final String CLANG_VARIABLE = "PRISM_CLANG";
    private static final long CLANG_TIMEOUT_SECONDS = 120;
    /** The floor in C: what BenchRunner.FLOOR_SOURCE is in BPF. */
    static final String FLOOR_C = "/* the floor of prism bench: r0 = XDP_PASS; exit */\n"
            + "struct xdp_md;\nconst char *prism_unsupported; /* what the shim defines: the loader checks for it */\n"
            + "int xdp_pass(struct xdp_md *ctx) { return 2; }\n";

    /** A build of one source: the shared object and how long clang took. */
    record Build(Path library, long nanos) {
    }

    private final Map<Path, Build> builds = new HashMap<>();
    private Path workDir;

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String description() {
        return "the program's C compiled by clang -O2 for this host, run in-process (a prism bench baseline, not a BPF target)";
    }

    @Override
    public Availability availability() {
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        if (!os.equals("Linux") || !(arch.equals("amd64") || arch.equals("aarch64"))) {
            return Availability.no("the native baseline builds for Linux on amd64 or aarch64, not " + os + " " + arch);
        }
        return clang().map(c -> Availability.yes(c + " -O2"))
                .orElseGet(() -> Availability.no("no clang: set " + CLANG_VARIABLE + " or put clang-19 on PATH"));
    }

    @Override
    public Capabilities capabilities() {
        return Capabilities.everything(java.util.Set.of());
    }

    /** Refuses: the baseline compiles C source, not BPF. */
    @Override
    public Artifact compile(VerifiedProgram program) {
        throw TargetException.unsupported("native baseline: it compiles the program's C source, not BPF; "
                + "prism bench finds the source next to the object");
    }

    /** Refuses: without the C source there is nothing to build ({@link #load(Workload)} has it). */
    @Override
    public Executable load(List<dev.prism.program.Program> programs) {
        throw TargetException.unsupported("native baseline: no C source for " + programs.getFirst().name());
    }

    /**
     * {@return {@code w}'s C source built and loaded}
     *
     * @throws TargetException "not supported" without a source or without the shim, a failure
     *                         when clang fails
     */
    public Executable load(Workload w) {
        if (w.cSource() == null) {
            throw TargetException.unsupported("native baseline: no C source found for " + w.name()
                    + " (looked for NAME.c next to the object and in its parent directory)");
        }
        return NativeExecutable.load(build(w.cSource()).library(), w.entry(), w.slots());
    }

    /** {@return how long clang took to build {@code w}, once; empty before it was built} */
    public Optional<Long> buildNanos(Workload w) {
        return Optional.ofNullable(w.cSource()).map(builds::get).map(Build::nanos);
    }

    /** {@return the source of {@code object}: X.c beside X.o, or in the parent of its directory (examples/build/X.o)} */
    public static Optional<Path> sourceOf(Path object) {
        String file = object.getFileName().toString();
        int dot = file.lastIndexOf('.');
        String c = (dot > 0 ? file.substring(0, dot) : file) + ".c";
        Path dir = object.toAbsolutePath().getParent();
        List<Path> candidates = new ArrayList<>();
        candidates.add(dir.resolve(c));
        if (dir.getParent() != null) {
            candidates.add(dir.getParent().resolve(c));
        }
        return candidates.stream().filter(Files::isRegularFile).findFirst();
    }

    /** {@return the floor program's C, written once into this baseline's work directory} */
    Path floorSource() {
        Path f = workDir().resolve("xdp_pass.c");
        if (!Files.exists(f)) {
            write(f, FLOOR_C.getBytes(StandardCharsets.UTF_8));
        }
        return f;
    }

    /** {@return the clang to use, or empty} */
    static Optional<String> clang() {
        String named = System.getenv(CLANG_VARIABLE);
        if (named != null && !named.isBlank()) {
            return Optional.of(named);
        }
        String path = System.getenv().getOrDefault("PATH", "");
        for (String tool : List.of("clang-19", "clang")) {
            for (String dir : path.split(java.io.File.pathSeparator)) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                    return Optional.of(tool);
                }
            }
        }
        return Optional.empty();
    }

    /** {@return {@code source} built into a shared object, once per source} */
    Build build(Path source) {
        Path key = source.toAbsolutePath().normalize();
        Build b = builds.get(key);
        if (b == null) {
            b = compileC(key);
            builds.put(key, b);
        }
        return b;
    }

    private Build compileC(Path source) {
        String clang = clang().orElseThrow(() -> new TargetException("native baseline: " + availability().reason()));
        Path dir = workDir();
        String stem = source.getFileName().toString().replaceAll("\\.c$", "");
        Path out = dir.resolve(stem + "-" + builds.size() + ".so");
        List<String> cmd = new ArrayList<>(List.of(clang, "-O2", "-fPIC", "-shared", "-I", dir.resolve("shim").toString()));
        Path include = source.getParent().resolve("include");
        if (Files.isDirectory(include)) {
            cmd.addAll(List.of("-I", include.toString()));
        }
        cmd.addAll(List.of("-o", out.toString(), source.toString()));
        long t0 = System.nanoTime();
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] log = p.getInputStream().readAllBytes();
            if (!p.waitFor(CLANG_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new TargetException("native baseline: " + clang + " took more than " + CLANG_TIMEOUT_SECONDS + " s on " + source);
            }
            long nanos = System.nanoTime() - t0;
            if (p.exitValue() != 0) {
                String first = new String(log, StandardCharsets.UTF_8).lines()
                        .filter(l -> l.contains("error")).findFirst().orElse("exit " + p.exitValue());
                throw new TargetException("native baseline: " + clang + " failed on " + source.getFileName() + ": " + first);
            }
            return new Build(out, nanos);
        } catch (IOException e) {
            throw new TargetException("native baseline: cannot run " + clang + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TargetException("native baseline: interrupted while " + clang + " ran", e);
        }
    }

    /** {@return the work directory, with the shim header in shim/; removed when the JVM exits} */
    private Path workDir() {
        if (workDir == null) {
            try {
                Path dir = Files.createTempDirectory("prism-native");
                Path shim = Files.createDirectories(dir.resolve("shim"));
                try (InputStream in = NativeBaseline.class.getResourceAsStream("native/prism_bpf.h")) {
                    if (in == null) {
                        throw new TargetException("native baseline: the shim header native/prism_bpf.h is missing from perf-lab");
                    }
                    write(shim.resolve("prism_bpf.h"), in.readAllBytes());
                }
                deleteOnExit(dir);
                workDir = dir;
            } catch (IOException e) {
                throw new TargetException("native baseline: cannot create a work directory: " + e.getMessage(), e);
            }
        }
        return workDir;
    }

    private static void write(Path f, byte[] bytes) {
        try {
            Files.write(f, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteOnExit(Path dir) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException | RuntimeException e) {
                // a temporary directory left behind
            }
        }));
    }

    @Override
    public String toString() {
        return ID.toLowerCase(Locale.ROOT);
    }
}
