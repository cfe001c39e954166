package dev.prism.cli;

import dev.prism.conformance.CaseResult;
import dev.prism.conformance.ConformanceCase;
import dev.prism.conformance.ConformanceRunner;
import dev.prism.conformance.Coverage;
import dev.prism.conformance.DataFileReader;
import dev.prism.conformance.KnownDifferences;
import dev.prism.conformance.Report;
import dev.prism.conformance.Selection;
import dev.prism.conformance.Suites;
import dev.prism.conformance.plugin.PluginTarget;
import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.isa.Opcode;
import dev.prism.isa.Opcodes;
import dev.prism.target.Target;
import dev.prism.target.Targets;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** {@code prism conformance}: the RFC 9669 suite (or any bpf_conformance-style suite) on targets. */
@Command(name = "conformance", mixinStandardHelpOptions = true,
        description = {"Run conformance cases (.data files) on targets and report passed/failed/skipped "
                + "per target and conformance group.",
                "Exit 0 when no case failed; known differences (known-differences.txt) count as skipped."})
final class ConformanceCommand implements Callable<Integer> {
    private static final String DEFAULT_TARGETS = "interpreter,linux";

    @Spec
    CommandSpec spec;

    @Option(names = "--suite", paramLabel = "DIR",
            description = {"A directory of .data cases, searched recursively; repeat for several. "
                    + "Default: the built-in suites, RFC 9669 (suite/rfc9669) and Linux map semantics (suite/maps).",
                    "DIR/../known-differences.txt applies when it exists, and the built-in entries that name a "
                    + "behaviour (@callx, @shift-imm-out-of-range) always do."})
    List<Path> suites = new ArrayList<>();

    @Option(names = {"-t", "--target"}, paramLabel = "LIST", defaultValue = DEFAULT_TARGETS,
            description = {"Comma-separated target ids, 'all', or 'available' (those this host runs); repeatable "
                    + "(default: ${DEFAULT-VALUE}).",
                    "'plugin:COMMAND ARGS' runs each case through an external bpf_conformance plugin (program in hex "
                    + "on stdin, memory in hex as the last argument, r0 in hex on stdout); it takes the rest of its "
                    + "--target value, commas included, so give each plugin its own --target."})
    List<String> targets = new ArrayList<>();

    @Option(names = "--plugin-timeout", paramLabel = "SECONDS", defaultValue = "20",
            description = "How long one case may take on a plugin before it is killed and the case fails (default: ${DEFAULT-VALUE}).")
    double pluginTimeout;

    @Option(names = "--plugin-jobs", paramLabel = "N", defaultValue = "0",
            description = "Plugin processes run at once (default: the number of CPUs, at least 2).")
    int pluginJobs;

    @Option(names = "--cpu", paramLabel = "VERSION", defaultValue = "v4", converter = CpuConverter.class,
            description = "Only cases whose instructions exist in this cpu version: v1, v2, v3 or v4 (default: v4).")
    CpuVersion cpu;

    @Option(names = "--groups", paramLabel = "G", split = ",", converter = GroupConverter.class,
            description = "Only cases within these conformance groups: base32, base64, atomic32, atomic64, "
                    + "divmul32, divmul64, packet, callx (default: all). base64 includes base32, and so on.")
    List<Group> groups = new ArrayList<>();

