package dev.prism.target;

import dev.prism.isa.AtomicOp;
import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.isa.Opcode;
import dev.prism.isa.Opcodes;
import dev.prism.program.MapType;
import dev.prism.program.ProgramType;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Everything a target can refuse, as data (DESIGN.md, "Target SPI"): the planner and
 * {@link CapabilityChecker} match it against a {@link dev.prism.verifier.VerifiedProgram}
 * without compiling. Build one with {@link #builder()}, which starts from "everything, no
 * helpers" and narrows:
 * <pre>{@code
 * Capabilities.builder()
 *         .programTypes(ProgramType.XDP)
 *         .lacking(o -> o.mnemonic().startsWith("mod") || o.mnemonic().startsWith("ldxs"))
 *         .arithmetic(Arithmetic.ANY.withMulOperandMax(0xffff_ffffL).withDivisorConstant(true))
 *         .loops(Loops.unrolled(64))
 *         .limits(Limits.NONE.withMaxInsns(4096).withMaxStack(512))
 *         .helpers(1, 2, 3).helper(HelperRule.of(1).onMaps(MapType.HASH, MapType.ARRAY))
 *         .maps(MapRule.of(MapType.HASH).withMaxEntries(1 << 16).withWrite(MapWrite.ATOMIC_ADD))
 *         .returns(Returns.only(0, 1, 2, 3))
 *         .legalizes(Rule.OPCODE)
 *         .build();
 * }</pre>
 *
 * @param programTypes   program types the target runs
 * @param groups         conformance groups (RFC 9669 section 2.4) it implements
 * @param maxVersion     the highest cpu version whose instructions it implements
 * @param missingOpcodes single registry rows it lacks although their group is present (e.g.
 *                       NFP: mod, sign-extending loads, little-endian byte swaps)
 * @param arithmetic     limits on multiplication and division operands
 * @param loops          whether loops are allowed, and up to how many trips
 * @param limits         instruction, stack, packet-offset and executed-instruction limits
 * @param helperRules    the helpers it implements, by Linux id, each with its restrictions
 * @param maps           the map types it implements, each with size limits and data-plane write rule
 * @param atomics        the atomic operations it implements (in the groups it has)
 * @param calls          bpf-to-bpf calls, tail calls and callx
 * @param returns        the return codes (r0 at the entry function's exits) it accepts
 * @param legalizes      rule ids ({@link Rule}) a legalization of this target can lift: reasons
 *                       with such a rule are marked liftable
 */
public record Capabilities(Set<ProgramType> programTypes, Set<Group> groups, CpuVersion maxVersion,
                           Set<Opcode> missingOpcodes, Arithmetic arithmetic, Loops loops, Limits limits,
                           Map<Integer, HelperRule> helperRules, Map<MapType, MapRule> maps, Set<AtomicOp> atomics,
                           Calls calls, Returns returns, Set<String> legalizes) {
    public Capabilities {
        programTypes = Collections.unmodifiableSet(EnumSet.copyOf(nonEmptyOrNone(programTypes, ProgramType.class)));
        groups = Collections.unmodifiableSet(groups.isEmpty() ? EnumSet.noneOf(Group.class) : EnumSet.copyOf(groups));
        Objects.requireNonNull(maxVersion, "maxVersion");
        missingOpcodes = Set.copyOf(missingOpcodes);
        Objects.requireNonNull(arithmetic, "arithmetic");
        Objects.requireNonNull(loops, "loops");
        Objects.requireNonNull(limits, "limits");
        for (Map.Entry<Integer, HelperRule> e : helperRules.entrySet()) {
            if (e.getKey() != e.getValue().id()) {
                throw new IllegalArgumentException("helper rule for #" + e.getValue().id() + " filed under #" + e.getKey());
            }
        }
        helperRules = Collections.unmodifiableMap(new TreeMap<>(helperRules));
        EnumMap<MapType, MapRule> m = new EnumMap<>(MapType.class);
        for (Map.Entry<MapType, MapRule> e : maps.entrySet()) {
            if (e.getKey() != e.getValue().type()) {
                throw new IllegalArgumentException("map rule for " + e.getValue().type().id() + " filed under " + e.getKey().id());
            }
            m.put(e.getKey(), e.getValue());
        }
        maps = Collections.unmodifiableMap(m);
        atomics = Collections.unmodifiableSet(atomics.isEmpty() ? EnumSet.noneOf(AtomicOp.class) : EnumSet.copyOf(atomics));
        Objects.requireNonNull(calls, "calls");
        Objects.requireNonNull(returns, "returns");
        legalizes = Collections.unmodifiableSet(new TreeSet<>(legalizes));
    }

    private static <E extends Enum<E>> Collection<E> nonEmptyOrNone(Collection<E> c, Class<E> type) {
        return c.isEmpty() ? EnumSet.noneOf(type) : c;
    }

    /**
     * The shape of the first version, kept so that older code keeps compiling: every program
     * type, map type and feature, the given groups, version and helpers without restrictions.
     */
    public Capabilities(Set<Group> groups, CpuVersion maxVersion, Set<Integer> helpers) {
        this(builder().groups(groups).maxVersion(maxVersion).helpers(helpers).build());
    }

    private Capabilities(Capabilities c) {
        this(c.programTypes, c.groups, c.maxVersion, c.missingOpcodes, c.arithmetic, c.loops, c.limits, c.helperRules,
                c.maps, c.atomics, c.calls, c.returns, c.legalizes);
    }

    /** {@return every program type, group, opcode, map type and feature, v4, the given helpers without restrictions} */
    public static Capabilities everything(Set<Integer> helpers) {
        return builder().helpers(helpers).build();
    }

    /** {@return a builder that starts from everything but helpers: narrow it to what the target has} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return a builder holding these capabilities, to derive others from them} */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.programTypes = EnumSet.noneOf(ProgramType.class);
        b.programTypes.addAll(programTypes);
        b.groups = EnumSet.noneOf(Group.class);
        b.groups.addAll(groups);
        b.maxVersion = maxVersion;
        b.missing.addAll(missingOpcodes);
        b.arithmetic = arithmetic;
        b.loops = loops;
        b.limits = limits;
        b.helpers.putAll(helperRules);
        b.maps.clear();
        b.maps.putAll(maps);
        b.atomics = EnumSet.noneOf(AtomicOp.class);
        b.atomics.addAll(atomics);
        b.calls = calls;
        b.returns = returns;
        b.legalizes.addAll(legalizes);
        return b;
    }

    /** {@return the helper ids the target implements} */
    public Set<Integer> helpers() {
        return helperRules.keySet();
    }

    /**
     * {@return null when the opcode's conformance group and cpu version are supported, else the
     * reason}: what the conformance runner skips a case for. Single {@link #missingOpcodes()} are
     * left to {@link Target#check} and the target's refusal at load, so that a case expecting an
     * error still sees the refusal.
     */
    public String whyNot(Opcode opcode) {
        if (!groups.contains(opcode.group())) {
            return "conformance group " + opcode.group() + " not supported (" + opcode.mnemonic() + ")";
        }
        if (opcode.version().compareTo(maxVersion) > 0) {
            return "needs cpu " + opcode.version() + ", target has " + maxVersion + " (" + opcode.mnemonic() + ")";
        }
        return null;
    }

    /**
     * Limits on multiplication and division operands, as unsigned maxima ({@link #UNLIMITED} for
     * none). A 32-bit operation's operands are the low 32 bits of the registers.
     *
     * @param mulOperandMax     the largest value either multiplication operand may have
     * @param divOperandMax     the largest value a dividend or divisor (div, mod, sdiv, smod) may have
     * @param divisorConstant   whether the divisor must be a constant (an immediate, or a register
     *                          the verifier proved holds one value on every path)
     */
    public record Arithmetic(long mulOperandMax, long divOperandMax, boolean divisorConstant) {
        /** No limit: the operand may be any 64-bit value (compared unsigned). */
        public static final long UNLIMITED = -1L;
        /** No limits at all. */
        public static final Arithmetic ANY = new Arithmetic(UNLIMITED, UNLIMITED, false);

        public Arithmetic withMulOperandMax(long max) {
            return new Arithmetic(max, divOperandMax, divisorConstant);
        }

        public Arithmetic withDivOperandMax(long max) {
            return new Arithmetic(mulOperandMax, max, divisorConstant);
        }

        public Arithmetic withDivisorConstant(boolean constant) {
            return new Arithmetic(mulOperandMax, divOperandMax, constant);
        }
    }

    /** How a target treats loops. */
    public enum LoopKind {
        /** no back edges at all */
        NONE,
        /** loops run as loops, each with a proven trip bound up to the limit */
        BOUNDED,
        /** loops are unrolled: each proven trip bound must be at most the limit */
        UNROLLED
    }

    /**
     * Loops: none, bounded up to a trip limit, or unrolled up to N trips.
     *
     * @param maxTrips the largest proven trip bound accepted (0 for {@link LoopKind#NONE})
     */
    public record Loops(LoopKind kind, long maxTrips) {
        /** Any loop the verifier bounds. */
        public static final Loops ANY = new Loops(LoopKind.BOUNDED, Long.MAX_VALUE);

        public Loops {
            Objects.requireNonNull(kind, "kind");
            if (maxTrips < 0 || (kind == LoopKind.NONE && maxTrips != 0)) {
                throw new IllegalArgumentException("loops " + kind + " with trip limit " + maxTrips);
            }
        }

        public static Loops none() {
            return new Loops(LoopKind.NONE, 0);
        }

        public static Loops bounded(long maxTrips) {
            return new Loops(LoopKind.BOUNDED, maxTrips);
        }

        public static Loops unrolled(long maxTrips) {
            return new Loops(LoopKind.UNROLLED, maxTrips);
        }
    }

    /**
     * Size limits; {@link Integer#MAX_VALUE} / {@link Long#MAX_VALUE} for none.
     *
     * @param maxInsns        the most instruction slots a program may have
     * @param maxStack        the most stack bytes along the deepest call chain
     * @param maxPacketOffset the largest packet offset (exclusive end of an access, from data) a
     *                        program may touch
     * @param maxExecuted     the most instructions one run may execute (the verifier's bound)
     */
    public record Limits(int maxInsns, int maxStack, long maxPacketOffset, long maxExecuted) {
        public static final Limits NONE = new Limits(Integer.MAX_VALUE, Integer.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE);

        public Limits {
            if (maxInsns < 0 || maxStack < 0 || maxPacketOffset < 0 || maxExecuted < 0) {
                throw new IllegalArgumentException("negative limit: " + maxInsns + ", " + maxStack + ", " + maxPacketOffset
                        + ", " + maxExecuted);
            }
        }

        public Limits withMaxInsns(int n) {
            return new Limits(n, maxStack, maxPacketOffset, maxExecuted);
        }

        public Limits withMaxStack(int n) {
            return new Limits(maxInsns, n, maxPacketOffset, maxExecuted);
        }

        public Limits withMaxPacketOffset(long n) {
            return new Limits(maxInsns, maxStack, n, maxExecuted);
        }

        public Limits withMaxExecuted(long n) {
            return new Limits(maxInsns, maxStack, maxPacketOffset, n);
        }
    }

    /**
     * One helper the target implements, with its restrictions.
     *
     * @param id           the Linux helper id
     * @param onMaps       the map types its map argument (r1) may have; empty for any
     * @param constantArgs argument registers (1..5) that must hold a constant at the call
     * @param note         what else the target says about it ("" for nothing)
     */
    public record HelperRule(int id, Set<MapType> onMaps, Set<Integer> constantArgs, String note) {
        public HelperRule {
            if (id < 0) {
                throw new IllegalArgumentException("helper id " + id);
            }
            onMaps = Collections.unmodifiableSet(onMaps.isEmpty() ? EnumSet.noneOf(MapType.class) : EnumSet.copyOf(onMaps));
            constantArgs = Collections.unmodifiableSet(new TreeSet<>(constantArgs));
            for (int a : constantArgs) {
                if (a < 1 || a > 5) {
                    throw new IllegalArgumentException("helper #" + id + ": argument register r" + a + " (r1..r5)");
                }
            }
            Objects.requireNonNull(note, "note");
        }

        /** {@return the helper without restrictions} */
        public static HelperRule of(int id) {
            return new HelperRule(id, Set.of(), Set.of(), "");
        }

        public HelperRule onMaps(MapType... types) {
            return new HelperRule(id, Set.of(types), constantArgs, note);
        }

        public HelperRule constantArgs(Integer... regs) {
            return new HelperRule(id, onMaps, Set.of(regs), note);
        }

        public HelperRule withNote(String text) {
            return new HelperRule(id, onMaps, constantArgs, text);
        }
    }

    /** Whether the data plane (the program, not user space) may write a map's values. */
    public enum MapWrite {
        /** read only: no stores, atomics or update/delete helpers */
        NONE,
        /** only atomic add to a value (counters) */
        ATOMIC_ADD,
        /** any store, atomic or helper */
        ANY
    }

    /**
     * One map type the target implements, with its limits ({@link Integer#MAX_VALUE} for none).
     */
    public record MapRule(MapType type, int maxKeySize, int maxValueSize, int maxEntries, MapWrite write) {
        public MapRule {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(write, "write");
            if (maxKeySize < 0 || maxValueSize < 0 || maxEntries < 0) {
                throw new IllegalArgumentException("map rule " + type.id() + ": negative limit");
            }
        }

        /** {@return the type without limits, written freely} */
        public static MapRule of(MapType type) {
            return new MapRule(type, Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE, MapWrite.ANY);
        }

        public MapRule withMaxKeySize(int n) {
            return new MapRule(type, n, maxValueSize, maxEntries, write);
        }

        public MapRule withMaxValueSize(int n) {
            return new MapRule(type, maxKeySize, n, maxEntries, write);
        }

        public MapRule withMaxEntries(int n) {
            return new MapRule(type, maxKeySize, maxValueSize, n, write);
        }

        public MapRule withWrite(MapWrite w) {
            return new MapRule(type, maxKeySize, maxValueSize, maxEntries, w);
        }
    }

    /**
     * Calls beyond helpers.
     *
     * @param local whether bpf-to-bpf calls ({@code call local}) are supported
     * @param tail  whether {@code bpf_tail_call} (helper 12) is, when the helper is listed
     * @param callx whether {@code callx} is, when the group callx is present
     */
    public record Calls(boolean local, boolean tail, boolean callx) {
        public static final Calls ALL = new Calls(true, true, true);
    }

    /**
     * The return codes a target accepts from the entry function (for XDP: the actions).
     *
     * @param any   whether every value is accepted
     * @param codes the values accepted when not {@code any}
     */
    public record Returns(boolean any, Set<Long> codes) {
        public static final Returns ANY = new Returns(true, Set.of());

        public Returns {
            codes = Collections.unmodifiableSet(new TreeSet<>(codes));
            if (any && !codes.isEmpty()) {
                throw new IllegalArgumentException("return codes: any, and a list");
            }
        }

        public static Returns only(long... values) {
            return new Returns(false, Arrays.stream(values).boxed().collect(Collectors.toSet()));
        }

        public boolean allows(long r0) {
            return any || codes.contains(r0);
        }
    }

    /** Narrows "everything, no helpers" to what a target has; every method returns this builder. */
    public static final class Builder {
        private EnumSet<ProgramType> programTypes = EnumSet.allOf(ProgramType.class);
        private EnumSet<Group> groups = EnumSet.allOf(Group.class);
        private CpuVersion maxVersion = CpuVersion.V4;
        private final Set<Opcode> missing = new LinkedHashSet<>();
        private Arithmetic arithmetic = Arithmetic.ANY;
        private Loops loops = Loops.ANY;
        private Limits limits = Limits.NONE;
        private final Map<Integer, HelperRule> helpers = new TreeMap<>();
        private final EnumMap<MapType, MapRule> maps = new EnumMap<>(MapType.class);
        private EnumSet<AtomicOp> atomics = EnumSet.allOf(AtomicOp.class);
        private Calls calls = Calls.ALL;
        private Returns returns = Returns.ANY;
        private final Set<String> legalizes = new TreeSet<>();

        private Builder() {
            for (MapType t : MapType.values()) {
                maps.put(t, MapRule.of(t));
            }
        }

        public Builder programTypes(ProgramType... types) {
            programTypes = EnumSet.noneOf(ProgramType.class);
            programTypes.addAll(Arrays.asList(types));
            return this;
        }

        public Builder groups(Collection<Group> gs) {
            groups = EnumSet.noneOf(Group.class);
            groups.addAll(gs);
            return this;
        }

        public Builder groups(Group... gs) {
            return groups(Arrays.asList(gs));
        }

        public Builder withoutGroups(Group... gs) {
            Arrays.asList(gs).forEach(groups::remove);
            return this;
        }

        public Builder maxVersion(CpuVersion v) {
            maxVersion = v;
            return this;
        }

        /** Marks single registry rows as missing. */
        public Builder lacking(Opcode... opcodes) {
            missing.addAll(Arrays.asList(opcodes));
            return this;
        }

        /** Marks every registry row matching {@code which} as missing, e.g. {@code o -> o.mnemonic().startsWith("mod")}. */
        public Builder lacking(Predicate<Opcode> which) {
            Opcodes.all().stream().filter(which).forEach(missing::add);
            return this;
        }

        public Builder arithmetic(Arithmetic a) {
            arithmetic = a;
            return this;
        }

        public Builder loops(Loops l) {
            loops = l;
            return this;
        }

        public Builder limits(Limits l) {
            limits = l;
            return this;
        }

        /** Adds helpers without restrictions. */
        public Builder helpers(Collection<Integer> ids) {
            ids.forEach(id -> helpers.put(id, HelperRule.of(id)));
            return this;
        }

        public Builder helpers(Integer... ids) {
            return helpers(Arrays.asList(ids));
        }

        /** Adds or replaces one helper with its restrictions. */
        public Builder helper(HelperRule rule) {
            helpers.put(rule.id(), rule);
            return this;
        }

        public Builder withoutHelpers(Integer... ids) {
            Arrays.asList(ids).forEach(helpers::remove);
            return this;
        }

        /** Replaces the map types with exactly these rules. */
        public Builder maps(MapRule... rules) {
            maps.clear();
            for (MapRule r : rules) {
                maps.put(r.type(), r);
            }
            return this;
        }

        /** Adds or replaces one map type's rule. */
        public Builder map(MapRule rule) {
            maps.put(rule.type(), rule);
            return this;
        }

        public Builder atomics(AtomicOp... ops) {
            atomics = EnumSet.noneOf(AtomicOp.class);
            atomics.addAll(Arrays.asList(ops));
            return this;
        }

        public Builder calls(Calls c) {
            calls = c;
            return this;
        }

        public Builder returns(Returns r) {
            returns = r;
            return this;
        }

        /** Names rules ({@link Rule}) a legalization of the target can lift. */
        public Builder legalizes(String... rules) {
            for (String r : rules) {
                legalizes.add(Rule.require(r));
            }
            return this;
        }

        public Capabilities build() {
            return new Capabilities(programTypes, groups, maxVersion, missing, arithmetic, loops, limits, helpers, maps,
                    atomics, calls, returns, legalizes);
        }
    }
}
