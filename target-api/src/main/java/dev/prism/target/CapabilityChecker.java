package dev.prism.target;

import dev.prism.isa.AluOp;
import dev.prism.isa.AtomicOp;
import dev.prism.isa.CallKind;
import dev.prism.isa.Group;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.Opcode;
import dev.prism.isa.Opcodes;
import dev.prism.isa.Reg;
import dev.prism.isa.Width;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.runtime.Helpers;
import dev.prism.verifier.Facts;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.domain.Scalar;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Matches {@link Capabilities} against a {@link VerifiedProgram}: its {@link VerifiedProgram.Requires}
 * and per-instruction {@link Facts} (ranges, constant divisors, memory accesses, loop bounds).
 * It is {@link Target#check}'s default, and the base a backend extends with rules of its own:
 * <pre>{@code
 * static final String NO_WIDE_STORE = Rule.define("nfp-wide-store", "...");
 * public Verdict check(VerifiedProgram p) {
 *     return CapabilityChecker.of(capabilities()).with((program, out) -> {
 *         for (int pc = 0; pc < program.program().length(); pc++) {
 *             if (...) out.add(pc, NO_WIDE_STORE, "stxdw to the packet");
 *         }
 *     }).check(p);
 * }
 * }</pre>
 * The standard rules, by id ({@link Rule}): program-type, group, cpu-version, opcode,
 * mul-range, div-range, div-constant, loop, loop-trips, insn-limit, stack-limit, packet-offset,
 * executed-limit, helper, helper-map, helper-arg, map-type, map-key-size, map-value-size,
 * map-entries, map-write, atomic, bpf-call, tail-call, callx, return-code.
 */
public final class CapabilityChecker {
    /** A rule of a backend's own, run after the standard ones. */
    @FunctionalInterface
    public interface Extra {
        /** Adds to {@code out} a reason for each refusal in {@code program}. */
        void check(VerifiedProgram program, Verdict.Builder out);
    }

    /** The largest r0 range enumerated value by value against a list of return codes. */
    private static final long ENUMERATED_RETURNS = 4096;

    private final Capabilities caps;
    private final List<Extra> extras;

    private CapabilityChecker(Capabilities caps, List<Extra> extras) {
        this.caps = caps;
        this.extras = List.copyOf(extras);
    }

    public static CapabilityChecker of(Capabilities caps) {
        return new CapabilityChecker(caps, List.of());
    }

    /** {@return this checker with one more rule} */
    public CapabilityChecker with(Extra extra) {
        List<Extra> all = new ArrayList<>(extras);
        all.add(extra);
        return new CapabilityChecker(caps, all);
    }

    /** {@return the verdict: the standard rules, then the extras} */
    public Verdict check(VerifiedProgram verified) {
        Program program = verified.program();
        Verdict.Builder out = new Verdict.Builder(program, caps.legalizes());
        checkProgram(verified, out);
        for (int pc = 0; pc < program.length(); pc++) {
            Insn insn = program.at(pc);
            if (insn != null) {
                checkInsn(verified, pc, insn, out);
            }
        }
        checkLoops(verified, out);
        checkReturns(verified, out);
        for (Extra e : extras) {
            e.check(verified, out);
        }
        return out.build();
    }

    private void checkProgram(VerifiedProgram verified, Verdict.Builder out) {
        Program program = verified.program();
        if (!caps.programTypes().contains(program.type())) {
            out.add(-1, Rule.PROGRAM_TYPE, "program type " + program.type().id() + " (the target runs "
                    + caps.programTypes().stream().map(t -> t.id()).collect(Collectors.joining(", ")) + ")");
        }
        Capabilities.Limits lim = caps.limits();
        if (program.length() > lim.maxInsns()) {
            out.add(lim.maxInsns(), Rule.INSN_LIMIT, program.length() + " instructions, more than the target's " + lim.maxInsns());
        }
        int stack = verified.requires().stackDepth();
        if (stack > lim.maxStack()) {
            out.add(-1, Rule.STACK_LIMIT, stack + " bytes of stack along the deepest call chain, more than the target's "
                    + lim.maxStack());
        }
        long executed = verified.stats().executedBound();
        if (executed > lim.maxExecuted()) {
            out.add(-1, Rule.EXECUTED_LIMIT, "a run may execute " + executed + " instructions, more than the target's "
                    + lim.maxExecuted());
        }
        List<MapDef> maps = program.maps();
        for (int i = 0; i < maps.size(); i++) {
            MapDef m = maps.get(i);
            int at = firstReference(program, i);
            Capabilities.MapRule rule = caps.maps().get(m.type());
            if (rule == null) {
                out.add(at, Rule.MAP_TYPE, "map " + m.name() + " of type " + m.type().id() + " (the target has "
                        + (caps.maps().isEmpty() ? "no maps" : caps.maps().keySet().stream().map(MapType::id)
                        .collect(Collectors.joining(", "))) + ")");
                continue;
            }
            if (m.keySize() > rule.maxKeySize()) {
                out.add(at, Rule.MAP_KEY_SIZE, "map " + m.name() + ": key of " + m.keySize() + " bytes, the target's "
                        + m.type().id() + " keys are at most " + rule.maxKeySize());
            }
            if (m.valueSize() > rule.maxValueSize()) {
                out.add(at, Rule.MAP_VALUE_SIZE, "map " + m.name() + ": value of " + m.valueSize() + " bytes, the target's "
                        + m.type().id() + " values are at most " + rule.maxValueSize());
            }
            if (m.maxEntries() > rule.maxEntries()) {
                out.add(at, Rule.MAP_ENTRIES, "map " + m.name() + ": " + m.maxEntries() + " entries, the target's "
                        + m.type().id() + " maps hold at most " + rule.maxEntries());
            }
        }
    }

    /** {@return the first lddw that names map {@code index}, or -1} */
    private static int firstReference(Program program, int index) {
        for (int pc = 0; pc < program.length(); pc++) {
            if (program.at(pc) instanceof Insn.LoadImm64 l && l.imm() == index && switch (l.kind()) {
                case MAP_BY_IDX, MAP_VALUE_BY_IDX, MAP_BY_FD, MAP_VALUE_BY_FD -> true;
                case IMM64, VARIABLE_ADDR, CODE_ADDR -> false;
            }) {
                return pc;
            }
        }
        return -1;
    }

    private void checkInsn(VerifiedProgram verified, int pc, Insn insn, Verdict.Builder out) {
        Opcode row = Opcodes.of(insn);
        Facts facts = verified.facts(pc);
        if (insn instanceof Insn.CallX) {
            if (!caps.groups().contains(Group.CALLX) || !caps.calls().callx()) {
                out.add(pc, Rule.CALLX, "callx (indirect call)");
            }
            return;
        }
        if (!caps.groups().contains(row.group())) {
            out.add(pc, Rule.GROUP, row.mnemonic() + " is in conformance group " + row.group() + ", which the target lacks");
            return;
        }
        if (row.version().compareTo(caps.maxVersion()) > 0) {
            out.add(pc, Rule.CPU_VERSION, row.mnemonic() + " needs cpu " + row.version() + ", the target has "
                    + caps.maxVersion());
            return;
        }
        if (caps.missingOpcodes().contains(row)) {
            out.add(pc, Rule.OPCODE, row.mnemonic() + " (opcode " + row.key() + ")");
            return;
        }
        switch (insn) {
            case Insn.Alu a when a.op() == AluOp.MUL -> checkMul(pc, a, facts, out);
            case Insn.Alu a when a.op().isDivMod() -> checkDiv(pc, a, facts, out);
            case Insn.Atomic a -> {
                if (!caps.atomics().contains(a.op())) {
                    out.add(pc, Rule.ATOMIC, "atomic " + a.op().mnemonic() + " (the target has "
                            + (caps.atomics().isEmpty() ? "none" : caps.atomics().stream().map(AtomicOp::mnemonic)
                            .collect(Collectors.joining(", "))) + ")");
                }
                checkMapWrite(verified, pc, facts, a.op() == AtomicOp.ADD ? "atomic add" : "atomic " + a.op().mnemonic(),
                        a.op() == AtomicOp.ADD ? Capabilities.MapWrite.ATOMIC_ADD : Capabilities.MapWrite.ANY, out);
            }
            case Insn.Store s -> checkMapWrite(verified, pc, facts, "a store", Capabilities.MapWrite.ANY, out);
            case Insn.Call c -> checkCall(verified, pc, c, facts, out);
            case Insn.Alu a -> {
            }
            case Insn.Neg n -> {
            }
            case Insn.MovSx m -> {
            }
            case Insn.Endian e -> {
            }
            case Insn.LoadImm64 l -> {
            }
            case Insn.Load l -> {
            }
            case Insn.Ja j -> {
            }
            case Insn.Jump j -> {
            }
            case Insn.CallX x -> {
            }
            case Insn.Exit e -> {
            }
            case Insn.PacketLoad p -> {
            }
        }
        if (facts != null && facts.access() != null && facts.access().region() == Facts.Kind.PACKET) {
            long end = facts.access().maxOffset() + facts.access().size();
            if (end > caps.limits().maxPacketOffset()) {
                out.add(pc, Rule.PACKET_OFFSET, "packet access up to byte " + end + ", beyond the target's "
                        + caps.limits().maxPacketOffset());
            }
        }
    }

    /** {@return the largest unsigned value the operand may have (the low 32 bits for a 32-bit operation), or -1 for any} */
    private static long operandMax(Width width, Facts facts, Reg reg) {
        long max = -1L;
        if (facts != null) {
            Scalar s = facts.registers().get(reg.ordinal()).value();
            if (facts.registers().get(reg.ordinal()).kind() == Facts.Kind.SCALAR) {
                max = s.umax();
            }
        }
        if (width == Width.W32 && Long.compareUnsigned(max, 0xffff_ffffL) > 0) {
            max = 0xffff_ffffL;
        }
        return max;
    }

    private static long operandMax(Width width, Facts facts, dev.prism.isa.Operand op) {
        return switch (op) {
            case Reg r -> operandMax(width, facts, r);
            case Imm i -> width == Width.W32 ? i.value() & 0xffff_ffffL : (long) i.value();
        };
    }

    private void checkMul(int pc, Insn.Alu a, Facts facts, Verdict.Builder out) {
        long limit = caps.arithmetic().mulOperandMax();
        long dst = operandMax(a.width(), facts, a.dst());
        long src = operandMax(a.width(), facts, a.src());
        if (Long.compareUnsigned(dst, limit) > 0 || Long.compareUnsigned(src, limit) > 0) {
            out.add(pc, Rule.MUL_RANGE, "mul" + a.width().suffix() + " with operands up to " + Long.toUnsignedString(dst)
                    + " and " + Long.toUnsignedString(src) + ", the target multiplies operands up to "
                    + Long.toUnsignedString(limit));
        }
    }

    private void checkDiv(int pc, Insn.Alu a, Facts facts, Verdict.Builder out) {
        String name = a.op().mnemonic() + a.width().suffix();
        boolean constant = a.src() instanceof Imm || (facts != null && facts.divisor() != null);
        if (caps.arithmetic().divisorConstant() && !constant) {
            out.add(pc, Rule.DIV_CONSTANT, name + " by a register that is not a proven constant");
        }
        long limit = caps.arithmetic().divOperandMax();
        long dst = operandMax(a.width(), facts, a.dst());
        long src = a.src() instanceof Reg r && facts != null && facts.divisor() != null
                ? (a.width() == Width.W32 ? facts.divisor() & 0xffff_ffffL : facts.divisor())
                : operandMax(a.width(), facts, a.src());
        if (Long.compareUnsigned(dst, limit) > 0 || Long.compareUnsigned(src, limit) > 0) {
            out.add(pc, Rule.DIV_RANGE, name + " with dividend up to " + Long.toUnsignedString(dst) + " and divisor up to "
                    + Long.toUnsignedString(src) + ", the target divides operands up to " + Long.toUnsignedString(limit));
        }
    }

    private void checkCall(VerifiedProgram verified, int pc, Insn.Call c, Facts facts, Verdict.Builder out) {
        switch (c.kind()) {
            case LOCAL -> {
                if (!caps.calls().local()) {
                    out.add(pc, Rule.BPF_CALL, "call to a bpf function at " + (pc + 1 + c.imm()));
                }
            }
            case HELPER_BTF -> out.add(pc, Rule.HELPER, "call btf " + c.imm() + " (kernel functions)");
            case HELPER -> checkHelper(verified, pc, c.imm(), facts, out);
        }
    }

    private void checkHelper(VerifiedProgram verified, int pc, int id, Facts facts, Verdict.Builder out) {
        if (id == Helpers.TAIL_CALL && !caps.calls().tail() && caps.helpers().contains(id)) {
            out.add(pc, Rule.TAIL_CALL, "bpf_tail_call");
            return;
        }
        Capabilities.HelperRule rule = caps.helperRules().get(id);
        if (rule == null) {
            out.add(pc, id == Helpers.TAIL_CALL ? Rule.TAIL_CALL : Rule.HELPER, Helpers.describeUnsupported(id));
            return;
        }
        Program program = verified.program();
        if (!rule.onMaps().isEmpty() && facts != null) {
            MapDef map = mapIn(program, facts, Reg.R1);
            if (map == null || !rule.onMaps().contains(map.type())) {
                out.add(pc, Rule.HELPER_MAP, Helpers.describeUnsupported(id) + " on "
                        + (map == null ? "a map the verifier did not pin" : "map " + map.name() + " of type " + map.type().id())
                        + " (the target allows " + rule.onMaps().stream().map(MapType::id).collect(Collectors.joining(", ")) + ")");
            }
        }
        for (int arg : rule.constantArgs()) {
            Facts.Register r = facts == null ? null : facts.registers().get(arg);
            if (r == null || r.kind() != Facts.Kind.SCALAR || !r.value().isConstant()) {
                out.add(pc, Rule.HELPER_ARG, Helpers.describeUnsupported(id) + " with r" + arg + " not a constant"
                        + (r == null ? "" : " (" + r.value() + ")"));
                break;
            }
        }
        if ((id == Helpers.MAP_UPDATE_ELEM || id == Helpers.MAP_DELETE_ELEM) && facts != null) {
            MapDef map = mapIn(program, facts, Reg.R1);
            Capabilities.MapRule mr = map == null ? null : caps.maps().get(map.type());
            if (mr != null && mr.write() != Capabilities.MapWrite.ANY) {
                out.add(pc, Rule.MAP_WRITE, Helpers.describeUnsupported(id) + " on map " + map.name()
                        + ": the target's data plane " + writeRule(mr));
            }
        }
    }

    private static MapDef mapIn(Program program, Facts facts, Reg reg) {
        Facts.Register r = facts.registers().get(reg.ordinal());
        return r.kind() == Facts.Kind.MAP && r.map() >= 0 && r.map() < program.maps().size() ? program.maps().get(r.map()) : null;
    }

    private void checkMapWrite(VerifiedProgram verified, int pc, Facts facts, String what, Capabilities.MapWrite needs,
                               Verdict.Builder out) {
        if (facts == null || facts.access() == null || facts.access().region() != Facts.Kind.MAP_VALUE) {
            return;
        }
        List<MapDef> maps = verified.program().maps();
        int index = facts.access().frameOrMap();
        List<MapDef> candidates = index >= 0 && index < maps.size() ? List.of(maps.get(index)) : maps;
        for (MapDef m : candidates) {
            Capabilities.MapRule mr = caps.maps().get(m.type());
            if (mr != null && mr.write().compareTo(needs) < 0) {
                out.add(pc, Rule.MAP_WRITE, what + " to a value of map " + m.name() + ": the target's data plane " + writeRule(mr));
                return;
            }
        }
    }

    private static String writeRule(Capabilities.MapRule mr) {
        return switch (mr.write()) {
            case NONE -> "never writes " + mr.type().id() + " maps";
            case ATOMIC_ADD -> "only adds atomically to " + mr.type().id() + " values";
            case ANY -> "writes " + mr.type().id() + " maps freely";
        };
    }

    private void checkLoops(VerifiedProgram verified, Verdict.Builder out) {
        Capabilities.Loops loops = caps.loops();
        for (Map.Entry<Integer, Long> e : new java.util.TreeMap<>(verified.loopBounds()).entrySet()) {
            int head = e.getKey();
            long trips = e.getValue();
            switch (loops.kind()) {
                case NONE -> out.add(head, Rule.LOOP, "loop with at most " + trips + " trips (the target has no loops)");
                case BOUNDED -> {
                    if (trips > loops.maxTrips()) {
                        out.add(head, Rule.LOOP_TRIPS, "loop with at most " + trips + " trips, the target's limit is "
                                + loops.maxTrips());
                    }
                }
                case UNROLLED -> {
                    if (trips > loops.maxTrips()) {
                        out.add(head, Rule.LOOP_TRIPS, "loop with at most " + trips + " trips, the target unrolls up to "
                                + loops.maxTrips());
                    }
                }
            }
        }
    }

    private void checkReturns(VerifiedProgram verified, Verdict.Builder out) {
        Capabilities.Returns returns = caps.returns();
        if (returns.any()) {
            return;
        }
        verified.cfg().function(0).ifPresent(entry -> {
            for (int pc : entry.exits()) {
                Facts f = verified.facts(pc);
                if (f == null) {
                    continue;
                }
                Facts.Register r0 = f.registers().get(0);
                String bad = badReturn(r0, returns);
                if (bad != null) {
                    out.add(pc, Rule.RETURN_CODE, "exit with r0 " + bad + " (the target accepts "
                            + returns.codes().stream().map(String::valueOf).collect(Collectors.joining(", ")) + ")");
                }
            }
        });
    }

    /** {@return null when every value r0 may hold is allowed, else a description of one that is not} */
    private static String badReturn(Facts.Register r0, Capabilities.Returns returns) {
        if (r0.kind() != Facts.Kind.SCALAR) {
            return "a pointer";
        }
        Scalar s = r0.value();
        if (s.isConstant()) {
            return returns.allows(s.constantValue()) ? null : "= " + s.constantValue();
        }
        if (Long.compareUnsigned(s.umax() - s.umin(), ENUMERATED_RETURNS) > 0) {
            return "in " + s;
        }
        for (long v = s.umin(); Long.compareUnsigned(v, s.umax()) <= 0; v++) {
            if (s.contains(v) && !returns.allows(v)) {
                return "possibly " + v;
            }
            if (v == s.umax()) {
                break;
            }
        }
        return null;
    }
}
