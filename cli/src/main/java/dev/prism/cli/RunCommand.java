package dev.prism.cli;

import dev.prism.error.TargetException;
import dev.prism.error.TrapException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code prism run}: one program on one target. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run a program on a target and print r0 (for XDP with the action's name), and the memory or "
                + "packet after the run when the program changed it (the packet from data_meta on, as Linux's "
                + "test run returns it).",
                "Raw programs take --mem; xdp, tc and socket programs a packet: --packet, --packet-file, or --pcap to "
                        + "run every packet of a capture and print how many got each action.",
                "An ELF object's programs are loaded together, the chosen one (--section) as the entry, so that "
                        + "tail calls reach the others once --map places them in a prog array.",
                "A trap (an access outside every region, a call too deep, the instruction budget spent) "
                        + "ends the run with exit 1; with --pcap the trapped packets are listed and the exit is 1."})
final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ParentCommand
    Main main;

    @Mixin
    ProgramFile input;

    @Option(names = {"-t", "--target"}, paramLabel = "T", defaultValue = "interpreter",
            description = "The target to run on (default: ${DEFAULT-VALUE}; 'prism targets' lists them).")
    String targetId;

    @Option(names = "--mem", paramLabel = "HEX", converter = Hex.Converter.class,
            description = "Raw programs: memory r1 points to (r2 holds its length), as hex bytes, for example 0102ff.")
    Hex.Bytes memOption;

    @Option(names = "--packet", paramLabel = "HEX", converter = Hex.Converter.class,
            description = "xdp, tc and socket programs: the packet (an Ethernet frame) as hex bytes.")
    Hex.Bytes packetOption;

    @Option(names = "--skb", paramLabel = "FIELD=VALUE[,...]",
            description = "tc programs: the skb fields the run starts with (what Linux's test run takes as ctx_in): "
                    + "mark=N, priority=N (decimal or 0x hex), cb=HEX (20 bytes), for example --skb mark=7,cb=0100000000000000000000000000000000000000.")
    String skbOption;

    @Option(names = "--packet-file", paramLabel = "F", description = "The packet: the raw bytes of file F.")
    Path packetFile;

    @Option(names = "--pcap", paramLabel = "F",
            description = "Run every packet of the libpcap capture F (Ethernet; pcapng must be converted: "
                    + "editcap -F pcap) and print a table of actions with their counts and percentages.")
    Path pcap;

    @Option(names = "--repeat", paramLabel = "N",
            description = "After one warm-up run (with --pcap: pass over the capture), run N more times and print "
                    + "the mean time per run (per packet): on one input, the target's own timer as prism bench uses "
                    + "it (a loop of runs on one prepared input; linux: BPF_PROG_TEST_RUN with repeat N timed around "
                    + "the system call, less its fixed cost); with --pcap or --batch, a loop over Executable.run that "
                    + "includes building each run's input.")
    Integer repeat;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1",
            description = "Run through Executable.run(List), N inputs per call (a batch device takes them at once): "
                    + "the input runs N times and the last result is printed; --repeat times batches of N, per input; "
                    + "with --pcap the timed passes go N packets per call (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--map", paramLabel = "NAME=KEY:VALUE",
            description = {"Before the first run, write one map element: KEY and VALUE in hex, the bytes as the map "
                    + "stores them (little-endian numbers: index 6 is 06000000). Repeatable.",
                    "For a prog_array, VALUE names a program of the object (function or section name): "
                            + "--map jmp_table=06000000:xdp/tcp.",
                    "For an array_of_maps or hash_of_maps, NAME[INDEX] (a u32 slot) or NAME{HEXKEY} names the inner "
                            + "map in that slot: --map lru_mapping[0]=KEY:VALUE; the outer map's own VALUE is the "
                            + "index of an inner map among the object's maps (as --dump-maps shows it)."})
    List<String> mapSettings = new ArrayList<>();

    @Option(names = "--dump-maps",
            description = "After the run(s), print every map: 'key -> value' in hex (arrays: the non-zero values; "
                    + "ring buffers: drained, one record per line).")
    boolean dumpMaps;

    @Option(names = "--json", description = {"Print one JSON document: r0, r0_hex, mem_after, ns_per_run for raw programs; "
            + "r0, action, packet_after, ns_per_run for packets; packets, actions (name to count), failed, "
            + "ns_per_run for --pcap; with --dump-maps also maps (name to a list of {key, value})."})
    boolean json;

    /** One --map: the map, the key bytes and the value (hex bytes, or a program for a prog_array). */
    private record MapSetting(String spec, MapDef def, byte[] key, byte[] value, String program) {
    }

    /** A packet of --pcap that did not finish. */
    private record Failure(Pcap.Packet packet, String error) {
    }

    @Override
    public Integer call() {
        if (repeat != null && repeat < 1) {
            throw CliException.usage("--repeat must be at least 1, not " + repeat);
        }
        if (batch < 1) {
            throw CliException.usage("--batch must be at least 1, not " + batch);
        }
        ProgramFile.Loaded loaded = input.load(main.stdin());
        Program entry = loaded.program();
        List<Program> programs = loaded.programs();
        boolean packetProgram = entry.type() != ProgramType.RAW;
        int packetOptions = (packetOption != null ? 1 : 0) + (packetFile != null ? 1 : 0) + (pcap != null ? 1 : 0);
        if (packetOptions > 1) {
            throw CliException.usage("--packet, --packet-file and --pcap each give the input; use one");
        }
        if (packetProgram && memOption != null) {
            throw CliException.usage("--mem is for raw programs; " + entry.name() + " is an " + entry.type().id()
                    + " program, give it --packet, --packet-file or --pcap");
        }
        if (packetProgram && packetOptions == 0) {
            throw CliException.usage("an " + entry.type().id() + " program needs a packet: give --packet HEX, "
                    + "--packet-file F or --pcap F");
        }
        if (!packetProgram && packetOptions > 0) {
            throw CliException.usage("--packet, --packet-file and --pcap are for xdp, tc and socket programs; "
                    + entry.name() + " is a raw program (give it --mem, or --type xdp)");
        }
        if (skbOption != null && entry.type() != ProgramType.TC) {
            throw CliException.usage("--skb is for tc programs; " + entry.name() + " is " + entry.type().id());
        }
        skbFields(skbOption); // checked before anything loads
        List<MapSetting> settings = new ArrayList<>();
        for (String s : mapSettings) {
            settings.add(mapSetting(s, entry, programs));
        }
        byte[] mem = memOption == null ? new byte[0] : memOption.value();
        byte[] packet = packetOption != null ? packetOption.value()
                : packetFile != null ? Io.read(packetFile.toString(), main.stdin()) : null;
        List<Pcap.Packet> capture = null;
        if (pcap != null) {
            capture = Pcap.read(pcap.toString(), Io.read(pcap.toString(), main.stdin()));
            if (capture.isEmpty()) {
                throw CliException.usage(pcap + ": the capture holds no packets");
            }
        }

        Target target = TargetLookup.available(targetId);
        try (Executable exe = target.load(programs)) {
            if (loaded.object() != null) {
                // libbpf fills prog_array slots from the object's .values initializers at load;
                // so does prism run (a --map setting may still override a slot).
                for (var slot : loaded.object().programSlots()) {
                    if (programs.stream().anyMatch(p -> p.name().equals(slot.program()))) {
                        exe.maps().setProgram(slot.map(), slot.index(), slot.program());
                    }
                }
            }
            apply(exe, settings);
            int exit = Main.EXIT_OK;
            Map<String, Object> doc = new LinkedHashMap<>();
            if (capture != null) {
                exit = runCapture(exe, entry, capture, target, doc);
            } else {
                RunInput runInput = entry.type() == ProgramType.TC ? RunInput.ofSkb(packet, skbFields(skbOption))
                        : packetProgram ? RunInput.ofPacket(packet) : RunInput.ofMem(mem);
                RunResult result = batch == 1 ? exe.run(runInput)
                        : exe.run(java.util.Collections.nCopies(batch, runInput)).getLast();
                Double nsPerRun = null;
                if (repeat != null && batch == 1) {
                    // the target's own timer (Executable.nanosPerRun): one prepared input run in a
                    // loop (linux: BPF_PROG_TEST_RUN timed around the call, less its fixed cost),
                    // as prism bench times it; not the harness building each run's input
                    nsPerRun = exe.nanosPerRun(runInput, repeat);
                } else if (repeat != null) {
                    List<RunInput> inputs = java.util.Collections.nCopies(batch, runInput);
                    int calls = (repeat + batch - 1) / batch;
                    long start = System.nanoTime();
                    for (int i = 0; i < calls; i++) {
                        if (batch == 1) {
                            exe.run(runInput);
                        } else {
                            exe.run(inputs);
                        }
                    }
                    nsPerRun = (System.nanoTime() - start) / ((double) calls * batch);
                }
                if (batch > 1 && json) {
                    doc.put("batch", batch);
                }
                if (batch > 1) {
                    batchReport(exe, doc);
                }
                if (packetProgram) {
                    printPacket(entry, packet, result, nsPerRun, doc);
                } else {
                    printRaw(mem, result, nsPerRun, doc);
                }
            }
            if (dumpMaps) {
                dumpMaps(exe, entry, doc);
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.print(Json.write(doc));
            }
            out.flush();
            return exit;
        } catch (TargetException e) {
            throw new CliException(target.id() + ": " + e.getMessage(), Main.EXIT_FAILED, e);
        }
    }

    /**
     * With --batch N: the last batch's throughput (inputs/s) and, where the target says where the
     * time went (opencl: transfer, kernel, host), each phase apart.
     */
    private void batchReport(Executable exe, Map<String, Object> doc) {
        Map<String, Long> phases = exe.lastBatchNanos();
        long total = phases.values().stream().mapToLong(Long::longValue).sum();
        if (phases.isEmpty()) {
            return;
        }
        double perSecond = batch / (total / 1e9);
        if (json) {
            doc.put("batch_inputs_per_s", Math.round(perSecond));
            phases.forEach((k, v) -> doc.put("batch_" + k + "_ns", v));
        } else {
            StringBuilder b = new StringBuilder(String.format("batch      %d inputs, %.0f inputs/s", batch, perSecond));
            new java.util.TreeMap<>(phases).forEach((k, v) -> b.append(String.format(", %s %.3f ms", k, v / 1e6)));
            spec.commandLine().getOut().println(b);
        }
    }

    /** {@return the fields of --skb (null when not given)} */
    private static dev.prism.target.SkbFields skbFields(String option) {
        if (option == null) {
            return null;
        }
        int mark = 0;
        int priority = 0;
        byte[] cb = null;
        for (String part : option.split(",")) {
            int eq = part.indexOf('=');
            String name = eq < 0 ? part : part.substring(0, eq).strip();
            String value = eq < 0 ? "" : part.substring(eq + 1).strip();
            try {
                switch (name) {
                    case "mark" -> mark = (int) Long.decode(value).longValue();
                    case "priority" -> priority = (int) Long.decode(value).longValue();
                    case "cb" -> {
                        cb = java.util.HexFormat.of().parseHex(value);
                        if (cb.length != dev.prism.target.SkbFields.CB_SIZE) {
                            throw CliException.usage("--skb cb=" + value + ": cb holds 20 bytes, not " + cb.length);
                        }
                    }
                    default -> throw CliException.usage("--skb " + part + ": the fields are mark, priority and cb");
                }
            } catch (IllegalArgumentException e) {
                throw CliException.usage("--skb " + part + ": " + e.getMessage());
            }
        }
        return new dev.prism.target.SkbFields(mark, priority, cb, null);
    }

    /** {@return --map {@code spec} checked against the entry's maps and the loaded programs} */
    private static MapSetting mapSetting(String spec, Program entry, List<Program> programs) {
        int eq = spec.indexOf('=');
        int colon = eq < 0 ? -1 : spec.indexOf(':', eq + 1);
        if (eq <= 0 || colon < 0) {
            throw CliException.usage("--map " + spec + ": expected NAME=KEY:VALUE (KEY and VALUE in hex)");
        }
        String name = spec.substring(0, eq);
        String keyText = spec.substring(eq + 1, colon);
        String valueText = spec.substring(colon + 1);
        dev.prism.target.InnerMapName inner;
        try {
            inner = dev.prism.target.InnerMapName.parse(name);
        } catch (IllegalArgumentException e) {
            throw CliException.usage("--map " + spec + ": " + e.getMessage());
        }
        String outerName = inner == null ? name : inner.outer();
        MapDef found = entry.maps().stream().filter(m -> m.name().equals(outerName)).findFirst().orElseThrow(() ->
                CliException.usage("--map " + spec + ": no map '" + outerName + "' ("
                        + (entry.maps().isEmpty() ? entry.name() + " has no maps"
                        : "maps: " + entry.maps().stream().map(MapDef::name).collect(Collectors.joining(", "))) + ")"));
        if (inner != null && found.inner() == null) {
            throw CliException.usage("--map " + spec + ": " + outerName + " is a " + found.type().id()
                    + ", not a map of maps; NAME[INDEX] and NAME{HEXKEY} name the inner maps of array_of_maps and hash_of_maps");
        }
        if (inner != null && inner.key().length != found.keySize()) {
            throw CliException.usage("--map " + spec + ": the slot key is " + inner.key().length + " bytes, map " + outerName
                    + " has " + found.keySize() + "-byte keys");
        }
        // an inner map has the template's shape; the slot is resolved when the setting is applied
        MapDef def = inner == null ? found : found.inner().template().withName(name);
        if (def.type() == MapType.RINGBUF) {
            throw CliException.usage("--map " + spec + ": " + name + " is a ring buffer; only programs write to it");
        }
        byte[] key = hex(spec, "KEY", keyText);
        if (key.length != def.keySize()) {
            throw CliException.usage("--map " + spec + ": the key is " + key.length + " bytes, map " + name
                    + " has " + def.keySize() + "-byte keys");
        }
        if (def.type() == MapType.PROG_ARRAY) {
            String program = valueText.strip();
            boolean known = programs.stream().anyMatch(p -> p.name().equals(program) || p.section().equals(program));
            if (!known) {
                throw CliException.usage("--map " + spec + ": " + name + " is a prog_array, its VALUE names a program; "
                        + "no program '" + program + "' (programs: " + programs.stream()
                        .map(p -> p.name().equals(p.section()) ? p.name() : p.name() + " (" + p.section() + ")")
                        .collect(Collectors.joining(", ")) + ")");
            }
            return new MapSetting(spec, def, key, null, program);
        }
        byte[] value = hex(spec, "VALUE", valueText);
        // per-CPU values hold one copy per CPU of the target: the map checks their size
        if (!def.type().perCpu() && value.length != def.valueSize()) {
            throw CliException.usage("--map " + spec + ": the value is " + value.length + " bytes, map " + name
                    + " has " + def.valueSize() + "-byte values");
        }
        return new MapSetting(spec, def, key, value, null);
    }

    private static byte[] hex(String spec, String what, String text) {
        try {
            byte[] b = Hex.parse(text);
            if (b.length == 0) {
                throw CliException.usage("--map " + spec + ": " + what + " is empty");
            }
            return b;
        } catch (IllegalArgumentException e) {
            throw CliException.usage("--map " + spec + ": " + what + ": " + e.getMessage());
        }
    }

    private static void apply(Executable exe, List<MapSetting> settings) {
        if (settings.isEmpty()) {
            return;
        }
        MapAccess maps = exe.maps();
        for (MapSetting s : settings) {
            try {
                if (s.program() != null) {
                    int index = ByteBuffer.wrap(s.key()).order(ByteOrder.LITTLE_ENDIAN).getInt();
                    maps.setProgram(s.def().name(), index, s.program());
                } else {
                    maps.update(s.def().name(), s.key(), s.value(), 0);
                }
            } catch (TargetException | IllegalArgumentException e) {
                String hint = s.def().type().perCpu() ? " (a per-CPU map's VALUE is one copy per CPU of the target, "
                        + "each padded to 8 bytes)" : "";
                throw new CliException("--map " + s.spec() + ": " + e.getMessage() + hint, Main.EXIT_USAGE, e);
            }
        }
    }

    /** {@return r0 by name: the XDP action, or the number for other program types} */
    private static String action(Program entry, long r0) {
        return entry.type() == ProgramType.XDP ? new RunResult(r0, null).xdpAction()
                : entry.type() == ProgramType.TC ? new RunResult(r0, null).tcAction() : "r0=" + Long.toUnsignedString(r0);
    }

    private static String r0Text(long r0) {
        return "r0 = 0x" + Long.toHexString(r0) + " (" + Long.toUnsignedString(r0) + (r0 < 0 ? ", signed " + r0 : "") + ")";
    }

    /** {@return what "ns per run" measured, in words} */
    private String timedHow() {
        return batch == 1
                ? repeat + " runs after 1 warm-up, timed by the target's own loop on one prepared input, wall clock; "
                        + "linux: BPF_PROG_TEST_RUN around the system call less its fixed cost"
                : repeat + " runs after 1 warm-up, in batches of " + batch + " through Executable.run(List), wall clock, "
                        + "including what the harness does to build each batch";
    }

    private static double round(double ns) {
        return Math.round(ns * 10) / 10.0;
    }

    private void printRaw(byte[] mem, RunResult result, Double nsPerRun, Map<String, Object> doc) {
        long r0 = result.r0();
        byte[] after = result.memAfter();
        if (json) {
            doc.put("r0", new Json.Raw(Long.toUnsignedString(r0)));
            doc.put("r0_hex", "0x" + Long.toHexString(r0));
            if (mem.length > 0) {
                doc.put("mem_after", Hex.compact(after));
            }
            if (nsPerRun != null) {
                doc.put("ns_per_run", round(nsPerRun));
            }
            return;
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(r0Text(r0));
        if (!Arrays.equals(after, mem)) {
            out.println("mem after: " + Hex.compact(after));
        }
        if (nsPerRun != null) {
            out.printf("ns per run: %.1f (%s)%n", nsPerRun, timedHow());
        }
    }

    /** The packet after the run starts at data_meta, as Linux's data_out does. */
    private void printPacket(Program entry, byte[] packet, RunResult result, Double nsPerRun, Map<String, Object> doc) {
        long r0 = result.r0();
        byte[] after = result.packetAfter();
        if (json) {
            doc.put("r0", new Json.Raw(Long.toUnsignedString(r0)));
            if (entry.type() == ProgramType.XDP) {
                doc.put("action", result.xdpAction());
            }
            if (entry.type() == ProgramType.TC) {
                doc.put("action", result.tcAction());
                if (result.skbAfter() != null) {
                    dev.prism.target.SkbFields f = result.skbAfter();
                    doc.put("mark", new Json.Raw(Integer.toUnsignedString(f.mark())));
                    doc.put("priority", new Json.Raw(Integer.toUnsignedString(f.priority())));
                    doc.put("cb", Hex.compact(f.cb()));
                    if (f.tcClassid() != null) {
                        doc.put("tc_classid", new Json.Raw(Integer.toString(f.tcClassid())));
                    }
                }
            }
            if (after != null) {
                doc.put("packet_after", Hex.compact(after));
            }
            if (result.redirect() != null) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put(result.redirect().kind().name().toLowerCase(java.util.Locale.ROOT), result.redirect().target());
                if (result.redirect().map() != null) {
                    r.put("map", result.redirect().map());
                }
                doc.put("redirect", r);
            }
            if (!result.events().isEmpty()) {
                List<Object> events = new ArrayList<>();
                for (RunResult.Event e : result.events()) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("map", e.map());
                    m.put("cpu", e.cpu());
                    m.put("data", Hex.compact(e.data()));
                    events.add(m);
                }
                doc.put("events", events);
            }
            if (nsPerRun != null) {
                doc.put("ns_per_run", round(nsPerRun));
            }
            return;
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(r0Text(r0) + (entry.type() == ProgramType.XDP ? " " + result.xdpAction()
                : entry.type() == ProgramType.TC ? " " + result.tcAction() : ""));
        if (result.skbAfter() != null && !result.skbAfter().equals(dev.prism.target.SkbFields.ZERO)
                && !result.skbAfter().equals(new dev.prism.target.SkbFields(0, 0, null, 0))) {
            out.println("skb after: " + result.skbAfter());
        }
        if (result.redirect() != null) {
            out.println("redirect to: " + result.redirect());
        }
        if (after != null && !Arrays.equals(after, packet)) {
            out.println("packet after: " + Hex.compact(after));
        }
        for (RunResult.Event e : result.events()) {
            out.println("perf event: " + e.map() + " cpu " + e.cpu() + ": " + Hex.compact(e.data()));
        }
        if (nsPerRun != null) {
            out.printf("ns per run: %.1f (%s)%n", nsPerRun, timedHow());
        }
    }

    /** Runs every packet; {@return exit 1 when one trapped or failed} */
    private int runCapture(Executable exe, Program entry, List<Pcap.Packet> capture, Target target,
                           Map<String, Object> doc) {
        // r0 values in unsigned order: XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT
        TreeMap<Long, Integer> counts = new TreeMap<>(Long::compareUnsigned);
        List<Failure> failures = new ArrayList<>();
        for (Pcap.Packet p : capture) {
            try {
                counts.merge(exe.run(RunInput.ofPacket(p.data())).r0(), 1, Integer::sum);
            } catch (TrapException e) {
                failures.add(new Failure(p, "trap: " + e.getMessage()));
            } catch (TargetException e) {
                failures.add(new Failure(p, target.id() + ": " + e.getMessage()));
            }
        }
        Double nsPerRun = null;
        if (repeat != null) {
            long start = System.nanoTime();
            List<RunInput> inputs = capture.stream().map(p -> RunInput.ofPacket(p.data())).toList();
            for (int i = 0; i < repeat; i++) {
                for (int from = 0; from < inputs.size(); from += batch) {
                    List<RunInput> chunk = inputs.subList(from, Math.min(inputs.size(), from + batch));
                    try {
                        if (batch == 1) {
                            exe.run(chunk.getFirst());
                        } else {
                            exe.run(chunk);
                        }
                    } catch (TrapException | TargetException e) {
                        // reported from the first pass
                    }
                }
            }
            nsPerRun = (System.nanoTime() - start) / ((double) repeat * capture.size());
        }
        int total = capture.size();
        if (json) {
            doc.put("packets", total);
            Map<String, Object> actions = new LinkedHashMap<>();
            counts.forEach((r0, n) -> actions.put(action(entry, r0), n));
            doc.put("actions", actions);
            if (!failures.isEmpty()) {
                List<Object> failed = new ArrayList<>();
                for (Failure f : failures) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("packet", f.packet().number());
                    m.put("offset", f.packet().offset());
                    m.put("error", f.error());
                    failed.add(m);
                }
                doc.put("failed", failed);
            }
            if (nsPerRun != null) {
                doc.put("ns_per_run", round(nsPerRun));
            }
        } else {
            PrintWriter out = spec.commandLine().getOut();
            out.println(total + (total == 1 ? " packet" : " packets") + " from " + pcap);
            List<String[]> rows = new ArrayList<>();
            counts.forEach((r0, n) -> rows.add(new String[] {action(entry, r0), Integer.toString(n), percent(n, total)}));
            if (!failures.isEmpty()) {
                rows.add(new String[] {"(failed)", Integer.toString(failures.size()), percent(failures.size(), total)});
            }
            int width = Math.max("action".length(), rows.stream().mapToInt(r -> r[0].length()).max().orElse(0));
            String format = "%-" + width + "s  %7s  %7s%n";
            out.printf(format, "action", "count", "percent");
            for (String[] r : rows) {
                out.printf(format, (Object[]) r);
            }
            for (Failure f : failures) {
                out.println("packet " + f.packet().number() + " (byte offset " + f.packet().offset() + ", "
                        + f.packet().data().length + " bytes) failed: " + f.error());
            }
            if (nsPerRun != null) {
                out.printf("ns per run: %.1f (%d passes over %d packets after 1 warm-up pass, wall clock, including "
                        + "what the harness does to build each run's input: use prism bench for the program alone)%n",
                        nsPerRun, repeat, total);
            }
        }
        return failures.isEmpty() ? Main.EXIT_OK : Main.EXIT_FAILED;
    }

    private static String percent(int n, int total) {
        return String.format("%.1f%%", 100.0 * n / total);
    }

    private void dumpMaps(Executable exe, Program entry, Map<String, Object> doc) {
        if (entry.maps().isEmpty()) {
            // raw programs on some targets have no map access at all
            if (json) {
                doc.put("maps", Map.of());
            } else {
                spec.commandLine().getOut().println("maps: none");
            }
            return;
        }
        if (json) {
            doc.put("maps", MapDump.json(exe.maps()));
        } else {
            MapDump.text(exe.maps(), spec.commandLine().getOut());
        }
    }
}
