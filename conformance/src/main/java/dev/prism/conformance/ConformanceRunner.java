package dev.prism.conformance;

import dev.prism.conformance.plugin.PluginTarget;
import dev.prism.error.PrismException;
import dev.prism.error.TargetException;
import dev.prism.isa.CallKind;
import dev.prism.isa.Insn;
import dev.prism.isa.Opcodes;
import dev.prism.program.MapDef;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.Availability;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Runs conformance cases on targets and judges each outcome against the case's expectation.
 *
 * <p>Rules, in order: an unavailable target skips with its reason; a case whose input does not
 * decode is judged on Prism's shared decoder (and never handed to an external oracle such as
 * the kernel); an instruction outside the target's capabilities skips with the reason; then the
 * program is compiled, loaded and run. A refusal at load time (a verifier saying no) satisfies a
 * case that expects an error, since the program would have trapped; a refusal of a program
 * expected to produce a result is a failure. Failures listed in the known-differences file are
 * reported as skipped with the listed reason.
 *
 * <p>Cases with maps or an ELF object (README, "Extensions"): the case's programs are built
 * ({@link ConformanceCase#programs()}: declared maps attached, map fds rewritten to indices, or
 * the C source compiled and loaded) and loaded together with {@link Target#load(List)};
 * {@code -- map-init} is applied through {@link MapAccess}; the run gets the memory or, for an
 * xdp entry program, the packet; after r0 matches, {@code -- packet-after} and
 * {@code -- maps-after} are checked, and every mismatch is listed in the failure. An
 * {@code -- elf} case whose compiler is missing is skipped ("clang-19 not installed"); one
 * whose source does not compile or whose object does not load is an error of the suite.
 */
public final class ConformanceRunner {
    /** Targets whose input comes from outside Prism and that must only see decodable programs. */
    private static final Set<String> EXTERNAL_ORACLES = Set.of("linux");
    private static final HexFormat HEX = HexFormat.of();

    private final KnownDifferences known;
    private final Map<String, Availability> availability = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<KnownDifferences.Entry> stale = new ArrayList<>();
    private int pluginJobs = Math.max(2, Runtime.getRuntime().availableProcessors());

    public ConformanceRunner(KnownDifferences known) {
        this.known = known;
    }

    /**
     * Sets how many plugin processes run at once ({@link PluginTarget}: each case is a new
     * process, mostly waiting on its own start-up, so they overlap well).
     *
     * @return this runner
     */
    public ConformanceRunner pluginJobs(int jobs) {
        if (jobs < 1) {
            throw new IllegalArgumentException("plugin jobs must be at least 1, found " + jobs);
        }
        this.pluginJobs = jobs;
        return this;
    }

    /**
     * {@return the results of every case on every target, in case order}: built-in targets run
     * one case after the other in this thread, plugin targets ({@link PluginTarget}) meanwhile
     * on {@link #pluginJobs} threads
     */
    public List<CaseResult> run(List<ConformanceCase> cases, List<Target> targets, Consumer<CaseResult> progress) {
        for (Target t : targets) {
            prepare(cases, t);
        }
        List<java.util.concurrent.Future<CaseResult>> plugin = new ArrayList<>();
        java.util.concurrent.ExecutorService pool = null;
        if (targets.stream().anyMatch(t -> t instanceof PluginTarget)) {
            pool = java.util.concurrent.Executors.newFixedThreadPool(pluginJobs, Thread.ofPlatform().daemon().name("plugin-", 0).factory());
            for (ConformanceCase c : cases) {
                for (Target t : targets) {
                    if (t instanceof PluginTarget) {
                        plugin.add(pool.submit(() -> runOne(c, t)));
                    }
                }
            }
        }
        try {
            List<CaseResult> out = new ArrayList<>();
            int next = 0;
            for (ConformanceCase c : cases) {
                for (Target t : targets) {
                    CaseResult r = t instanceof PluginTarget ? await(plugin.get(next++)) : runOne(c, t);
                    out.add(r);
                    progress.accept(r);
                }
            }
            return out;
        } finally {
            if (pool != null) {
                pool.shutdownNow();
            }
        }
    }

    /**
     * Tells a target that builds programs in batches ({@link dev.prism.target.BatchLoading}: p4)
     * which programs the cases will load, so that it builds them together; other targets, and
     * cases whose programs or input do not build, are left alone (they are judged as ever).
     */
    public void prepare(List<ConformanceCase> cases, Target target) {
        if (!(target instanceof dev.prism.target.BatchLoading batch) || !target.availability().available()) {
            return;
        }
        List<dev.prism.target.BatchLoading.Load> loads = new ArrayList<>();
        for (ConformanceCase c : cases) {
            try {
                List<Program> programs = c.programs();
                RunInput in = input(c, programs.getFirst());
                loads.add(new dev.prism.target.BatchLoading.Load(programs, in.packet() != null ? -1 : in.mem().length));
            } catch (RuntimeException e) {
                // judged (and reported) when the case runs
            }
        }
        batch.prepare(loads);
    }

    private static CaseResult await(java.util.concurrent.Future<CaseResult> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a plugin", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("a plugin case broke the runner: " + e.getCause(), e.getCause());
        }
    }

    /** {@return known-difference entries that matched a passing case in the runs so far} */
    public List<KnownDifferences.Entry> staleEntries() {
        synchronized (stale) {
            return List.copyOf(stale);
        }
    }

    /** {@return one case judged on one target} */
    public CaseResult runOne(ConformanceCase c, Target target) {
        CaseResult raw = judge(c, target);
        Optional<KnownDifferences.Entry> entry = known.find(target.id(), c);
        if (entry.isPresent()) {
            // a listed difference explains a failure, and also a target's "not supported" for it
            if (raw.status() == Status.FAIL || raw.status() == Status.ERROR
                    || (raw.status() == Status.SKIP && raw.message().startsWith("not supported: "))) {
                return new CaseResult(c, raw.target(), raw.group(), Status.SKIP, raw.expected(), raw.actual(),
                        "known difference: " + entry.get().reason() + " [" + raw.message() + "]");
            }
            synchronized (stale) {
                if (raw.status() == Status.PASS && !stale.contains(entry.get())) {
                    stale.add(entry.get());
                }
            }
        }
        return raw;
    }

    private CaseResult judge(ConformanceCase c, Target target) {
        String group = Selection.groupOf(c);
        String expected = c.expected().toString();
        Availability a = availability.computeIfAbsent(target.id(), id -> target.availability());
        if (!a.available()) {
            return new CaseResult(c, target.id(), group, Status.SKIP, expected, "", "unavailable: " + a.reason());
        }
        if (target instanceof PluginTarget plugin) {
            return judgePlugin(c, plugin, group, expected);
        }
        List<Program> programs;
        try {
            programs = c.programs();
        } catch (ElfCompiler.ClangMissing e) {
            return new CaseResult(c, target.id(), group, Status.SKIP, expected, "", e.getMessage());
        } catch (ElfCompiler.CompileFailed e) {
            return new CaseResult(c, target.id(), group, Status.ERROR, expected, "", e.getMessage());
        } catch (PrismException e) {
            if (c.isElf()) {
                // The object is the suite's own: a loader refusal is a broken case, not an answer.
                return new CaseResult(c, target.id(), group, Status.ERROR, expected, "", "the compiled object does not load: " + e.getMessage());
            }
            if (EXTERNAL_ORACLES.contains(target.id())) {
                return new CaseResult(c, target.id(), group, Status.SKIP, expected, "",
                        "input does not decode; external oracles are only given decodable programs");
            }
            return judgeError(c, target, group, expected, e.getMessage(), "rejected by the decoder");
        }
        for (Program program : programs) {
            for (Insn insn : program.slots()) {
                if (insn != null) {
                    String why = target.capabilities().whyNot(Opcodes.of(insn));
                    if (why == null && insn instanceof Insn.Call call && call.kind() == CallKind.HELPER
                            && !target.capabilities().helpers().contains(call.imm())) {
                        why = "helper " + call.imm() + " not among the target's helpers";
                    }
                    if (why != null) {
                        return new CaseResult(c, target.id(), group, Status.SKIP, expected, "", "not supported: " + why);
                    }
                }
            }
        }
        RunInput input;
        try {
            input = input(c, programs.getFirst());
        } catch (CaseError e) {
            return new CaseResult(c, target.id(), group, Status.ERROR, expected, "", e.getMessage());
        }
        Executable exe;
        try {
            exe = target.load(programs);
        } catch (TargetException e) {
            return refused(c, target, group, expected, e);
        } catch (RuntimeException e) {
            return new CaseResult(c, target.id(), group, Status.ERROR, expected, "", e.toString());
        }
        try (exe) {
            try {
                applyMapInit(c, exe);
            } catch (TargetException e) {
                return new CaseResult(c, target.id(), group, Status.FAIL, expected, "", e.getMessage());
            }
            RunResult r = exe.run(input);
            String actual = String.format("0x%x", r.r0());
            return switch (c.expected()) {
                case ConformanceCase.Expected.Result want when want.r0() == r.r0() -> {
                    List<String> wrong = new ArrayList<>(checkPacketAfter(c, r));
                    wrong.addAll(checkSkbAfter(c, r));
                    wrong.addAll(checkMapsAfter(c, exe));
                    yield wrong.isEmpty()
                            ? new CaseResult(c, target.id(), group, Status.PASS, expected, actual, "")
                            : new CaseResult(c, target.id(), group, Status.FAIL, expected, actual,
                                    "r0 is " + actual + " as expected, but " + String.join("; ", wrong));
                }
                case ConformanceCase.Expected.Result want ->
                        new CaseResult(c, target.id(), group, Status.FAIL, expected, actual, "r0 is " + actual + ", expected " + expected);
                case ConformanceCase.Expected.Error want ->
                        new CaseResult(c, target.id(), group, Status.FAIL, expected, actual, "returned " + actual + " instead of failing");
            };
        } catch (CaseError e) {
            return new CaseResult(c, target.id(), group, Status.ERROR, expected, "", e.getMessage());
        } catch (TargetException e) {
            // Targets that load lazily (the kernel loads per run) refuse here.
            return refused(c, target, group, expected, e);
        } catch (PrismException e) {
            return judgeError(c, target, group, expected, e.getMessage(), "failed at run time");
        } catch (RuntimeException e) {
            return new CaseResult(c, target.id(), group, Status.ERROR, expected, "", e.toString());
        }
    }

    /**
     * A case on a plugin: the program's bytes as the file gives them ({@code -- raw} as written,
     * even when Prism's decoder refuses them; {@code -- asm} through Prism's assembler) go to the
     * plugin with the memory. A plugin's error on a case that expects one passes whatever its
     * message says (the wording of errors is each runtime's own); a wrong r0, an error where a
     * result is expected, a crash, a hang or an answer that is no number fails, and the message
     * says what the reference interpreter gives for the same case.
     */
    private CaseResult judgePlugin(ConformanceCase c, PluginTarget plugin, String group, String expected) {
        String why = PluginTarget.whyNot(c);
        if (why != null) {
            return new CaseResult(c, plugin.id(), group, Status.SKIP, expected, "", "not supported: " + why);
        }
        byte[] code;
        try {
            code = switch (c.source()) {
                case ConformanceCase.Source.Raw r -> r.bytes();
                case ConformanceCase.Source.Asm a -> dev.prism.isa.InsnCodec.encode(dev.prism.asm.Assembler.assemble(a.text()));
                case ConformanceCase.Source.Elf e -> throw new IllegalStateException("whyNot refuses -- elf cases");
            };
        } catch (PrismException e) {
            return judgeError(c, plugin, group, expected, e.getMessage(), "rejected by the assembler");
        }
        PluginTarget.Answer answer = plugin.run(code, c.mem());
        return switch (answer) {
            case PluginTarget.Answer.Value v -> {
                String actual = String.format("0x%x", v.r0());
                yield switch (c.expected()) {
                    case ConformanceCase.Expected.Result want when want.r0() == v.r0() ->
                            new CaseResult(c, plugin.id(), group, Status.PASS, expected, actual, "");
                    case ConformanceCase.Expected.Result want -> new CaseResult(c, plugin.id(), group, Status.FAIL, expected, actual,
                            "r0 is " + actual + ", expected " + expected + reference(c));
                    case ConformanceCase.Expected.Error want -> new CaseResult(c, plugin.id(), group, Status.FAIL, expected, actual,
                            "returned " + actual + " instead of failing" + reference(c));
                };
            }
            case PluginTarget.Answer.Failed f when f.kind() == PluginTarget.Answer.Kind.ERROR
                    && c.expected() instanceof ConformanceCase.Expected.Error ->
                    new CaseResult(c, plugin.id(), group, Status.PASS, expected, f.describe(), "");
            case PluginTarget.Answer.Failed f when f.kind() == PluginTarget.Answer.Kind.NOT_STARTED ->
                    new CaseResult(c, plugin.id(), group, Status.ERROR, expected, "", f.describe());
            case PluginTarget.Answer.Failed f ->
                    new CaseResult(c, plugin.id(), group, Status.FAIL, expected, f.describe(), f.describe() + reference(c));
        };
    }

    /** {@return what the reference interpreter gives for the case, for a plugin's failure message} */
    private String reference(ConformanceCase c) {
        CaseResult r = judge(c, new dev.prism.runtime.InterpreterTarget());
        return " (reference interpreter: " + (r.actual().isEmpty() ? r.message() : r.actual()) + ")";
    }

    /** A problem of the case itself (a map it names does not exist, a value of the wrong size): an error, not a failure. */
    private static final class CaseError extends RuntimeException {
        CaseError(String message) {
            super(message);
        }
    }

    /** {@return the run's input: the packet for an xdp entry program, the memory otherwise} */
    private static RunInput input(ConformanceCase c, Program entry) {
        if (entry.type() == ProgramType.XDP || entry.type() == ProgramType.TC) {
            if (c.packet() == null) {
                throw new CaseError("the entry program " + entry.name() + " is " + entry.type().id() + ", and the case has no -- packet");
            }
            if (entry.type() == ProgramType.TC) {
                return RunInput.ofSkb(c.packet(), c.skb());
            }
            if (c.skb() != null || c.skbAfter() != null) {
                throw new CaseError("the entry program " + entry.name() + " is xdp: -- skb and -- skb-after need a tc program");
            }
            return RunInput.ofPacket(c.packet());
        }
        if (c.packet() != null || c.packetAfter() != null) {
            throw new CaseError("the entry program " + entry.name() + " is " + entry.type().id()
                    + ": -- packet and -- packet-after need an xdp or tc program");
        }
        return RunInput.ofMem(c.mem());
    }

    private static MapDef def(MapAccess maps, String name, String where) {
        return maps.defs().stream().filter(d -> d.name().equals(name)).findFirst().orElseThrow(() -> new CaseError(
                where + ": no map '" + name + "' (maps: " + String.join(", ", maps.defs().stream().map(MapDef::name).toList()) + ")"));
    }

    /**
     * Applies {@code -- map-init} with {@link MapAccess#update} (BPF_ANY), or for a prog_array
     * {@link MapAccess#setProgram}. A per-CPU array value is one CPU's value, written to every
     * CPU's block (as many as a lookup of that element returns).
     *
     * @throws TargetException when the target refuses an update that Linux would accept
     * @throws CaseError       when a line does not fit its map
     */
    private static void applyMapInit(ConformanceCase c, Executable exe) {
        if (c.mapInit().isEmpty()) {
            return;
        }
        MapAccess maps = exe.maps();
        for (ConformanceCase.MapInit init : c.mapInit()) {
            String where = "-- map-init line " + init.line();
            MapDef def = def(maps, init.map(), where);
            byte[] key = init.key();
            if (key.length != def.keySize()) {
                throw new CaseError(where + ": key of " + key.length + " bytes, map " + def.name() + " has key size " + def.keySize());
            }
            try {
                switch (def.type()) {
                    case PROG_ARRAY -> maps.setProgram(def.name(), ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN).getInt(), init.value());
                    case RINGBUF -> throw new CaseError(where + ": a ring buffer cannot be initialized");
                    case PERCPU_HASH -> throw new CaseError(where + ": per-CPU hash " + def.name() + " cannot be initialized "
                            + "(the CPU count is learned from an existing element)");
                    case PERCPU_ARRAY -> {
                        byte[] one = value(init, def);
                        byte[] current = maps.lookup(def.name(), key);
                        if (current == null) {
                            throw new CaseError(where + ": map " + def.name() + " has no element " + HEX.formatHex(key));
                        }
                        int block = round8(def.valueSize());
                        byte[] all = new byte[current.length];
                        for (int off = 0; off + block <= all.length; off += block) {
                            System.arraycopy(one, 0, all, off, one.length);
                        }
                        maps.update(def.name(), key, all, 0);
                    }
                    default -> maps.update(def.name(), key, value(init, def), 0);
                }
            } catch (TargetException e) {
                throw new TargetException(where + " (" + init.map() + " " + HEX.formatHex(key) + " " + init.value()
                        + ") failed: " + e.getMessage(), e);
            }
        }
    }

    private static byte[] value(ConformanceCase.MapInit init, MapDef def) {
        String v = init.value();
        if (v.length() % 2 != 0 || !v.matches("[0-9a-fA-F]*")) {
            throw new CaseError("-- map-init line " + init.line() + ": the value must be hex bytes, found '" + v + "'");
        }
        byte[] bytes = HEX.parseHex(v.toLowerCase(java.util.Locale.ROOT));
        if (bytes.length != def.valueSize()) {
            throw new CaseError("-- map-init line " + init.line() + ": value of " + bytes.length + " bytes, map "
                    + def.name() + " has value size " + def.valueSize());
        }
        return bytes;
    }

    private static int round8(int n) {
        return (n + 7) & ~7;
    }

    /**
     * {@return what differs from {@code -- skb-after}, empty when nothing does}: mark, priority
     * and cb always; tc_classid only where the target reports it (the kernel's test run does not)
     */
    private static List<String> checkSkbAfter(ConformanceCase c, RunResult r) {
        dev.prism.target.SkbFields want = c.skbAfter();
        if (want == null) {
            return List.of();
        }
        dev.prism.target.SkbFields got = r.skbAfter();
        if (got == null) {
            return List.of("the run reports no skb fields, expected " + want);
        }
        dev.prism.target.SkbFields expected = got.tcClassid() == null ? want.withoutClassid() : want;
        return expected.equals(got) ? List.of() : List.of("the skb after the run is " + got + ", expected " + expected);
    }

    /** {@return what differs from {@code -- packet-after}, empty when nothing does} */
    private static List<String> checkPacketAfter(ConformanceCase c, RunResult r) {
        byte[] want = c.packetAfter();
        if (want == null) {
            return List.of();
        }
        byte[] got = r.packetAfter();
        if (got != null && Arrays.equals(want, got)) {
            return List.of();
        }
        return List.of("the packet after the run is " + (got == null ? "missing" : HEX.formatHex(got))
                + ", expected " + HEX.formatHex(want));
    }

    /**
     * {@return one message per {@code -- maps-after} check that does not hold, each naming the
     * map, the key, the expected and the actual value}. A per-CPU value holds when one CPU's
     * block (value_size bytes of each round_up(value_size, 8)) is the expected value and every
     * other block is still what it was before the run: the map-init value of that key, or zeros.
     * The interpreter simulates one CPU, so there this is exactly "block 0 is the expected
     * value"; the kernel runs the test on whichever CPU the thread is on.
     */
    private static List<String> checkMapsAfter(ConformanceCase c, Executable exe) {
        if (c.mapsAfter().isEmpty()) {
            return List.of();
        }
        MapAccess maps = exe.maps();
        List<String> wrong = new ArrayList<>();
        for (ConformanceCase.MapCheck check : c.mapsAfter()) {
            MapDef def = def(maps, check.map(), "-- maps-after");
            try {
                checkOne(maps, c, def, check, wrong);
            } catch (TargetException e) {
                wrong.add("map " + def.name() + ": " + e.getMessage());
            } catch (IllegalArgumentException e) {
                throw new CaseError("-- maps-after, map " + def.name() + ": " + e.getMessage());
            }
        }
        return wrong;
    }

    private static void checkOne(MapAccess maps, ConformanceCase c, MapDef def, ConformanceCase.MapCheck check, List<String> wrong) {
        switch (check) {
            case ConformanceCase.MapCheck.Value v -> {
                byte[] got = maps.lookup(def.name(), v.key());
                boolean ok = got != null && (def.type().perCpu()
                        ? perCpuHolds(got, v.value(), before(c, def, v.key()), def.valueSize())
                        : Arrays.equals(got, v.value()));
                if (!ok) {
                    wrong.add("map " + def.name() + " key " + HEX.formatHex(v.key()) + ": expected " + HEX.formatHex(v.value())
                            + ", actual " + (got == null ? "absent" : def.type().perCpu()
                            ? "per-CPU blocks " + blocks(got, def.valueSize()) : HEX.formatHex(got)));
                }
            }
            case ConformanceCase.MapCheck.Absent x -> {
                byte[] got = maps.lookup(def.name(), x.key());
                if (got != null) {
                    wrong.add("map " + def.name() + " key " + HEX.formatHex(x.key()) + ": expected absent, actual "
                            + HEX.formatHex(got));
                }
            }
            case ConformanceCase.MapCheck.Ring ring -> {
                List<byte[]> got = maps.drain(def.name());
                boolean ok = got.size() == ring.records().size();
                for (int i = 0; ok && i < got.size(); i++) {
                    ok = Arrays.equals(got.get(i), ring.records().get(i));
                }
                if (!ok) {
                    wrong.add("ringbuf " + def.name() + ": expected records " + records(ring.records())
                            + ", drained " + records(got));
                }
            }
        }
    }

    /** {@return the value a per-CPU element had on every CPU before the run: its map-init value, or zeros} */
    private static byte[] before(ConformanceCase c, MapDef def, byte[] key) {
        byte[] v = new byte[def.valueSize()];
        for (ConformanceCase.MapInit init : c.mapInit()) {
            if (init.map().equals(def.name()) && Arrays.equals(init.key(), key)) {
                v = value(init, def);
            }
        }
        return v;
    }

    private static boolean perCpuHolds(byte[] all, byte[] want, byte[] before, int valueSize) {
        int block = round8(valueSize);
        if (all.length == 0 || all.length % block != 0) {
            return false;
        }
        boolean seen = false;
        for (int off = 0; off < all.length; off += block) {
            byte[] b = Arrays.copyOfRange(all, off, off + valueSize);
            if (Arrays.equals(b, want)) {
                seen = true;
            } else if (!Arrays.equals(b, before)) {
                return false;
            }
        }
        return seen;
    }

    private static String blocks(byte[] all, int valueSize) {
        int block = round8(valueSize);
        List<String> out = new ArrayList<>();
        for (int off = 0; off + valueSize <= all.length; off += block) {
            out.add(HEX.formatHex(all, off, off + valueSize));
        }
        return out.toString();
    }

    private static String records(List<byte[]> records) {
        return records.stream().map(HEX::formatHex).toList().toString();
    }

    private static CaseResult refused(ConformanceCase c, Target target, String group, String expected, TargetException e) {
        if (c.expected() instanceof ConformanceCase.Expected.Error) {
            return new CaseResult(c, target.id(), group, Status.PASS, expected, "rejected at load",
                    "the target refused the program, as it should refuse one that traps: " + firstLine(e.getMessage()));
        }
        if (e.isUnsupported()) {
            // A feature the capabilities cannot express (a program type, map references): a gap, not a wrong answer.
            return new CaseResult(c, target.id(), group, Status.SKIP, expected, "", e.getMessage());
        }
        return new CaseResult(c, target.id(), group, Status.FAIL, expected, "rejected at load", e.getMessage());
    }

    private static CaseResult judgeError(ConformanceCase c, Target target, String group, String expected, String message, String how) {
        if (c.expected() instanceof ConformanceCase.Expected.Error want && message.contains(want.substring())) {
            return new CaseResult(c, target.id(), group, Status.PASS, expected, message, "");
        }
        return new CaseResult(c, target.id(), group, Status.FAIL, expected, message, how + ": " + message);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
