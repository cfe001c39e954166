package dev.prism.conformance.arm64;

import dev.prism.arm64.A64Jit;
import dev.prism.arm64.A64Target;
import dev.prism.arm64.emu.A64Machine;
import dev.prism.asm.Assembler;
import dev.prism.conformance.CaseResult;
import dev.prism.conformance.ConformanceCase;
import dev.prism.conformance.ConformanceRunner;
import dev.prism.conformance.DataFileReader;
import dev.prism.conformance.ElfCompiler;
import dev.prism.conformance.Suites;
import dev.prism.conformance.examples.Examples;
import dev.prism.conformance.examples.PacketGenerator;
import dev.prism.elf.ElfObject;
import dev.prism.program.MapDef;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Environment;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.Availability;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import dev.prism.target.Targets;
import dev.prism.verifier.DifferentialFuzz;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The arm64 target's native mode checked end to end, run inside an arm64 JVM (on an x86-64 host:
 * Debian's arm64 OpenJDK under qemu-user, launched by {@link NativeArm64QemuTest}). Pure Java
 * from the class path: nothing here compiles C, so the host compiles the examples and the
 * {@code -- elf} cases of the suites and hands over the objects (the examples as arguments, the
 * suite objects through ElfCompiler's cache, {@code -Dprism.suite.objects}).
 *
 * <ol>
 *   <li>{@code Targets.byId("arm64")} must be available in native mode (its reason starts with
 *       "native"); otherwise exit 2 with {@code not native: REASON}.</li>
 *   <li>The RFC 9669 suite and the map suite on arm64, judged as RfcSuiteTest judges them.</li>
 *   <li>Every example object on arm64 and on the interpreter with the crafted packets and
 *       {@code --packets} random ones: r0 and the packet after every run, and every map's contents
 *       (ring buffers drained) every 64 packets and at the end, must be identical. Both sides get
 *       their own {@link Environment#deterministic} environment with the same start and seed, so
 *       timestamps and random numbers are compared byte for byte instead of being masked and
 *       no .rodata is rewritten (ExamplesDifferentialTest has to do both against the kernel).</li>
 *   <li>{@code --fuzz} accepted programs of the verifier's random-program generator on arm64 and
 *       the interpreter, as A64FuzzDifferentialTest does: code shapes LSE, LL/SC and far
 *       conditional branches in turn.</li>
 *   <li>{@code bpf_ktime_get_ns} in the host's environment, which native arm64 runs as generated
 *       code calling {@code clock_gettime} (A64NativeHelpers): every reading must lie between
 *       two System.nanoTime readings taken around the run.</li>
 * </ol>
 *
 * <p>One summary line per part ({@code summary: ...}), then {@code summary: PASS} or
 * {@code summary: FAIL}; exit 0 only when every part agrees, 1 otherwise, 3 when the
 * {@code --deadline-s} watchdog stopped the run. {@code --allow-emulated} (a debugging aid) skips
 * the native check, so the parts run on whatever mode arm64 has (emulated, or unavailable where
 * libunicorn is missing, which the suite then reports as failed cases).
 */
public final class NativeArm64Check {
    private static final HexFormat HEX = HexFormat.of();
    private static final int MAP_CHECK_EVERY = 64;
    /** Mismatches printed in full per part; the rest are counted. */
    private static final int DETAILS = 10;

    private NativeArm64Check() {
    }

    /** Command-line options; see {@link #usage()}. */
    private record Options(int fuzz, int packets, long seed, Map<String, Path> examples, List<String> parts,
                           boolean allowEmulated, long deadlineSeconds) {
    }

    /** Failures of one part: counted, the first {@link #DETAILS} printed. */
    private static final class Failures {
        private final String part;
        private int count;

        Failures(String part) {
            this.part = part;
        }

        void add(String message) {
            count++;
            if (count <= DETAILS) {
                System.out.println("FAIL [" + part + "] " + message);
            } else if (count == DETAILS + 1) {
                System.out.println("FAIL [" + part + "] ... more failures counted, not printed");
            }
            System.out.flush();
        }

        int count() {
            return count;
        }
    }

    private static volatile String running = "startup";

    public static void main(String[] args) {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("NativeArm64Check: " + e.getMessage());
            System.err.println(usage());
            System.exit(64);
            return;
        }
        long start = System.nanoTime();
        watchdog(o.deadlineSeconds(), start);
        Target arm64 = Targets.byId("arm64");
        Availability a = arm64.availability();
        System.out.println("summary: arm64 on " + System.getProperty("os.arch") + " (" + System.getProperty("java.vm.name") + " "
                + System.getProperty("java.version") + "): " + (a.available() ? "available, " : "unavailable, ") + a.reason());
        if (!a.available() || !a.reason().startsWith("native")) {
            if (!o.allowEmulated()) {
                System.out.println("not native: " + a.reason());
                System.exit(2);
            }
            System.out.println("--allow-emulated: running the parts on arm64 as it is");
        }
        int failures = 0;
        if (o.parts().contains("suite")) {
            failures += suites(arm64);
        }
        if (o.parts().contains("examples")) {
            failures += examples(o);
        }
        if (o.parts().contains("fuzz")) {
            failures += fuzz(o);
        }
        if (o.parts().contains("clock")) {
            failures += clock();
        }
        long ms = elapsedMs(start);
        System.out.println("summary: " + (failures == 0 ? "PASS" : "FAIL (" + failures + " failures)") + " in " + ms + " ms");
        System.out.flush();
        // exit, not return: the watchdog and any helper threads must not keep the JVM alive
        System.exit(failures == 0 ? 0 : 1);
    }

    private static String usage() {
        return """
                usage: NativeArm64Check [--parts suite,examples,fuzz,clock] [--fuzz N] [--packets N] [--seed N]
                                        [--example NAME=OBJECT.o]... [--deadline-s N] [--allow-emulated]
                  --fuzz N         accepted random programs on arm64 and the interpreter (default 300)
                  --packets N      random packets per example after its crafted ones (default 200)
                  --seed N         seed of the program generator (default A64FuzzDifferentialTest's)
                  --example N=O    an example's object, compiled on the host (repeat; none: part skipped)
                  --deadline-s N   stop with exit 3 after N seconds (default 900)
                  --allow-emulated debugging aid: run the parts even when arm64 is not native""";
    }

    private static Options parse(String[] args) {
        int fuzz = 300;
        int packets = 200;
        long seed = 5_2026_1125L;
        long deadline = 900;
        boolean allowEmulated = false;
        List<String> parts = List.of("suite", "examples", "fuzz", "clock");
        Map<String, Path> examples = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--allow-emulated")) {
                allowEmulated = true;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("unknown option or missing value: " + arg);
            }
            String v = args[++i];
            switch (arg) {
                case "--fuzz" -> fuzz = count(arg, v);
                case "--packets" -> packets = count(arg, v);
                case "--deadline-s" -> deadline = count(arg, v);
                case "--seed" -> seed = Long.parseLong(v);
                case "--parts" -> {
                    parts = List.of(v.split(","));
                    for (String p : parts) {
                        if (!List.of("suite", "examples", "fuzz", "clock").contains(p)) {
                            throw new IllegalArgumentException("unknown part: " + p);
                        }
                    }
                }
                case "--example" -> {
                    int eq = v.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("--example wants NAME=OBJECT, got " + v);
                    }
                    examples.put(v.substring(0, eq), Path.of(v.substring(eq + 1)));
                }
                default -> throw new IllegalArgumentException("unknown option: " + arg);
            }
        }
        return new Options(fuzz, packets, seed, examples, parts, allowEmulated, deadline);
    }

    private static int count(String option, String v) {
        try {
            int n = Integer.parseInt(v);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " wants a count >= 0, got " + v);
        }
    }

    /** Halts the JVM after {@code seconds}, naming the part and where the main thread is, so a hang never outlives the deadline. */
    private static void watchdog(long seconds, long start) {
        Thread main = Thread.currentThread();
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(seconds * 1000);
            } catch (InterruptedException e) {
                return;
            }
            System.out.println("summary: DEADLINE: stopped after " + elapsedMs(start) + " ms (--deadline-s " + seconds + ") in " + running);
            for (StackTraceElement e : main.getStackTrace()) {
                System.out.println("    at " + e);
            }
            System.out.flush();
            Runtime.getRuntime().halt(3);
        }, "deadline");
        t.setDaemon(true);
        t.start();
    }

    // ---- e. the native clock helper ---------------------------------------------------------------

    /**
     * bpf_ktime_get_ns in the host's environment, which native arm64 binds to generated code
     * calling clock_gettime(CLOCK_MONOTONIC) (A64NativeHelpers): its reading must fall between
     * two System.nanoTime readings around the run, since both read the same clock. The program
     * calls nothing else, so it also runs as a critical downcall.
     */
    private static int clock() {
        running = "clock";
        long start = System.nanoTime();
        Program p = Assembler.assemble("ktime", ProgramType.RAW, "call 5\nexit");
        int failures = 0;
        for (boolean lse : new boolean[] {true, false}) {
            try (Executable e = new A64Target(new A64Jit.Options(lse), Environment.host(), A64Machine.DEFAULT_BUDGET).load(List.of(p))) {
                for (int i = 0; i < 1_000; i++) {
                    long before = System.nanoTime();
                    long t = e.run(RunInput.ofMem(null)).r0();
                    long after = System.nanoTime();
                    if (t < before || t > after) {
                        System.out.println("clock: ktime " + t + " outside [" + before + ", " + after + "]");
                        failures++;
                        break;
                    }
                }
            }
        }
        System.out.println("summary: clock bpf_ktime_get_ns in the host environment, LSE and LL/SC code, 1000 runs each within "
                + "System.nanoTime: " + (failures == 0 ? "ok" : "FAILED") + " in " + elapsedMs(start) + " ms");
        return failures;
    }

    // ---- b. the suites ---------------------------------------------------------------------------

    private static int suites(Target arm64) {
        ConformanceRunner runner = new ConformanceRunner(Suites.knownDifferences());
        int failures = 0;
        failures += suite("rfc9669", DataFileReader.readSuite(Suites.rfc9669()), "", runner, arm64);
        failures += suite("maps", DataFileReader.readSuite(Suites.maps()), "maps/", runner, arm64);
        return failures;
    }

    private static int suite(String name, List<ConformanceCase> cases, String prefix, ConformanceRunner runner, Target arm64) {
        running = "suite " + name;
        long start = System.nanoTime();
        Failures fail = new Failures("suite " + name);
        int pass = 0;
        int skip = 0;
        Map<String, Integer> skipReasons = new TreeMap<>();
        if (cases.isEmpty()) {
            fail.add("the built-in suite " + name + " has no cases");
        }
        for (ConformanceCase c : cases) {
            String where = prefix + c.name() + " [" + arm64.id() + "]";
            running = "suite " + name + ", " + where;
            CaseResult r;
            try {
                r = runner.runOne(c, arm64);
            } catch (RuntimeException | Error e) {
                fail.add(where + ": " + e);
                continue;
            }
            switch (r.status()) {
                case PASS -> pass++;
                case SKIP -> {
                    // As RfcSuiteTest under PRISM_REQUIRE=all: an unavailable target or a missing
                    // compiler is a failure here, since the host prepared both.
                    if (r.message().startsWith("unavailable: ") || r.message().equals(ElfCompiler.MISSING)) {
                        fail.add(where + ": skipped: " + r.message());
                    } else {
                        skip++;
                        String reason = r.message().replaceAll(" \\[.*", "");
                        skipReasons.merge(reason.length() > 60 ? reason.substring(0, 60) + "..." : reason, 1, Integer::sum);
                    }
                }
                case FAIL, ERROR -> fail.add(where + ": " + r.status().id() + ": " + r.message()
                        + "\n  expected: " + r.expected() + "\n  actual:   " + r.actual());
            }
        }
        System.out.printf("summary: suite %-8s %4d cases: %d pass, %d fail, %d skip in %d ms%n", name, cases.size(), pass,
                fail.count(), skip, elapsedMs(start));
        skipReasons.forEach((reason, n) -> System.out.printf("         skipped %3d: %s%n", n, reason));
        return fail.count();
    }

    // ---- c. the examples ---------------------------------------------------------------------------

    private static int examples(Options o) {
        running = "examples";
        long start = System.nanoTime();
        Failures fail = new Failures("examples");
        int runs = 0;
        if (o.examples().isEmpty()) {
            System.out.println("summary: examples: none given (--example NAME=OBJECT), part skipped");
            return 0;
        }
        Map<String, Integer> actions = new TreeMap<>();
        for (Map.Entry<String, Path> e : o.examples().entrySet()) {
            running = "example " + e.getKey();
            try {
                runs += example(e.getKey(), e.getValue(), o.packets(), fail, actions);
            } catch (RuntimeException | Error x) {
                fail.add(e.getKey() + ": " + x + stack(x));
            }
        }
        System.out.printf("summary: examples %d objects, %d packets (crafted + %d random each) on arm64 and the interpreter: "
                        + "%d mismatching in %d ms; interpreter actions %s%n", o.examples().size(), runs, o.packets(), fail.count(),
                elapsedMs(start), actions);
        return fail.count();
    }

    /** {@return the packets run} Runs one example on both targets; stops it at its first mismatch. */
    private static int example(String name, Path object, int randomPackets, Failures fail, Map<String, Integer> actions) {
        ElfObject obj = ElfObject.load(object);
        // an xdp example's entry is its "xdp" program; a tc example (tc_rewrite) has one program
        Program entry = obj.programs().stream().anyMatch(p -> p.section().equals("xdp")) ? obj.program("xdp")
                : obj.programs().getFirst();
        boolean tc = entry.type() == dev.prism.program.ProgramType.TC;
        List<Program> programs = new ArrayList<>();
        programs.add(entry);
        obj.programs().stream().filter(p -> p != entry).forEach(programs::add);
        Examples.PacketFile crafted = Examples.packets(name);
        List<byte[]> packets = new ArrayList<>(crafted.packets());
        PacketGenerator gen = new PacketGenerator(name.hashCode());
        for (int i = 0; i < randomPackets; i++) {
            packets.add(gen.next());
        }
        Target arm64Target = new A64Target(A64Jit.Options.DEFAULT, Environment.deterministic(0, 1), A64Machine.DEFAULT_BUDGET);
        try (Executable interp = new InterpreterTarget(Environment.deterministic(0, 1)).load(programs);
             Executable arm64 = arm64Target.load(programs)) {
            for (Executable x : List.of(interp, arm64)) {
                for (Examples.MapInit m : crafted.setup()) {
                    x.maps().update(m.map(), m.key(), m.value(), 0);
                }
                obj.programSlots().forEach(slot -> x.maps().setProgram(slot.map(), slot.index(), slot.program()));
            }
            for (int i = 0; i < packets.size(); i++) {
                byte[] p = packets.get(i);
                String where = name + " packet " + i + (i < crafted.packets().size() ? " (" + crafted.comments().get(i) + ")"
                        : " (random)") + ": " + HEX.formatHex(p);
                RunInput input = tc ? RunInput.ofSkb(p, dev.prism.target.SkbFields.ZERO) : RunInput.ofPacket(p);
                RunResult want;
                try {
                    want = interp.run(input);
                } catch (dev.prism.error.TargetException e) {
                    // a frame an skb test run refuses (an IPv4 frame shorter than its header): arm64 must refuse it too
                    if (!tc) {
                        throw e;
                    }
                    try {
                        arm64.run(input);
                        fail.add("arm64 ran a frame the interpreter refuses (" + e.getMessage() + "), " + where);
                        return i + 1;
                    } catch (dev.prism.error.TargetException expected) {
                        actions.merge("refused", 1, Integer::sum);
                        continue;
                    }
                }
                RunResult got;
                try {
                    got = arm64.run(input);
                } catch (RuntimeException e) {
                    fail.add("arm64 failed where the interpreter returned " + want.r0() + ", " + where + ": " + e);
                    return i + 1;
                }
                actions.merge(tc ? want.tcAction() : want.xdpAction(), 1, Integer::sum);
                String differs = null;
                if (!java.util.Objects.equals(want.skbAfter(), got.skbAfter())) {
                    differs = "skb fields differ: interpreter " + want.skbAfter() + ", arm64 " + got.skbAfter();
                } else if (want.r0() != got.r0()) {
                    differs = "r0 differs: interpreter " + want.r0() + ", arm64 " + got.r0();
                } else if (!Arrays.equals(want.packetAfter(), got.packetAfter())) {
                    differs = "packet after differs:\n  interpreter " + HEX.formatHex(want.packetAfter())
                            + "\n  arm64       " + HEX.formatHex(got.packetAfter());
                } else if (!java.util.Objects.equals(want.redirect(), got.redirect())) {
                    differs = "redirect target differs: interpreter " + want.redirect() + ", arm64 " + got.redirect();
                } else if (!want.events().equals(got.events())) {
                    differs = "perf event records differ: interpreter " + want.events() + ", arm64 " + got.events();
                } else if (i % MAP_CHECK_EVERY == MAP_CHECK_EVERY - 1 || i == packets.size() - 1) {
                    differs = compareMaps(programs.getFirst().maps(), interp.maps(), arm64.maps());
                }
                if (differs != null) {
                    fail.add(differs + ", " + where);
                    return i + 1;
                }
            }
        }
        return packets.size();
    }

    /** {@return what differs between the two sides' maps, or null} Ring buffers are drained, on both sides. */
    private static String compareMaps(List<MapDef> defs, MapAccess want, MapAccess got) {
        List<String> wrong = new ArrayList<>();
        for (MapDef def : defs) {
            String m = def.name();
            switch (def.type()) {
                case PROG_ARRAY, PERF_EVENT_ARRAY -> {
                    // slots were set alike through setProgram; their contents are program references;
                    // perf event records are compared per run
                }
                case RINGBUF -> {
                    List<String> a = want.drain(m).stream().map(HEX::formatHex).toList();
                    List<String> b = got.drain(m).stream().map(HEX::formatHex).toList();
                    if (!a.equals(b)) {
                        wrong.add("ring buffer " + m + " records differ:\n  interpreter " + a + "\n  arm64       " + b);
                    }
                }
                default -> {
                    Map<String, String> a = contents(want, m);
                    Map<String, String> b = contents(got, m);
                    if (!a.equals(b)) {
                        wrong.add("map " + m + " differs: " + mapDiff(a, b));
                    }
                }
            }
        }
        return wrong.isEmpty() ? null : String.join("; ", wrong);
    }

    /** {@return key -> value of one map, in hex, every CPU's block of a per-CPU value included} */
    private static Map<String, String> contents(MapAccess maps, String map) {
        Map<String, String> out = new TreeMap<>();
        for (byte[] key : maps.keys(map)) {
            byte[] v = maps.lookup(map, key);
            out.put(HEX.formatHex(key), v == null ? "(absent)" : HEX.formatHex(v));
        }
        return out;
    }

    private static String mapDiff(Map<String, String> want, Map<String, String> got) {
        List<String> lines = new ArrayList<>();
        TreeMap<String, String> keys = new TreeMap<>(want);
        got.forEach(keys::putIfAbsent);
        for (String k : keys.keySet()) {
            String a = want.get(k);
            String b = got.get(k);
            if (!Objects.equals(a, b)) {
                lines.add("\n  key " + k + ": interpreter " + (a == null ? "(no key)" : a) + ", arm64 " + (b == null ? "(no key)" : b));
            }
        }
        return lines.size() + " keys" + String.join("", lines.subList(0, Math.min(8, lines.size())));
    }

    // ---- d. the differential fuzz ------------------------------------------------------------------

    private static int fuzz(Options o) {
        running = "fuzz";
        long start = System.nanoTime();
        Failures fail = new Failures("fuzz");
        List<A64Target> shapes = List.of(
                new A64Target(new A64Jit.Options(true), Environment.deterministic(0, 1), A64Machine.DEFAULT_BUDGET),
                new A64Target(new A64Jit.Options(false), Environment.deterministic(0, 1), A64Machine.DEFAULT_BUDGET),
                new A64Target(new A64Jit.Options(true, 16), Environment.deterministic(0, 1), A64Machine.DEFAULT_BUDGET));
        List<String> shapeNames = List.of("LSE", "LL/SC", "LSE + far branches");
        DifferentialFuzz.Result r = DifferentialFuzz.run(o.seed(), 13, o.fuzz(), new InterpreterTarget(Environment.deterministic(0, 1)),
                shapes, m -> fail.add(m.message()));
        if (r.accepted() < o.fuzz()) {
            fail.add("the generator gave only " + r.accepted() + " accepted programs in " + r.generated());
        }
        System.out.printf("summary: fuzz %d programs accepted of %d generated (%d left out: address-dependent), %s, %d runs each: "
                        + "%d mismatching in %d ms%n", r.accepted(), r.generated(), r.addressDependent(),
                shapeCounts(shapeNames, r.perCandidate()), DifferentialFuzz.RUNS_PER_PROGRAM, fail.count(), elapsedMs(start));
        return fail.count();
    }

    private static String shapeCounts(List<String> names, int[] counts) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < counts.length; i++) {
            out.add(names.get(i) + " " + counts[i]);
        }
        return String.join(", ", out);
    }

    private static String stack(Throwable t) {
        StringBuilder b = new StringBuilder();
        StackTraceElement[] st = t.getStackTrace();
        for (int i = 0; i < Math.min(8, st.length); i++) {
            b.append("\n    at ").append(st[i]);
        }
        return b.toString();
    }

    private static long elapsedMs(long startNs) {
        return (System.nanoTime() - startNs) / 1_000_000;
    }
}