    @Option(names = "--report", paramLabel = "FORMAT", defaultValue = "text", converter = FormatConverter.class,
            description = "text, json, junit, md or html (default: text).")
    Format format;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "Write the report to FILE instead of stdout.")
    Path out;

    @Option(names = "--known-differences", paramLabel = "FILE",
            description = "The known-differences file to use instead of the suites' own.")
    Path knownDifferencesFile;

    @Option(names = "--coverage", description = "Also print which rows of the RFC 9669 instruction registry no case exercises.")
    boolean coverage;

    /** Report formats. */
    enum Format { TEXT, JSON, JUNIT, MD, HTML }

    @Override
    public Integer call() {
        List<Target> chosen = chosenTargets();
        PrintWriter stderr = spec.commandLine().getErr();
        List<DataFileReader.Unread> unread = new ArrayList<>();
        List<ConformanceCase> cases = readCases(unread);
        for (DataFileReader.Unread u : unread) {
            stderr.println("prism: " + (u.skipped() ? "warning: skipping " : "error: cannot read ") + u.message());
        }
        Selection selection = new Selection(cpu, groups.isEmpty() ? EnumSet.allOf(Group.class) : EnumSet.copyOf(groups));
        List<ConformanceCase> selected = cases.stream().filter(selection::includes).toList();
        PrintWriter stdout = spec.commandLine().getOut();
        if (selected.isEmpty() && !cases.isEmpty()) {
            stderr.println("prism: no case of " + cases.size() + " is within cpu " + cpu + " and the groups chosen");
        }

        ConformanceRunner runner = new ConformanceRunner(knownDifferences());
        if (pluginJobs > 0) {
            runner.pluginJobs(pluginJobs);
        }
        List<CaseResult> results;
        try (ProgressBar bar = ProgressBar.wanted() ? new ProgressBar(stderr, selected.size(), "cases") : null) {
            results = runner.run(selected, chosen, progress(bar, chosen.size()));
        }
        Report report = new Report(chosen.stream().map(Target::id).toList(), results, runner.staleEntries(), unread);
        String text = switch (format) {
            case TEXT -> report.text();
            case JSON -> report.json();
            case JUNIT -> report.junit();
            case MD -> report.markdown();
            case HTML -> report.html();
        };
        if (out != null) {
            Io.write(out, text.getBytes(StandardCharsets.UTF_8));
            stdout.println("report written to " + out + (report.ok() ? "" : " (some cases failed)"));
        } else {
            stdout.print(text);
        }
        if (coverage) {
            // A JSON, JUnit or Markdown report on stdout must stay one document: coverage goes to stderr then.
            printCoverage(out == null && format != Format.TEXT ? stderr : stdout, selected);
        }
        stdout.flush();
        stderr.flush();
        return report.ok() ? Main.EXIT_OK : Main.EXIT_FAILED;
    }

    private static Consumer<CaseResult> progress(ProgressBar bar, int targetCount) {
        if (bar == null) {
            return r -> { };
        }
        int[] results = {0};
        return r -> {
            results[0]++;
            bar.update(results[0] / targetCount, r.testCase().id());
        };
    }

    /**
     * {@return the targets of every --target value}: built-in ids separated by commas, "all",
     * "available", and plugins, each of which runs to the end of its value
     */
    private List<Target> chosenTargets() {
        if (pluginTimeout <= 0 || Double.isNaN(pluginTimeout)) {
            throw CliException.usage("--plugin-timeout must be a positive number of seconds, found " + pluginTimeout);
        }
        java.time.Duration timeout = java.time.Duration.ofMillis((long) (pluginTimeout * 1000));
        List<Target> out = new ArrayList<>();
        for (String value : targets.isEmpty() ? List.of(DEFAULT_TARGETS) : targets) {
            String v = value.strip();
            int comma = v.indexOf("," + PluginTarget.PREFIX);
            int at = v.startsWith(PluginTarget.PREFIX) ? 0 : comma < 0 ? -1 : comma + 1;
            String builtin = at < 0 ? v : at == 0 ? "" : v.substring(0, at - 1);
            if (!builtin.isBlank()) {
                List<Target> named = switch (builtin.strip()) {
                    case "available" -> Targets.all().stream().filter(t -> t.availability().available()).toList();
                    default -> TargetLookup.list(builtin);
                };
                named.stream().filter(t -> out.stream().noneMatch(o -> o.id().equals(t.id()))).forEach(out::add);
            }
            if (at >= 0 && v.startsWith(PluginTarget.PREFIX, at)) {
                try {
                    PluginTarget p = new PluginTarget(v.substring(at + PluginTarget.PREFIX.length()), timeout);
                    if (out.stream().noneMatch(o -> o.id().equals(p.id()))) {
                        out.add(p);
                    }
                } catch (IllegalArgumentException e) {
                    throw CliException.usage(e.getMessage());
                }
            }
        }
        if (out.isEmpty()) {
            throw CliException.usage("no target named in " + targets);
        }
        return out;
    }

    private List<ConformanceCase> readCases(List<DataFileReader.Unread> unread) {
        if (suites.isEmpty()) {
            Path builtin = Suites.rfc9669();
            if (!Files.isDirectory(builtin)) {
                throw CliException.usage("the built-in suite has no cases in this build (no suite/rfc9669); pass --suite DIR");
            }
            // The built-in suites: RFC 9669 itself, then Linux's map semantics as programs see them.
            List<ConformanceCase> all = new ArrayList<>(DataFileReader.readSuite(builtin));
            if (Files.isDirectory(Suites.maps())) {
                all.addAll(DataFileReader.readSuite(Suites.maps()));
            }
            return all;
        }
        List<ConformanceCase> all = new ArrayList<>();
        for (Path dir : suites) {
            if (!Files.isDirectory(dir)) {
                throw CliException.usage("cannot read suite " + dir + ": " + (Files.exists(dir) ? "not a directory" : "no such directory"));
            }
            // bpf_conformance reads on past a file it cannot read; so does this (the report counts it)
            DataFileReader.Loaded loaded = DataFileReader.load(dir);
            if (loaded.cases().isEmpty() && loaded.unread().isEmpty()) {
                throw CliException.usage("suite " + dir + " holds no .data files");
            }
            all.addAll(loaded.cases());
            unread.addAll(loaded.unread());
        }
        return all;
    }

    /** The explicit file, else each suite's sibling known-differences.txt, else the built-in list. */
    private KnownDifferences knownDifferences() {
        if (knownDifferencesFile != null) {
            if (!Files.isRegularFile(knownDifferencesFile)) {
                throw CliException.usage("cannot read " + knownDifferencesFile + ": no such file");
            }
            return KnownDifferences.read(knownDifferencesFile);
        }
        if (suites.isEmpty()) {
            return Suites.knownDifferences();
        }
        List<KnownDifferences.Entry> entries = new ArrayList<>();
        for (Path dir : suites) {
            Path parent = dir.toAbsolutePath().normalize().getParent();
            if (parent != null) {
                entries.addAll(KnownDifferences.read(parent.resolve("known-differences.txt")).entries());
            }
        }
        // The built-in entries that name what a program does (@callx, ...) hold for any suite.
        return new KnownDifferences(entries).and(Suites.knownDifferences().behaviours());
    }

    private static void printCoverage(PrintWriter w, List<ConformanceCase> cases) {
        List<Opcode> missing = Coverage.missing(cases);
        int all = Opcodes.all().size();
        w.printf("%nregistry coverage: %d/%d opcodes%n", all - missing.size(), all);
        if (!missing.isEmpty()) {
            w.println("not exercised by any case:");
            missing.forEach(o -> w.println("  " + o));
        }
    }

    static final class CpuConverter implements ITypeConverter<CpuVersion> {
        @Override
        public CpuVersion convert(String value) {
            try {
                return CpuVersion.of(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    static final class GroupConverter implements ITypeConverter<Group> {
        @Override
        public Group convert(String value) {
            try {
                return Group.of(value.strip().toLowerCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    static final class FormatConverter implements ITypeConverter<Format> {
        @Override
        public Format convert(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "text" -> Format.TEXT;
                case "json" -> Format.JSON;
                case "junit", "xml" -> Format.JUNIT;
                case "md", "markdown" -> Format.MD;
                case "html" -> Format.HTML;
                default -> throw new TypeConversionException("unknown report format '" + value + "' (known: text, json, junit, md, html)");
            };
        }
    }
}
