package dev.prism.conformance.plan;

import dev.prism.asm.Assembler;
import dev.prism.isa.AtomicOp;
import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.HelperProto;
import dev.prism.runtime.Helpers;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.target.Executable;
import dev.prism.target.Rule;
import dev.prism.target.Target;
import dev.prism.verifier.VerifiedProgram;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The crafted planner programs of {@code suite/planner/}: one per rule, each with a header
 * naming the rule, the pc it is reported at, the program type, the maps, and the targets that
 * must report it ({@code linux?}: depends on the running kernel, not asserted either way).
 * Also the two test targets whose capabilities restrict what no real target here restricts.
 */
final class PlannerCases {
    private PlannerCases() {
    }

    /** The rules, in the order of {@link Rule#all()}'s standard ones; one file each. */
    static final List<String> RULES = List.of(Rule.PROGRAM_TYPE, Rule.GROUP, Rule.CPU_VERSION, Rule.OPCODE, Rule.MUL_RANGE,
            Rule.DIV_RANGE, Rule.DIV_CONSTANT, Rule.LOOP, Rule.LOOP_TRIPS, Rule.INSN_LIMIT, Rule.STACK_LIMIT,
            Rule.PACKET_OFFSET, Rule.EXECUTED_LIMIT, Rule.HELPER, Rule.HELPER_MAP, Rule.HELPER_ARG, Rule.MAP_TYPE,
            Rule.MAP_KEY_SIZE, Rule.MAP_VALUE_SIZE, Rule.MAP_ENTRIES, Rule.MAP_WRITE, Rule.ATOMIC, Rule.BPF_CALL,
            Rule.TAIL_CALL, Rule.CALLX, Rule.RETURN_CODE);

    record Case(String file, String rule, int pc, List<String> targets, List<String> kernelDependent, Program program) {
        boolean expects(String target) {
            return targets.contains(target);
        }
    }

    static Case load(String rule) {
        String file = "suite/planner/" + rule + ".s";
        String text;
        try (InputStream in = PlannerCases.class.getClassLoader().getResourceAsStream(file)) {
            if (in == null) {
                throw new IllegalStateException("missing " + file);
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String r = null;
        int pc = Integer.MIN_VALUE;
        ProgramType type = ProgramType.RAW;
        List<String> targets = new ArrayList<>();
        List<String> kernel = new ArrayList<>();
        List<MapDef> maps = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.startsWith("# ") || line.indexOf(':') < 0) {
                continue;
            }
            String key = line.substring(2, line.indexOf(':')).strip();
            String value = line.substring(line.indexOf(':') + 1).strip();
            switch (key) {
                case "rule" -> r = value;
                case "pc" -> pc = Integer.parseInt(value);
                case "type" -> type = ProgramType.of(value);
                case "targets" -> {
                    for (String t : value.split(",")) {
                        String id = t.strip();
                        if (id.endsWith("?")) {
                            kernel.add(id.substring(0, id.length() - 1));
                        } else {
                            targets.add(id);
                        }
                    }
                }
                case "map" -> {
                    String[] w = value.split("\\s+");
                    maps.add(MapDef.of(w[0], MapType.valueOf(w[1].toUpperCase(Locale.ROOT)), Integer.parseInt(w[2]),
                            Integer.parseInt(w[3]), Integer.parseInt(w[4]), w.length > 5 ? Integer.parseInt(w[5]) : 0));
                }
                default -> {
                }
            }
        }
        if (!rule.equals(r) || pc == Integer.MIN_VALUE) {
            throw new IllegalStateException(file + ": header must name rule " + rule + " and a pc");
        }
        Program p = Assembler.assemble(rule, type, text);
        if (!maps.isEmpty()) {
            p = p.toBuilder().maps(maps).build();
        }
        return new Case(file, rule, pc, List.copyOf(targets), List.copyOf(kernel), p);
    }

    /**
     * An NFP-like target that restricts every rule: xdp only, no atomic32 group, v3, no mod and no
     * kernel functions (a legalization lifts the opcode rule), small operands, divisors constant,
     * no loops, small limits, four helpers (lookups on hash maps only, update with constant
     * flags), hash maps with limits and atomic-add-only writes, arrays, prog arrays, atomic add
     * only, no calls of any kind, XDP actions 0..3.
     */
    static final Capabilities STRICT = Capabilities.builder()
            .programTypes(ProgramType.XDP)
            .withoutGroups(Group.ATOMIC32)
            .maxVersion(CpuVersion.V3)
            .lacking(o -> o.mnemonic().startsWith("mod") || o.mnemonic().startsWith("call btf"))
            .arithmetic(Capabilities.Arithmetic.ANY.withMulOperandMax(0xffff).withDivOperandMax(0xffff_ffffL)
                    .withDivisorConstant(true))
            .loops(Capabilities.Loops.none())
            .limits(Capabilities.Limits.NONE.withMaxInsns(64).withMaxStack(64).withMaxPacketOffset(64).withMaxExecuted(40))
            .helpers(1, 2, 5, 12)
            .helper(Capabilities.HelperRule.of(1).onMaps(MapType.HASH))
            .helper(Capabilities.HelperRule.of(2).constantArgs(4))
            .maps(Capabilities.MapRule.of(MapType.HASH).withMaxKeySize(8).withMaxValueSize(16).withMaxEntries(1024)
                            .withWrite(Capabilities.MapWrite.ATOMIC_ADD),
                    Capabilities.MapRule.of(MapType.ARRAY), Capabilities.MapRule.of(MapType.PROG_ARRAY))
            .atomics(AtomicOp.ADD)
            .calls(new Capabilities.Calls(false, false, false))
            .returns(Capabilities.Returns.only(0, 1, 2, 3))
            .legalizes(Rule.OPCODE)
            .build();

    /** Everything, but loops are unrolled up to 8 trips. */
    static final Capabilities UNROLLED = Capabilities.builder()
            .helpers(Helpers.all().stream().map(HelperProto::id).collect(Collectors.toSet()))
            .loops(Capabilities.Loops.unrolled(8))
            .build();

    /** A target that only checks and compiles (to nothing): its capabilities are the test's. */
    static Target declared(String id, Capabilities caps) {
        return new Target() {
            @Override
            public String id() {
                return id;
            }

            @Override
            public String description() {
                return "test target with declared capabilities";
            }

            @Override
            public Availability availability() {
                return Availability.no("a test target only checks and compiles");
            }

            @Override
            public Capabilities capabilities() {
                return caps;
            }

            @Override
            public Artifact compile(VerifiedProgram program) {
                requireSupported(program);
                return new Artifact() {
                    @Override
                    public String listing() {
                        return "";
                    }

                    @Override
                    public Executable load() {
                        throw dev.prism.error.TargetException.unsupported("running on a test target");
                    }
                };
            }
        };
    }
}
