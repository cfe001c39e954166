package dev.prism.p4;

import dev.prism.isa.AluOp;
import dev.prism.isa.AtomicOp;
import dev.prism.isa.CallKind;
import dev.prism.isa.EndianOp;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.JumpOp;
import dev.prism.isa.Operand;
import dev.prism.isa.Reg;
import dev.prism.isa.Size;
import dev.prism.isa.Width;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Helpers;
import dev.prism.verifier.Facts;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.domain.Scalar;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Lowers a verified XDP (or raw) program to P4_16 for v1model (DESIGN.md, target {@code p4}).
 * The same pass checks: every construct it cannot express becomes a {@link P4Refusal}, so
 * {@link P4Checker} and {@link P4Target#compile} cannot disagree.
 *
 * <h2>Values</h2>
 * Registers r0..r10 are {@code bit<64>} locals of the ingress control. Pointers are numbers the
 * P4 program can compute with, so pointer arithmetic, spills and comparisons need no special
 * case:
 * <pre>
 *   packet / raw memory   the byte offset from data (data_end is standard_metadata.packet_length)
 *   stack                 512 + the offset from r10 (r10 itself is 512)
 *   ARRAY map value       1 + index * value_size + offset into the value (0 is NULL)
 *   HASH / LPM map value  1 + offset into the map's value buffer (0 is NULL)
 *   ctx, map handles      0 (the IR says which map every helper call gets)
 * </pre>
 * Bytes are fields: the packet's first N bytes (N = the largest proven offset + size) are a
 * header stack {@code h.p[N]} of one-byte headers, extracted by the parser and emitted by the
 * deparser, so stores reach the wire and the unparsed rest follows unchanged; stack bytes are
 * {@code bit<8>} locals {@code s_I}; ARRAY (and PERCPU_ARRAY, one CPU) maps are
 * {@code register<bit<8>>} arrays. Loads and stores are little-endian concatenations of bytes.
 * A load or store at a variable packet or stack offset becomes an {@code if} chain over the
 * offsets the IR allows (the "bounded select"), up to {@link #MAX_SELECT}; more is refused.
 *
 * <h2>Control flow</h2>
 * {@link P4Unroller} unrolls loops into a DAG; each DAG node becomes one
 * {@code if (gN) { ... }} block in topological order that ends by setting the guard flag of its
 * successor(s), so the output grows linearly with the unrolled program.
 *
 * <h2>Arithmetic (RFC 9669)</h2>
 * Shift amounts are masked; 32-bit results zero-extended. p4c only divides by compile-time
 * powers of two, so division by a constant power of two is a shift or mask, any other division
 * calls {@code prism_udiv64}/{@code prism_udiv32}: restoring long division, one step per bit,
 * as one action; a zero divisor gives 0 (div) or leaves dst (mod) as BPF says, checked before the
 * call. Signed division and modulo divide the magnitudes and fix the signs.
 *
 * <h2>Architecture</h2>
 * Only {@link #assemble} and a few statements name v1model: {@code standard_metadata} (packet
 * length, ingress port and timestamp, egress_spec), {@code mark_to_drop}, {@code random}, the
 * {@code V1Switch} package. The blocks, the byte fields, the registers and the tables are plain
 * P4_16; a PNA variant replaces the scaffolding (main parser/control/deparser, {@code
 * drop_packet()}, {@code send_to_port()}, {@code istd} fields) and could take data-plane
 * inserts into hash maps through {@code add_entry} (add_on_miss), which v1model refuses.
 */
final class P4Lowering {
    /** Most packet bytes the parser extracts. */
    static final int MAX_PACKET_BYTES = 512;
    /**
     * Most candidate offsets of a variable packet or stack access. (p4c's own expansion of a
     * header stack indexed at run time gives up on stacks this parser's size: "too much
     * expansion from non-const array indexes", so the lowering enumerates the IR's offsets.)
     */
    static final int MAX_SELECT = 128;
    /** Most instructions after unrolling. */
    static final long UNROLL_LIMIT = 8192;
    /** The port XDP_PASS sends to: the host stack ("CPU port"). */
    static final int HOST_PORT = 510;
    /** Capacity of the run log (register prism_r0): r0 of the last RUN_LOG packets. */
    static final int RUN_LOG = 4096;
    /** Bytes of a bundle's program number in front of each packet. */
    static final int BUNDLE_TAG_BYTES = 2;
    /** Stack bytes of the BPF frame. */
    static final int STACK = 512;

    /** How a map lives in the P4 program. */
    enum Binding {
        /** a register&lt;bit&lt;8&gt;&gt; of max_entries * value_size bytes */
        REGISTER,
        /** a table with an exact key on the whole key */
        EXACT_TABLE,
        /** a table emulating the LPM trie: range on the lookup prefix length, ternary on the data, priority by prefix */
        LPM_TABLE,
        /** not used by the program's data plane: kept on the host only */
        HOST_ONLY
    }

    /** One map and its P4 form. */
    record MapBinding(int index, MapDef def, Binding binding, String p4Name) {
        String table() {
            return "t_" + p4Name;
        }

        String hitAction() {
            return "hit_" + p4Name;
        }
    }

    /** The lowering's outcome: source and bindings, or the refusals. */
    record Result(String source, List<Integer> linePcs, List<MapBinding> maps, int packetBytes, boolean raw,
                  int dagNodes, long unrolledInsns, List<P4Refusal> refusals) {
    }

    private final VerifiedProgram vp;
    private final Program prog;
    private final boolean raw;
    private final List<P4Refusal> refusals = new ArrayList<>();
    private final List<MapBinding> maps = new ArrayList<>();
    private final TreeSet<Integer> stackBytes = new TreeSet<>();
    private final Map<Integer, Integer> hashLookupSite = new TreeMap<>();
    private final Map<String, String> actions = new LinkedHashMap<>();
    /** Whether packet bytes live in register prism_pkt during the control (a variable offset with too many cases). */
    private boolean mirror;
    private boolean usesDiv64;
    private boolean usesDiv32;
    private boolean usesRandom;
    private int packetBytes;
    private P4Writer body = new P4Writer();
    /** The control's name in a bundle, null for a program of its own. */
    private final String control;
    /** Bytes in front of the packet (or memory): a raw program's tag, a bundle's program number. */
    private final int prefix;

    private P4Lowering(VerifiedProgram vp, String control) {
        this.vp = vp;
        this.prog = vp.program();
        this.raw = prog.type() == ProgramType.RAW;
        this.control = control;
        this.prefix = control != null ? BUNDLE_TAG_BYTES : raw ? 1 : 0;
    }

    /** {@return the P4 program, or the refusals when it has any} */
    static Result lower(VerifiedProgram vp) {
        return new P4Lowering(vp, null).run();
    }

    /**
     * {@return the program as one control named {@code control} of a bundle ({@link Bmv2Bundle}),
     * or the refusals}: the packet (or a raw program's memory) follows a {@value #BUNDLE_TAG_BYTES}-byte
     * program number, the bundle's headers {@code h.p} are at least {@link Result#packetBytes} long
     */
    static Result lowerControl(VerifiedProgram vp, String control) {
        return new P4Lowering(vp, control).run();
    }

    private void refuse(int pc, String rule, String sentence, boolean legalizable) {
        String src = pc >= 0 ? prog.sourceLine(pc).map(Object::toString).orElse(null) : null;
        for (P4Refusal r : refusals) {
            if (r.pc() == pc && r.rule().equals(rule)) {
                return;
            }
        }
        refusals.add(new P4Refusal(pc, rule, sentence, src, legalizable));
    }

    private Result run() {
        if (prog.type() != ProgramType.XDP && prog.type() != ProgramType.RAW) {
            refuse(-1, "p4.program-type", "program type " + prog.type().id() + " not supported (xdp and raw only)", false);
            return result(null);
        }
        bindMaps();
        for (int pc = 0; pc < prog.length(); pc++) {
            Insn insn = prog.at(pc);
            if (insn != null && vp.cfg().isReachable(pc)) {
                precheck(pc, insn);
            }
        }
        if (vp.cfg().functions().size() > 1) {
            for (int pc = 0; pc < prog.length(); pc++) {
                if (prog.at(pc) instanceof Insn.Call c && c.kind() == CallKind.LOCAL
                        || prog.at(pc) instanceof Insn.LoadImm64 l && l.kind() == dev.prism.isa.LoadImm64Kind.CODE_ADDR) {
                    refuse(pc, "p4.call", "bpf-to-bpf calls not supported (P4 has no calls; inline them)", true);
                }
            }
        }
        packetBytes = raw ? Math.max(0, vp.memSize()) : packetExtent();
        if (packetBytes > MAX_PACKET_BYTES) {
            refuse(-1, "p4.packet-offset", "packet offsets up to " + packetBytes + " bytes; the parser extracts at most "
                    + MAX_PACKET_BYTES, false);
        }
        if (!refusals.isEmpty()) {
            return result(null);
        }
        P4Unroller.Dag dag;
        try {
            dag = P4Unroller.unroll(vp, UNROLL_LIMIT);
        } catch (P4Unroller.TooLarge e) {
            refuse(e.loopHead, "p4.unroll-limit", e.getMessage() + " (loop bounds " + vp.loopBounds() + ")", true);
            return result(null);
        }
        lowerDag(dag);
        if (!refusals.isEmpty()) {
            return result(null);
        }
        P4Writer out = control == null ? assemble(dag) : assembleControl(dag, control);
        return new Result(out.text(), out.linePcs(), List.copyOf(maps), packetBytes, raw, dag.nodes().size(), dag.insns(),
                List.of());
    }

    private Result result(P4Writer w) {
        return new Result(null, List.of(), List.copyOf(maps), packetBytes, raw, 0, 0, List.copyOf(refusals));
    }

    // ---------------------------------------------------------------- maps

    private void bindMaps() {
        List<MapDef> defs = prog.maps();
        boolean[] looked = new boolean[defs.size()];
        for (int pc = 0; pc < prog.length(); pc++) {
            if (prog.at(pc) instanceof Insn.Call c && c.kind() == CallKind.HELPER && vp.facts(pc) != null) {
                int m = vp.facts(pc).registers().get(1).map();
                if (m >= 0 && m < defs.size()) {
                    looked[m] = true;
                }
            }
            if (prog.at(pc) instanceof Insn.LoadImm64 l && l.kind() != dev.prism.isa.LoadImm64Kind.IMM64 && l.imm() >= 0
                    && l.imm() < defs.size()) {
                looked[l.imm()] = true;
            }
        }
        for (int i = 0; i < defs.size(); i++) {
            MapDef d = defs.get(i);
            String name = "m" + i + "_" + d.name().replaceAll("[^A-Za-z0-9_]", "_");
            Binding b = switch (d.type()) {
                case ARRAY, PERCPU_ARRAY -> Binding.REGISTER;
                case HASH, PERCPU_HASH, LRU_HASH -> Binding.EXACT_TABLE;
                case LPM_TRIE -> Binding.LPM_TABLE;
                case PROG_ARRAY, RINGBUF -> Binding.HOST_ONLY;
                // refused by check (not in P4Target's map rules) before any lowering
                case PERF_EVENT_ARRAY, ARRAY_OF_MAPS, HASH_OF_MAPS, DEVMAP, DEVMAP_HASH, CPUMAP, XSKMAP -> Binding.HOST_ONLY;
            };
            if (!looked[i]) {
                b = b == Binding.REGISTER ? Binding.REGISTER : Binding.HOST_ONLY;
            }
            maps.add(new MapBinding(i, d, b, name));
        }
    }

    private MapBinding map(int index) {
        return index >= 0 && index < maps.size() ? maps.get(index) : null;
    }

    // ---------------------------------------------------------------- checks before lowering

    private void precheck(int pc, Insn insn) {
        switch (insn) {
            case Insn.Call c -> {
                if (c.kind() == CallKind.HELPER_BTF) {
                    refuse(pc, "p4.kfunc", "kfunc calls not supported", false);
                } else if (c.kind() == CallKind.HELPER) {
                    checkHelper(pc, c.imm());
                }
            }
            case Insn.CallX x -> refuse(pc, "p4.callx", "callx not supported (P4 has no indirect calls)", false);
            case Insn.PacketLoad p -> refuse(pc, "p4.legacy-packet-load", "legacy packet loads (ld_abs/ld_ind) not supported", false);
            case Insn.LoadImm64 l -> {
                switch (l.kind()) {
                    case IMM64, MAP_BY_FD, MAP_BY_IDX -> {
                    }
                    case MAP_VALUE_BY_FD, MAP_VALUE_BY_IDX -> {
                        MapBinding m = map(l.imm());
                        if (m == null || m.binding() != Binding.REGISTER) {
                            refuse(pc, "p4.map-value-address", "address of a value of a non-array map not supported", false);
                        }
                    }
                    case VARIABLE_ADDR, CODE_ADDR -> refuse(pc, "p4.code-address", "lddw " + l.kind().keyword()
                            + " not supported", false);
                }
            }
            case Insn.Load l -> checkAccess(pc, false);
            case Insn.Store s -> checkAccess(pc, true);
            case Insn.Atomic a -> checkAccess(pc, true);
            case Insn.Alu a -> {
            }
            case Insn.Neg n -> {
            }
            case Insn.MovSx m -> {
            }
            case Insn.Endian e -> {
            }
            case Insn.Ja j -> {
            }
            case Insn.Jump j -> {
            }
            case Insn.Exit e -> {
            }
        }
    }

    private void checkHelper(int pc, int id) {
        Facts f = vp.facts(pc);
        switch (id) {
            case Helpers.MAP_LOOKUP_ELEM -> {
                MapBinding m = f == null ? null : map(f.registers().get(1).map());
                if (m == null) {
                    refuse(pc, "p4.map", "map_lookup_elem on a map the IR does not pin down", false);
                    return;
                }
                constStack(pc, 2, "the key");
                if (m.binding() == Binding.EXACT_TABLE || m.binding() == Binding.LPM_TABLE) {
                    Integer other = hashLookupSite.putIfAbsent(m.index(), pc);
                    if (other != null && other != pc) {
                        refuse(pc, "p4.map-lookup-sites", "a second lookup site of " + m.def().type().id() + " map "
                                + m.def().name() + " (first at " + other + "): one value buffer per table", true);
                    }
                } else if (m.binding() != Binding.REGISTER) {
                    refuse(pc, "p4.map-type", "map type " + m.def().type().id() + " not supported", false);
                }
            }
            case Helpers.MAP_UPDATE_ELEM -> {
                MapBinding m = f == null ? null : map(f.registers().get(1).map());
                if (m == null || m.binding() != Binding.REGISTER) {
                    refuse(pc, "p4.map-update", "map_update_elem from the data plane on "
                            + (m == null ? "this map" : m.def().type().id() + " map " + m.def().name())
                            + " not supported (v1model tables are read-only in the data plane; PNA's add_on_miss could)", false);
                    return;
                }
                constStack(pc, 2, "the key");
                constStack(pc, 3, "the value");
                Scalar flags = f.registers().get(4).value();
                if (f.registers().get(4).kind() != Facts.Kind.SCALAR || !flags.isConstant()
                        || (flags.constantValue() != 0 && flags.constantValue() != 2)) {
                    refuse(pc, "p4.map-update-flags", "map_update_elem flags must be the constant BPF_ANY or BPF_EXIST", false);
                }
            }
            case Helpers.KTIME_GET_NS, Helpers.REDIRECT -> {
                if (raw && id == Helpers.REDIRECT) {
                    refuse(pc, "p4.helper", "helper redirect needs an xdp program", false);
                }
            }
            case Helpers.GET_PRANDOM_U32 -> usesRandom = true;
            default -> refuse(pc, "p4.helper", "helper " + id + " not supported (p4 has map_lookup_elem, "
                    + "map_update_elem on arrays, ktime_get_ns, get_prandom_u32, redirect)", false);
        }
    }

    /** Requires register {@code r} at a call to point to the stack at a constant offset. */
    private void constStack(int pc, int r, String what) {
        Facts.Register reg = vp.facts(pc).registers().get(r);
        if (reg.kind() != Facts.Kind.STACK || !reg.value().isConstant()) {
            refuse(pc, "p4.helper-argument", what + " must be on the stack at a constant offset", false);
        }
    }

    private void checkAccess(int pc, boolean write) {
        Facts f = vp.facts(pc);
        if (f == null || f.access() == null) {
            return;
        }
        Facts.Access a = f.access();
        switch (a.region()) {
            case STACK -> {
                if (a.frameOrMap() != 0) {
                    refuse(pc, "p4.stack-frame", "stack access to frame " + a.frameOrMap(), false);
                }
                candidates(pc, a);
            }
            case PACKET, MEM -> candidates(pc, a);
            case CTX -> {
            }
            case MAP_VALUE -> {
                MapBinding m = map(a.frameOrMap());
                if (m == null) {
                    refuse(pc, "p4.map", "access to a value of a map the IR does not pin down", false);
                } else if (m.binding() == Binding.EXACT_TABLE || m.binding() == Binding.LPM_TABLE) {
                    if (write) {
                        refuse(pc, "p4.map-write", "write to a " + m.def().type().id() + " value (" + m.def().name()
                                + "): v1model tables are read-only in the data plane", false);
                    } else {
                        candidates(pc, a);
                    }
                }
            }
            default -> refuse(pc, "p4.region", "access to " + a.region().name().toLowerCase() + " not supported", false);
        }
        if (prog.at(pc) instanceof Insn.Atomic && a.region() != Facts.Kind.STACK && a.region() != Facts.Kind.MAP_VALUE) {
            refuse(pc, "p4.atomic", "atomic on " + a.region().name().toLowerCase() + " not supported", false);
        }
    }

    /**
     * {@return the proven offsets of an access, as the region's numbers (see the class comment)}
     * or null after refusing when there are more than {@link #MAX_SELECT}
     */
    private long[] candidates(int pc, Facts.Access a) {
        if (a.minOffset() == a.maxOffset()) {
            return new long[] {a.minOffset()};
        }
        Insn insn = prog.at(pc);
        // only memory instructions have accesses
        Reg base = insn instanceof Insn.Load l ? l.src() : insn instanceof Insn.Store st ? st.dst() : ((Insn.Atomic) insn).dst();
        int off = insn instanceof Insn.Load l ? l.offset() : insn instanceof Insn.Store st ? st.offset() : ((Insn.Atomic) insn).offset();
        Scalar v = vp.facts(pc).registers().get(base.n()).value();
        List<Long> out = new ArrayList<>();
        for (long x = a.minOffset(); x <= a.maxOffset(); x++) {
            long regValue = x - off;
            if (v.contains(regValue)) {
                out.add(x);
                if (out.size() > MAX_SELECT && (a.region() == Facts.Kind.PACKET || a.region() == Facts.Kind.MEM)) {
                    mirror = true; // indexed at run time in the packet's register copy
                    return null;
                }
                if (out.size() > MAX_SELECT) {
                    refuse(pc, "p4.variable-offset", "variable " + a.region().name().toLowerCase() + " offset in "
                            + a.minOffset() + ".." + a.maxOffset() + ": more than " + MAX_SELECT + " cases", false);
                    return null;
                }
            }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    private int packetExtent() {
        long max = 0;
        for (int pc = 0; pc < prog.length(); pc++) {
            Facts f = vp.facts(pc);
            if (f != null && f.access() != null && f.access().region() == Facts.Kind.PACKET) {
                max = Math.max(max, f.access().maxOffset() + f.access().size());
            }
            if (f != null && f.access() != null && f.access().region() == Facts.Kind.PACKET_META) {
                refuse(pc, "p4.region", "access to packet metadata (data_meta) not supported", false);
            }
        }
        return (int) Math.min(max, Integer.MAX_VALUE);
    }

    // ---------------------------------------------------------------- control flow

    private void lowerDag(P4Unroller.Dag dag) {
        P4Writer w = body;
        boolean first = true;
        for (P4Unroller.Node n : dag.nodes()) {
            w.pc = n.first();
            if (first) {
                w.open("{ // block " + n.first() + ".." + n.last() + iterations(n));
            } else {
                w.open("if (g" + n.id() + ") { // block " + n.first() + ".." + n.last() + iterations(n));
            }
            first = false;
            for (int pc = n.first(); pc <= n.last(); pc++) {
                Insn insn = prog.at(pc);
                if (insn == null) {
                    continue;
                }
                w.pc = pc;
                boolean last = pc + insn.slots() > n.last();
                if (last && (insn instanceof Insn.Jump || insn instanceof Insn.Ja || insn instanceof Insn.Exit)) {
                    branch(w, pc, insn, dag.fall()[n.id()], dag.taken()[n.id()]);
                } else {
                    instruction(w, pc, insn);
                    if (last) {
                        setFlag(w, dag.fall()[n.id()]);
                    }
                }
            }
            w.pc = n.last();
            w.close("}");
        }
    }

    private static String iterations(P4Unroller.Node n) {
        StringBuilder sb = new StringBuilder();
        for (int i : n.iterations()) {
            if (i > 0) {
                sb.append(sb.isEmpty() ? " (iteration" : ",").append(' ').append(i);
            }
        }
        return sb.isEmpty() ? "" : sb.append(')').toString();
    }

    private static void setFlag(P4Writer w, int node) {
        if (node >= 0) {
            w.line("g" + node + " = true;");
        }
    }

    private void branch(P4Writer w, int pc, Insn insn, int fall, int taken) {
        if (insn instanceof Insn.Exit) {
            w.line("// exit");
        } else if (insn instanceof Insn.Ja) {
            setFlag(w, fall);
        } else {
            Insn.Jump j = (Insn.Jump) insn;
            {
                if (fall >= 0 && taken >= 0) {
                    w.open("if (" + condition(j) + ") {");
                    setFlag(w, taken);
                    w.mid("} else {");
                    setFlag(w, fall);
                    w.close("}");
                } else if (taken >= 0) {
                    setFlag(w, taken);
                } else {
                    setFlag(w, fall);
                }
            }
        }
    }

    private String condition(Insn.Jump j) {
        boolean w32 = j.width() == Width.W32;
        String a = w32 ? lo(j.dst()) : r(j.dst());
        String b = operand(j.src(), j.width());
        String sa = w32 ? "(int<32>)" + a : "(int<64>)" + a;
        String sb = w32 ? "(int<32>)" + b : "(int<64>)" + b;
        return switch (j.op()) {
            case JEQ -> a + " == " + b;
            case JNE -> a + " != " + b;
            case JGT -> a + " > " + b;
            case JGE -> a + " >= " + b;
            case JLT -> a + " < " + b;
            case JLE -> a + " <= " + b;
            case JSET -> "(" + a + " & " + b + ") != 0";
            case JSGT -> sa + " > " + sb;
            case JSGE -> sa + " >= " + sb;
            case JSLT -> sa + " < " + sb;
            case JSLE -> sa + " <= " + sb;
        };
    }

    // ---------------------------------------------------------------- instructions

    private static String r(Reg r) {
        return "r" + r.n();
    }

    private static String lo(Reg r) {
        return "r" + r.n() + "[31:0]";
    }

    static String c64(long v) {
        return "64w0x" + Long.toHexString(v);
    }

    static String c32(long v) {
        return "32w0x" + Integer.toHexString((int) v);
    }

    /** The source operand at the width: a register (its low half for 32 bits) or the immediate sign-extended. */
    private static String operand(Operand src, Width width) {
        return switch (src) {
            case Reg r -> width == Width.W32 ? lo(r) : r(r);
            case Imm i -> width == Width.W32 ? c32(i.value()) : c64(i.value());
        };
    }

    private void instruction(P4Writer w, int pc, Insn insn) {
        switch (insn) {
            case Insn.Alu a -> alu(w, pc, a);
            case Insn.Neg n -> w.line(n.width() == Width.W64 ? r(n.dst()) + " = -" + r(n.dst()) + ";"
                    : r(n.dst()) + " = (bit<64>)(-" + lo(n.dst()) + ");");
            case Insn.MovSx m -> {
                String s = "(int<" + m.fromBits() + ">)" + r(m.src()) + "[" + (m.fromBits() - 1) + ":0]";
                w.line(r(m.dst()) + " = " + (m.width() == Width.W64 ? "(bit<64>)(int<64>)" + s
                        : "(bit<64>)(bit<32>)(int<32>)" + s) + ";");
            }
            case Insn.Endian e -> w.line(r(e.dst()) + " = " + endian(e) + ";");
            case Insn.LoadImm64 l -> w.line(r(l.dst()) + " = " + switch (l.kind()) {
                case IMM64 -> c64(l.value());
                case MAP_VALUE_BY_FD, MAP_VALUE_BY_IDX -> c64(1 + (long) l.nextImm());
                default -> c64(0);
            } + "; // " + l.kind().name().toLowerCase());
            case Insn.Load l -> load(w, pc, l);
            case Insn.Store s -> store(w, pc, s);
            case Insn.Atomic a -> atomic(w, pc, a);
            case Insn.Call c -> call(w, pc, c);
            case Insn.Ja j -> throw new IllegalStateException("ja inside a block at " + pc);
            case Insn.Jump j -> throw new IllegalStateException("jump inside a block at " + pc);
            case Insn.Exit e -> throw new IllegalStateException("exit inside a block at " + pc);
            case Insn.CallX x -> throw new IllegalStateException("callx at " + pc);
            case Insn.PacketLoad p -> throw new IllegalStateException("packet load at " + pc);
        }
    }

    private static String endian(Insn.Endian e) {
        String d = r(e.dst());
        if (e.op() == EndianOp.LE) {
            return switch (e.bits()) {
                case 16 -> "(bit<64>)" + d + "[15:0]";
                case 32 -> "(bit<64>)" + d + "[31:0]";
                default -> d;
            };
        }
        StringBuilder sb = new StringBuilder("(bit<64>)(");
        for (int i = 0; i < e.bits() / 8; i++) {
            sb.append(i == 0 ? "" : " ++ ").append(d).append('[').append(8 * i + 7).append(':').append(8 * i).append(']');
        }
        return sb.append(')').toString();
    }

    private void alu(P4Writer w, int pc, Insn.Alu a) {
        boolean w64 = a.width() == Width.W64;
        String d = r(a.dst());
        String x = w64 ? d : lo(a.dst());
        String s = operand(a.src(), a.width());
        int bits = w64 ? 64 : 32;
        String zext = w64 ? "" : "(bit<64>)";
        switch (a.op()) {
            case ADD, SUB, MUL, OR, AND, XOR -> {
                String op = switch (a.op()) {
                    case ADD -> "+";
                    case SUB -> "-";
                    case MUL -> "*";
                    case OR -> "|";
                    case AND -> "&";
                    default -> "^";
                };
                w.line(d + " = " + zext + "(" + x + " " + op + " " + s + ");");
            }
            case MOV -> w.line(d + " = " + zext + "(" + s + ");");
            case LSH, RSH, ARSH -> {
                String amount = a.src() instanceof Imm i ? "8w" + (i.value() & (bits - 1))
                        : "(bit<8>)(" + s + " & " + (bits - 1) + ")";
                String e = switch (a.op()) {
                    case LSH -> x + " << " + amount;
                    case RSH -> x + " >> " + amount;
                    default -> "(bit<" + bits + ">)((int<" + bits + ">)" + x + " >> " + amount + ")";
                };
                w.line(d + " = " + zext + "(" + e + ");");
            }
            case DIV, MOD -> udivmod(w, pc, a, x, s, bits, zext);
            case SDIV, SMOD -> sdivmod(w, pc, a, x, s, bits, zext);
        }
    }

    private Long constantDivisor(int pc, Insn.Alu a) {
        if (a.src() instanceof Imm i) {
            return (long) i.value();
        }
        Facts f = vp.facts(pc);
        return f == null ? null : f.divisor();
    }

    private void udivmod(P4Writer w, int pc, Insn.Alu a, String x, String s, int bits, String zext) {
        String d = r(a.dst());
        boolean div = a.op() == AluOp.DIV;
        Long k = constantDivisor(pc, a);
        long mask = bits == 64 ? -1L : 0xffff_ffffL;
        if (k != null) {
            long kk = k & mask;
            if (kk == 0) {
                w.line(div ? d + " = 0; // division by zero gives 0" : d + " = " + zext + "(" + x + "); // modulo by zero keeps dst");
                return;
            }
            if (Long.bitCount(kk) == 1) {
                int sh = Long.numberOfTrailingZeros(kk);
                w.line(d + " = " + zext + "(" + (div ? x + " >> " + sh : x + " & " + (bits == 64 ? c64(kk - 1) : c32(kk - 1)))
                        + "); // by a constant power of two");
                return;
            }
        }
        String n = bits == 64 ? "dn" : "dn32";
        String dv = bits == 64 ? "dd" : "dd32";
        w.open("if (" + s + " == 0) {");
        w.line(div ? d + " = 0;" : d + " = " + zext + "(" + x + ");");
        w.mid("} else {");
        w.line(n + " = " + x + ";");
        w.line(dv + " = " + s + ";");
        w.line(bits == 64 ? "prism_udiv64();" : "prism_udiv32();");
        w.line(d + " = " + zext + "(" + (div ? (bits == 64 ? "dq" : "dq32") : (bits == 64 ? "dr" : "dr32")) + ");");
        w.close("}");
        if (bits == 64) {
            usesDiv64 = true;
        } else {
            usesDiv32 = true;
        }
    }

    private void sdivmod(P4Writer w, int pc, Insn.Alu a, String x, String s, int bits, String zext) {
        String d = r(a.dst());
        boolean div = a.op() == AluOp.SDIV;
        String n = bits == 64 ? "dn" : "dn32";
        String dv = bits == 64 ? "dd" : "dd32";
        String q = bits == 64 ? "dq" : "dq32";
        String rem = bits == 64 ? "dr" : "dr32";
        String top = "[" + (bits - 1) + ":" + (bits - 1) + "]";
        w.open("if (" + s + " == 0) {");
        w.line(div ? d + " = 0;" : d + " = " + zext + "(" + x + ");");
        w.mid("} else {");
        w.line("sa = (bit<1>)" + x + top + ";");
        w.line("sb = (bit<1>)" + s + top + ";");
        w.line(n + " = sa == 1 ? -" + x + " : " + x + ";");
        w.line(dv + " = sb == 1 ? -" + s + " : " + s + ";");
        w.line(bits == 64 ? "prism_udiv64();" : "prism_udiv32();");
        if (div) {
            w.line(d + " = " + zext + "(sa != sb ? -" + q + " : " + q + ");");
        } else {
            w.line(d + " = " + zext + "(sa == 1 ? -" + rem + " : " + rem + ");");
        }
        w.close("}");
        if (bits == 64) {
            usesDiv64 = true;
        } else {
            usesDiv32 = true;
        }
    }

    // ---------------------------------------------------------------- memory

    /** {@return the P4 expression of one byte of a region at a constant address (the region's number)} */
    private String byteAt(Facts.Kind region, long addr) {
        return switch (region) {
            case PACKET, MEM -> "h.p[" + addr + "].v";
            case STACK -> {
                int i = (int) (STACK + addr);
                stackBytes.add(i);
                yield "s_" + i;
            }
            default -> throw new IllegalStateException("no byte fields for " + region);
        };
    }

    /** {@return the index in prism_pkt of byte {@code i} of an access through {@code base + insnOffset}} */
    private static String mirrorIndex(Facts.Access a, Reg base, int insnOffset, int i) {
        if (a.minOffset() == a.maxOffset()) {
            return "32w" + (a.minOffset() + i);
        }
        return "(bit<32>)(" + r(base) + " + " + c64((long) insnOffset + i) + ")";
    }

    /** {@return the little-endian value of {@code size} bytes as bit<64>} */
    private static String compose(List<String> bytes) {
        return "(bit<64>)" + concat(bytes);
    }

    /** {@return the bytes as one bit<8n> value, the first byte least significant} */
    private static String concat(List<String> bytes) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = bytes.size() - 1; i >= 0; i--) {
            sb.append(bytes.get(i)).append(i == 0 ? "" : " ++ ");
        }
        return sb.append(')').toString();
    }

    /** {@return the bytes, little-endian, sign-extended to bit<64>} */
    private static String signExtended(List<String> bytes) {
        int bits = 8 * bytes.size();
        return "(bit<64>)(int<64>)(int<" + bits + ">)" + concat(bytes);
    }

    private void load(P4Writer w, int pc, Insn.Load l) {
        Facts.Access a = vp.facts(pc).access();
        String d = r(l.dst());
        int size = l.size().bytes();
        switch (a.region()) {
            case CTX -> {
                String v = switch ((int) a.minOffset()) {
                    case 0, 8 -> c64(0);
                    case 4 -> prefix == 0 ? "(bit<64>)sm.packet_length" : "((bit<64>)sm.packet_length - " + prefix + ")";
                    case 12 -> "(bit<64>)sm.ingress_port + 1";
                    default -> c64(0);
                };
                w.line(d + " = " + v + "; // ctx +" + a.minOffset());
            }
            case PACKET, MEM, STACK -> {
                if (mirror && a.region() != Facts.Kind.STACK) {
                    List<String> bytes = new ArrayList<>();
                    for (int i = 0; i < size; i++) {
                        w.line("prism_pkt.read(t" + i + ", " + mirrorIndex(a, l.src(), l.offset(), i) + ");");
                        bytes.add("t" + i);
                    }
                    w.line(d + " = " + (l.signExtend() ? signExtended(bytes) : compose(bytes)) + ";");
                    return;
                }
                long[] offs = candidates(pc, a);
                Reg base = l.src();
                selectChain(w, a.region(), base, l.offset(), offs, addr -> {
                    List<String> bytes = new ArrayList<>();
                    for (int i = 0; i < size; i++) {
                        bytes.add(byteAt(a.region(), addr + i));
                    }
                    w.line(d + " = " + (l.signExtend() ? signExtended(bytes) : compose(bytes)) + ";");
                });
            }
            case MAP_VALUE -> {
                MapBinding m = map(a.frameOrMap());
                if (m.binding() == Binding.REGISTER) {
                    List<String> bytes = new ArrayList<>();
                    for (int i = 0; i < size; i++) {
                        w.line(m.p4Name() + ".read(t" + i + ", (bit<32>)(" + r(l.src()) + " + " + c64(l.offset() + i - 1L) + "));");
                        bytes.add("t" + i);
                    }
                    w.line(d + " = " + (l.signExtend() ? signExtended(bytes) : compose(bytes)) + ";");
                } else {
                    long[] offs = candidates(pc, a);
                    selectChain(w, Facts.Kind.MAP_VALUE, l.src(), l.offset(), offs, addr -> {
                        List<String> bytes = new ArrayList<>();
                        for (int i = 0; i < size; i++) {
                            bytes.add("hv_" + m.p4Name() + "_" + (addr + i));
                        }
                        w.line(d + " = " + (l.signExtend() ? signExtended(bytes) : compose(bytes)) + ";");
                    });
                }
            }
            default -> throw new IllegalStateException("load from " + a.region() + " at " + pc);
        }
    }

    /**
     * Emits {@code body} once per candidate address, behind an if chain on the base register when
     * there is more than one (the bounded select).
     */
    private void selectChain(P4Writer w, Facts.Kind region, Reg base, int off, long[] addrs, java.util.function.LongConsumer body) {
        if (addrs.length == 1) {
            body.accept(addrs[0]);
            return;
        }
        for (int k = 0; k < addrs.length; k++) {
            long regValue = addrs[k] - off;
            String number = switch (region) {
                case STACK -> c64(STACK + regValue);
                case MAP_VALUE -> c64(1 + regValue);
                default -> c64(regValue);
            };
            String cond = r(base) + " == " + number;
            if (k == 0) {
                w.open("if (" + cond + ") {");
            } else if (k < addrs.length - 1) {
                w.mid("} else if (" + cond + ") {");
            } else {
                w.mid("} else { // " + cond);
            }
            body.accept(addrs[k]);
        }
        w.close("}");
    }

    private String storeValue(Operand src) {
        return switch (src) {
            case Reg r -> r(r);
            case Imm i -> c64(i.value());
        };
    }

    private void store(P4Writer w, int pc, Insn.Store s) {
        Facts.Access a = vp.facts(pc).access();
        int size = s.size().bytes();
        w.line("tv = " + storeValue(s.src()) + ";");
        String value = "tv";
        switch (a.region()) {
            case PACKET, MEM, STACK -> {
                if (mirror && a.region() != Facts.Kind.STACK) {
                    for (int i = 0; i < size; i++) {
                        w.line("prism_pkt.write(" + mirrorIndex(a, s.dst(), s.offset(), i) + ", " + value + "[" + (8 * i + 7) + ":"
                                + (8 * i) + "]);");
                    }
                    return;
                }
                long[] offs = candidates(pc, a);
                selectChain(w, a.region(), s.dst(), s.offset(), offs, addr -> {
                    for (int i = 0; i < size; i++) {
                        w.line(byteAt(a.region(), addr + i) + " = " + value + "[" + (8 * i + 7) + ":" + (8 * i) + "];");
                    }
                });
            }
            case MAP_VALUE -> {
                MapBinding m = map(a.frameOrMap());
                for (int i = 0; i < size; i++) {
                    w.line(m.p4Name() + ".write((bit<32>)(" + r(s.dst()) + " + " + c64(s.offset() + i - 1L) + "), " + value
                            + "[" + (8 * i + 7) + ":" + (8 * i) + "]);");
                }
            }
            default -> throw new IllegalStateException("store to " + a.region() + " at " + pc);
        }
    }

    private void atomic(P4Writer w, int pc, Insn.Atomic at) {
        Facts.Access a = vp.facts(pc).access();
        int size = at.size().bytes();
        String src = at.size() == Size.W ? "(bit<64>)" + lo(at.src()) : r(at.src());
        if (a.region() == Facts.Kind.STACK) {
            // the stack is private to one run: a plain read-modify-write
            long[] offs = candidates(pc, a);
            selectChain(w, a.region(), at.dst(), at.offset(), offs, addr -> {
                List<String> bytes = new ArrayList<>();
                for (int i = 0; i < size; i++) {
                    bytes.add(byteAt(a.region(), addr + i));
                }
                w.line("a_old = " + compose(bytes) + ";");
                w.line("a_val = " + src + ";");
                w.line("a_cmp = " + (at.size() == Size.W ? "(bit<64>)r0[31:0]" : "r0") + ";");
                w.line("tv = " + atomicNew(at.op(), size) + ";");
                for (int i = 0; i < size; i++) {
                    w.line(bytes.get(i) + " = tv[" + (8 * i + 7) + ":" + (8 * i) + "];");
                }
            });
        } else {
            MapBinding m = map(a.frameOrMap());
            String act = "atomic_" + m.p4Name() + "_" + at.op().name().toLowerCase() + "_" + size;
            actions.computeIfAbsent(act, k -> atomicAction(k, m, at.op(), size));
            w.line("a_idx = (bit<32>)(" + r(at.dst()) + " + " + c64(at.offset() - 1L) + ");");
            w.line("a_val = " + src + ";");
            w.line("a_cmp = " + (at.size() == Size.W ? "(bit<64>)r0[31:0]" : "r0") + ";");
            w.line(act + "();");
        }
        if (at.op() == AtomicOp.CMPXCHG) {
            w.line("r0 = a_old;");
        } else if (at.op().fetches()) {
            w.line(r(at.src()) + " = a_old;");
        }
    }

    private static String atomicNew(AtomicOp op, int size) {
        String old = "a_old";
        String e = switch (op) {
            case ADD, FETCH_ADD -> old + " + a_val";
            case OR, FETCH_OR -> old + " | a_val";
            case AND, FETCH_AND -> old + " & a_val";
            case XOR, FETCH_XOR -> old + " ^ a_val";
            case XCHG -> "a_val";
            case CMPXCHG -> "(" + old + " == a_cmp ? a_val : " + old + ")";
        };
        return size == 4 ? "(bit<64>)(" + e + ")[31:0]" : e;
    }

    /** One read-modify-write of a register-held map value, atomic as a whole ({@code @atomic}). */
    private static String atomicAction(String name, MapBinding m, AtomicOp op, int size) {
        StringBuilder sb = new StringBuilder();
        sb.append("action ").append(name).append("() {\n    @atomic {\n");
        for (int i = 0; i < size; i++) {
            sb.append("        ").append(m.p4Name()).append(".read(t").append(i).append(", a_idx + ").append(i).append(");\n");
        }
        List<String> bytes = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            bytes.add("t" + i);
        }
        sb.append("        a_old = ").append(compose(bytes)).append(";\n");
        sb.append("        tv = ").append(atomicNew(op, size)).append(";\n");
        for (int i = 0; i < size; i++) {
            sb.append("        ").append(m.p4Name()).append(".write(a_idx + ").append(i).append(", tv[").append(8 * i + 7)
                    .append(':').append(8 * i).append("]);\n");
        }
        sb.append("    }\n}");
        return sb.toString();
    }

    // ---------------------------------------------------------------- helper calls

    private List<String> stackBytesAt(int pc, int reg, int count) {
        long off = vp.facts(pc).registers().get(reg).value().constantValue();
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(byteAt(Facts.Kind.STACK, off + i));
        }
        return out;
    }

    private void call(P4Writer w, int pc, Insn.Call c) {
        Facts f = vp.facts(pc);
        switch (c.imm()) {
            case Helpers.MAP_LOOKUP_ELEM -> {
                MapBinding m = map(f.registers().get(1).map());
                MapDef d = m.def();
                List<String> key = stackBytesAt(pc, 2, d.keySize());
                switch (m.binding()) {
                    case REGISTER -> {
                        w.line("tk = (bit<32>)" + compose(key) + ";");
                        w.open("if (tk < " + d.maxEntries() + ") {");
                        w.line("r0 = 1 + (bit<64>)tk * " + d.valueSize() + ";");
                        w.mid("} else {");
                        w.line("r0 = 0;");
                        w.close("}");
                    }
                    case EXACT_TABLE -> {
                        StringBuilder k = new StringBuilder();
                        for (int i = 0; i < key.size(); i++) {
                            k.append(i == 0 ? "" : " ++ ").append(key.get(i));
                        }
                        w.line("k_" + m.p4Name() + " = " + k + ";");
                        w.line("r0 = 0;");
                        w.line(m.table() + ".apply();");
                    }
                    case LPM_TABLE -> {
                        w.line("plen_" + m.p4Name() + " = (bit<32>)" + compose(key.subList(0, 4)) + ";");
                        StringBuilder k = new StringBuilder();
                        for (int i = 4; i < key.size(); i++) {
                            k.append(i == 4 ? "" : " ++ ").append(key.get(i));
                        }
                        w.line("k_" + m.p4Name() + " = " + k + ";");
                        w.line("r0 = 0;");
                        w.line(m.table() + ".apply();");
                    }
                    case HOST_ONLY -> throw new IllegalStateException("lookup of a host-only map at " + pc);
                }
            }
            case Helpers.MAP_UPDATE_ELEM -> {
                MapBinding m = map(f.registers().get(1).map());
                MapDef d = m.def();
                List<String> key = stackBytesAt(pc, 2, d.keySize());
                List<String> value = stackBytesAt(pc, 3, d.valueSize());
                w.line("tk = (bit<32>)" + compose(key) + ";");
                w.open("if (tk < " + d.maxEntries() + ") {");
                for (int i = 0; i < d.valueSize(); i++) {
                    w.line(m.p4Name() + ".write(tk * " + d.valueSize() + " + " + i + ", " + value.get(i) + ");");
                }
                w.line("r0 = 0;");
                w.close("} else {");
                w.open("");
                w.line("r0 = " + c64(-7) + "; // -E2BIG");
                w.close("}");
            }
            case Helpers.KTIME_GET_NS -> w.line("r0 = (bit<64>)sm.ingress_global_timestamp * 1000; // BMv2 stamps microseconds");
            case Helpers.GET_PRANDOM_U32 -> {
                w.line("random(rnd, 32w0, 32w0xffffffff);");
                w.line("r0 = (bit<64>)rnd;");
            }
            case Helpers.REDIRECT -> {
                w.open("if (r2 != 0) {");
                w.line("r0 = 0; // XDP_ABORTED: flags must be 0");
                w.close("} else {");
                w.open("");
                w.line("redirect_port = (bit<9>)(r1 - 1); // ifindex i is port i - 1");
                w.line("r0 = 4; // XDP_REDIRECT");
                w.close("}");
            }
            default -> throw new IllegalStateException("helper " + c.imm() + " at " + pc);
        }
    }

    // ---------------------------------------------------------------- the program around the blocks

    private P4Writer assemble(P4Unroller.Dag dag) {
        P4Writer w = new P4Writer();
        w.line("// Generated by Prism from " + prog.name() + " (" + prog.type().id() + ", " + prog.length()
                + " BPF slots; " + dag.nodes().size() + " unrolled blocks, " + dag.insns() + " instructions)");
        w.line("// P4_16 for v1model (BMv2 simple_switch). XDP_PASS leaves on port " + HOST_PORT
                + " (the host), XDP_TX on the ingress port.");
        w.line("#include <core.p4>");
        w.line("#include <v1model.p4>");
        w.blank();
        w.line("header prism_byte_t { bit<8> v; }");
        if (raw) {
            w.line("header prism_raw_t { bit<8> tag; } // raw programs: one byte before the memory, so empty memory is a packet");
        }
        w.open("struct headers_t {");
        if (raw) {
            w.line("prism_raw_t raw;");
        }
        if (packetBytes > 0) {
            w.line("prism_byte_t[" + packetBytes + "] p;");
        }
        w.close("}");
        w.line("struct meta_t { }");
        w.blank();
        w.open("parser PrismParser(packet_in pkt, out headers_t h, inout meta_t m, inout standard_metadata_t sm) {");
        String next = packetBytes > 0 ? "p0" : "accept";
        w.line("state start { " + (raw ? "pkt.extract(h.raw); " : "") + "transition " + next + "; }");
        for (int i = 0; i < packetBytes; i++) {
            w.line("state p" + i + " { pkt.extract(h.p[" + i + "]); transition " + (i + 1 < packetBytes ? "p" + (i + 1) : "accept")
                    + "; }");
        }
        w.close("}");
        w.blank();
        w.line("control PrismVerify(inout headers_t h, inout meta_t m) { apply { } }");
        w.line("control PrismCompute(inout headers_t h, inout meta_t m) { apply { } }");
        w.line("control PrismEgress(inout headers_t h, inout meta_t m, inout standard_metadata_t sm) { apply { } }");
        w.blank();
        w.open("control PrismIngress(inout headers_t h, inout meta_t m, inout standard_metadata_t sm) {");
        w.line("// the run log: r0 of each packet by arrival number (what Prism's executable reads back)");
        w.line("register<bit<32>>(" + RUN_LOG + ") prism_r0_lo; // halves: the runtime API reads registers as signed 64-bit numbers");
        w.line("register<bit<32>>(" + RUN_LOG + ") prism_r0_hi;");
        w.line("register<bit<32>>(1) prism_seq;");
        w.line("counter(1, CounterType.packets) prism_aborted;");
        controlLocals(w, dag);
        w.open("apply {");
        controlApply(w, dag);
        w.line("// XDP action");
        w.line("prism_seq.read(seq, 0);");
        w.line("prism_r0_lo.write(seq % " + RUN_LOG + ", r0[31:0]);");
        w.line("prism_r0_hi.write(seq % " + RUN_LOG + ", r0[63:32]);");
        w.line("prism_seq.write(0, seq + 1);");
        if (raw) {
            w.line("sm.egress_spec = sm.ingress_port; // raw programs: the memory after the run comes back");
        } else {
            w.open("if (r0 == 1) {");
            w.line("mark_to_drop(sm); // XDP_DROP");
            w.mid("} else if (r0 == 2) {");
            w.line("sm.egress_spec = " + HOST_PORT + "; // XDP_PASS: the host port");
            w.mid("} else if (r0 == 3) {");
            w.line("sm.egress_spec = sm.ingress_port; // XDP_TX");
            w.mid("} else if (r0 == 4) {");
            w.line("sm.egress_spec = redirect_port; // XDP_REDIRECT");
            w.mid("} else {");
            w.line("mark_to_drop(sm); // XDP_ABORTED and unknown actions");
            w.line("prism_aborted.count(0);");
            w.close("}");
        }
        w.close("}");
        w.close("}");
        w.blank();
        w.open("control PrismDeparser(packet_out pkt, in headers_t h) {");
        w.line("apply { " + (raw ? "pkt.emit(h.raw); " : "") + (packetBytes > 0 ? "pkt.emit(h.p); " : "") + "}");
        w.close("}");
        w.blank();
        w.line("V1Switch(PrismParser(), PrismVerify(), PrismIngress(), PrismEgress(), PrismCompute(), PrismDeparser()) main;");
        return w;
    }

    /**
     * The program as one control of a bundle ({@link Bmv2Bundle}): its registers, tables, locals
     * and blocks, r0 and the redirect port handed out; the bundle's parser, run log and XDP
     * action dispatch are around it.
     */
    private P4Writer assembleControl(P4Unroller.Dag dag, String name) {
        P4Writer w = new P4Writer();
        w.line("// " + prog.name() + " (" + prog.type().id() + ", " + prog.length() + " BPF slots; " + dag.nodes().size()
                + " unrolled blocks, " + dag.insns() + " instructions)");
        w.open("control " + name + "(inout headers_t h, inout meta_t m, inout standard_metadata_t sm, inout bit<64> r0_out,"
                + " inout bit<9> rp_out) {");
        controlLocals(w, dag);
        w.open("apply {");
        controlApply(w, dag);
        w.pc = -1;
        w.line("r0_out = r0;");
        w.line("rp_out = redirect_port;");
        w.close("}");
        w.close("}");
        return w;
    }

    /** The control's registers, locals, tables and actions. */
    private void controlLocals(P4Writer w, P4Unroller.Dag dag) {
        for (MapBinding m : maps) {
            if (m.binding() == Binding.REGISTER) {
                w.line("register<bit<8>>(" + (long) m.def().maxEntries() * m.def().valueSize() + ") " + m.p4Name() + "; // "
                        + m.def());
            }
        }
        if (mirror) {
            w.line("// the packet's bytes during the control: an access at a variable offset indexes it at run time");
            w.line("register<bit<8>>(" + packetBytes + ") prism_pkt;");
        }
        for (int i = 0; i <= 10; i++) {
            w.line("bit<64> r" + i + ";");
        }
        for (int i : stackBytes) {
            w.line("bit<8> s_" + i + ";");
        }
        for (P4Unroller.Node n : dag.nodes()) {
            w.line("bool g" + n.id() + ";");
        }
        String all = body.text() + String.join("\n", actions.values());
        w.line("bit<9> redirect_port; bit<32> seq;");
        declareUsed(w, all, "bit<64> tv;", "bit<32> tk;", "bit<32> rnd;", "bit<8> t0;", "bit<8> t1;", "bit<8> t2;", "bit<8> t3;",
                "bit<8> t4;", "bit<8> t5;", "bit<8> t6;", "bit<8> t7;", "bit<32> a_idx;", "bit<64> a_val;", "bit<64> a_old;",
                "bit<64> a_cmp;", "bit<1> sa;", "bit<1> sb;");
        if (usesDiv64) {
            w.line("bit<64> dn; bit<64> dd; bit<64> dq; bit<64> dr;");
        }
        if (usesDiv32) {
            w.line("bit<32> dn32; bit<32> dd32; bit<32> dq32; bit<32> dr32;");
        }
        for (MapBinding m : maps) {
            if (m.binding() == Binding.EXACT_TABLE || m.binding() == Binding.LPM_TABLE) {
                tableDecls(w, m);
            }
        }
        if (usesDiv64) {
            divAction(w, 64);
        }
        if (usesDiv32) {
            divAction(w, 32);
        }
        for (String a : actions.values()) {
            for (String line : a.split("\n")) {
                w.line(line);
            }
        }
    }

    /** The start of apply: registers and guards initialised, then the blocks. */
    private void controlApply(P4Writer w, P4Unroller.Dag dag) {
        for (int i = 0; i < 10; i++) {
            w.line("r" + i + " = 0;");
        }
        w.line("r10 = " + STACK + "; // the frame pointer: stack bytes are s_0..s_511");
        if (raw) {
            w.line("r2 = (bit<64>)sm.packet_length - " + prefix + "; // r1 = the memory (offset 0), r2 = its length");
        }
        for (P4Unroller.Node n : dag.nodes()) {
            w.line("g" + n.id() + " = false;");
        }
        w.line("redirect_port = 511;");
        if (mirror) {
            for (int i = 0; i < packetBytes; i++) {
                w.line("prism_pkt.write(" + i + ", h.p[" + i + "].v);");
            }
        }
        w.append(body);
        w.pc = -1;
        if (mirror) {
            w.line("// the bytes back into the headers the deparser emits (writes to headers past the packet's end change nothing)");
            for (int i = 0; i < packetBytes; i++) {
                w.line("prism_pkt.read(t0, " + i + "); h.p[" + i + "].v = t0;");
            }
        }
    }

    /** Declares each local ("type name;") whose name the code uses. */
    private void declareUsed(P4Writer w, String code, String... decls) {
        StringBuilder line = new StringBuilder();
        for (String d : decls) {
            String name = d.substring(d.indexOf(' ') + 1, d.length() - 1);
            if (java.util.regex.Pattern.compile("\\b" + name + "\\b").matcher(code).find()
                    || mirror && name.equals("t0")) {
                line.append(line.isEmpty() ? "" : " ").append(d);
            }
        }
        if (!line.isEmpty()) {
            w.line(line.toString());
        }
    }

    private void tableDecls(P4Writer w, MapBinding m) {
        MapDef d = m.def();
        String n = m.p4Name();
        int keyBits = 8 * (m.binding() == Binding.LPM_TABLE ? d.keySize() - 4 : d.keySize());
        w.line("bit<" + keyBits + "> k_" + n + ";");
        if (m.binding() == Binding.LPM_TABLE) {
            w.line("bit<32> plen_" + n + ";");
        }
        for (int i = 0; i < d.valueSize(); i++) {
            w.line("bit<8> hv_" + n + "_" + i + ";");
        }
        int vbits = 8 * d.valueSize();
        w.open("action " + m.hitAction() + "(bit<" + vbits + "> v) {");
        for (int i = 0; i < d.valueSize(); i++) {
            int hi = vbits - 1 - 8 * i;
            w.line("hv_" + n + "_" + i + " = v[" + hi + ":" + (hi - 7) + "];");
        }
        w.line("r0 = 1;");
        w.close("}");
        w.line("action miss_" + n + "() { r0 = 0; }");
        w.open("table " + m.table() + " {");
        if (m.binding() == Binding.LPM_TABLE) {
            w.line("key = { plen_" + n + " : range; k_" + n + " : ternary; }");
        } else {
            w.line("key = { k_" + n + " : exact; }");
        }
        w.line("actions = { " + m.hitAction() + "; miss_" + n + "; }");
        w.line("default_action = miss_" + n + "();");
        w.line("size = " + d.maxEntries() + ";");
        w.close("}");
    }

    /** Restoring long division of dn by dd into dq, dr (dd != 0), one step per bit. */
    private static void divAction(P4Writer w, int bits) {
        String sfx = bits == 64 ? "" : "32";
        String n = "dn" + sfx;
        String d = "dd" + sfx;
        w.open("action prism_udiv" + bits + "() {");
        w.line("bit<" + bits + "> q = 0;");
        w.line("bit<" + bits + "> r = 0;");
        w.line("bit<1> top;");
        for (int i = bits - 1; i >= 0; i--) {
            // the remainder before the shift is below dd, so one subtraction suffices; a bit shifted
            // out of the top means the true value exceeds dd
            w.line("top = r[" + (bits - 1) + ":" + (bits - 1) + "]; r = (r << 1) | (bit<" + bits + ">)" + n + "[" + i + ":" + i
                    + "]; q = (top == 1 || r >= " + d + ") ? (q | " + (bits == 64 ? c64(1L << i) : c32(1L << i)) + ") : q; r = (top == 1 || r >= "
                    + d + ") ? r - " + d + " : r;");
        }
        w.line("dq" + sfx + " = q;");
        w.line("dr" + sfx + " = r;");
        w.close("}");
    }
}
