package dev.prism.nfp;

import dev.prism.error.VerificationException;
import dev.prism.isa.AluOp;
import dev.prism.isa.AtomicOp;
import dev.prism.isa.CallKind;
import dev.prism.isa.EndianOp;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.InsnCodec;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.isa.Reg;
import dev.prism.isa.Width;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.verifier.Facts;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import dev.prism.verifier.cfg.CallEdge;
import dev.prism.verifier.cfg.FunctionCfg;
import dev.prism.verifier.domain.Scalar;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The nfp driver's rules applied to a verified program (DESIGN.md, "Target SPI": {@code check}).
 *
 * <p>The driver checks in four places, and so does this class:
 * <ol>
 *   <li>the kernel core for offloaded programs (program type, map types and flags, direct value
 *       addresses): refusals with EINVAL and no message;</li>
 *   <li>the driver's verifier hook, {@code nfp_verify_insn}, called for every instruction on
 *       every path the kernel's verifier walks: here a {@link dev.prism.verifier.PathObserver} on
 *       a second run of Prism's verifier under profile {@code linux} (the ranges the driver reads
 *       are the kernel's, so the profile that mimics the kernel gives them), keeping per
 *       instruction what the driver keeps in its {@code nfp_insn_meta};</li>
 *   <li>its finalize hook (stack size) and map allocation (firmware limits);</li>
 *   <li>its JIT (opcodes it has no translation for, context fields, BPF_ST, XDP action codes),
 *       whose failures print nothing but "translation failed" in dmesg.</li>
 * </ol>
 * Each refusal is an {@link NfpReason} quoting the driver's message where it has one
 * ({@code [nfp] ...} for its verifier log) and marked as Prism's own sentence where it has none.
 */
public final class NfpChecker {
    static final long U32_MAX = 0xffff_ffffL;
    /** The stack frame alignment of the driver's nfp_bpf_get_stack_usage (STACK_FRAME_ALIGN). */
    static final int STACK_FRAME_ALIGN = 64;
    /** Helper ids the driver knows (nfp_bpf_check_helper_call). */
    static final Set<Integer> DRIVER_HELPERS = Set.of(1, 2, 3, 7, 25, 44, 65);

    /**
     * How strictly to apply the rules.
     *
     * @param rawAsPacket check {@code raw} programs (the conformance suites' programs) as if they
     *                    were XDP programs whose memory is the packet: the program-type rule is
     *                    left out and accesses through r1 count as packet accesses. For the
     *                    legalization differential only; the card takes no raw programs.
     */
    public record Options(boolean rawAsPacket) {
        public static final Options STRICT = new Options(false);
        public static final Options RAW_AS_PACKET = new Options(true);
    }

    /** What the driver's nfp_insn_meta keeps of the paths through one instruction. */
    private static final class Meta {
        Facts.Kind ptr;
        Long stackOff;
        long uminSrc = -1;
        long umaxSrc;
        long uminDst = -1;
        long umaxDst;
        boolean alu;
        int map = -1;
        int arg4Type = -1;
        long updateValueOff;
    }

    private final VerifiedProgram vp;
    private final Program program;
    private final Insn[] code;
    private final NfpProfile profile;
    private final Options options;
    private final Map<String, NfpReason> reasons = new LinkedHashMap<>();
    private final Meta[] meta;
    /** per map, per 4-byte word: 0 unused, 1 read, 3 atomic (the driver's enum nfp_bpf_map_use) */
    private final Map<Integer, byte[]> mapUse = new HashMap<>();
    /** map_update_elem call sites by map */
    private final Map<Integer, List<Integer>> updates = new HashMap<>();

    private NfpChecker(VerifiedProgram vp, NfpProfile profile, Options options) {
        this(vp, vp.program(), profile, options);
    }

    private NfpChecker(VerifiedProgram vp, Program program, NfpProfile profile, Options options) {
        this.vp = vp;
        this.program = program;
        this.code = program.slots();
        this.profile = profile;
        this.options = options;
        this.meta = new Meta[code.length];
    }

    /** {@return every reason the nfp driver would refuse the program for (empty: it would load), by pc} */
    public static List<NfpReason> check(VerifiedProgram vp, NfpProfile profile, Options options) {
        return new NfpChecker(vp, profile, options).run();
    }

    /**
     * {@return the reasons that need no proof: the program type and the maps}; for runners that
     * must refuse a program before they know the memory it will be verified for
     */
    public static List<NfpReason> programReasons(Program program, NfpProfile profile, Options options) {
        NfpChecker c = new NfpChecker(null, program, profile, options);
        c.programType();
        c.maps();
        return List.copyOf(c.reasons.values());
    }

    private void programType() {
        ProgramType type = program.type();
        boolean typeOk = type == ProgramType.XDP || type == ProgramType.TC || type == ProgramType.RAW && options.rawAsPacket();
        if (!typeOk) {
            silent(-1, NfpRule.PROGRAM_TYPE, "program type " + type.id() + " cannot be offloaded: the kernel binds only XDP and "
                    + "sched_cls (cls_bpf) programs to a device (BPF_PROG_LOAD with prog_ifindex fails with EINVAL)", false);
        }
    }

    private List<NfpReason> run() {
        programType();
        staticChecks();
        maps();
        boolean walked = walk();
        if (walked) {
            aluRanges();
            counters();
        } else {
            opcodesWithoutTheWalk();
        }
        stackSize();
        programLength();
        packetOffsets();
        xdpReturns();
        List<NfpReason> out = new ArrayList<>(reasons.values());
        out.sort(Comparator.comparingInt(NfpReason::pc));
        return List.copyOf(out);
    }

    // ---------------------------------------------------------------------------------------
    // Reasons

    private dev.prism.program.SourceLine line(int pc) {
        return pc >= 0 && pc < code.length ? program.sourceLine(pc).orElse(null) : null;
    }

    /** A refusal the driver logs with pr_vlog: "[nfp] " + message. */
    private void nfp(int pc, NfpRule rule, String message, String sentence, boolean legalizable) {
        add(new NfpReason(pc, line(pc), rule, sentence, "[nfp] " + message, legalizable));
    }

    /** A refusal quoted verbatim (the kernel core's log, the driver's pr_info or nn_info). */
    private void quoted(int pc, NfpRule rule, String message, String sentence, boolean legalizable) {
        add(new NfpReason(pc, line(pc), rule, sentence, message, legalizable));
    }

    /** A refusal the driver makes without a message. */
    private void silent(int pc, NfpRule rule, String sentence, boolean legalizable) {
        add(new NfpReason(pc, line(pc), rule, sentence, null, legalizable));
    }

    private void add(NfpReason r) {
        reasons.putIfAbsent(r.pc() + "|" + r.rule() + "|" + r.quote() + "|" + r.sentence(), r);
    }

    // ---------------------------------------------------------------------------------------
    // Instructions on their own: the JIT's opcode table and what it cannot translate

    private void staticChecks() {
        for (int pc = 0; pc < code.length; pc++) {
            Insn insn = code[pc];
            if (insn == null || vp.facts(pc) == null) {
                continue;
            }
            int op = InsnCodec.opcodeByte(insn);
            switch (insn) {
                case Insn.Alu a -> {
                    // div/mod/sdiv/smod: decided after the walk, when the divisor is known
                }
                case Insn.Neg n -> {
                }
                case Insn.MovSx m -> silent(pc, NfpRule.OPCODE_OFFSET, String.format("movsx shares opcode %s with mov and the "
                        + "driver reads the opcode byte only: it would be translated as a plain mov, without the sign "
                        + "extension from %d bits", hex(op), m.fromBits()), true);
                case Insn.Endian e -> {
                    if (e.op() != EndianOp.BE) {
                        nfp(pc, NfpRule.OPCODE, "instruction " + hex(op) + " not supported", (e.op() == EndianOp.LE
                                ? "le" + e.bits() + " (conversion to little endian)" : "bswap" + e.bits() + " (ALU64 byte swap)")
                                + " is not in the nfp JIT's opcode table", true);
                    }
                }
                case Insn.LoadImm64 l -> {
                    if (l.kind() == LoadImm64Kind.MAP_VALUE_BY_IDX || l.kind() == LoadImm64Kind.MAP_VALUE_BY_FD) {
                        quoted(pc, NfpRule.MAP_DIRECT_VALUE, "no direct value access support for this map type", "a direct map value "
                                + "address (global data, lddw src " + l.kind().src() + ") needs map_direct_value_addr, "
                                + "which offloaded maps lack (the kernel's verifier refuses it)", false);
                    } else if (l.kind() == LoadImm64Kind.VARIABLE_ADDR || l.kind() == LoadImm64Kind.CODE_ADDR) {
                        silent(pc, NfpRule.OPCODE, "lddw src " + l.kind().src() + " (" + l.kind().resultType()
                                + ") has no translation in the nfp JIT", false);
                    }
                }
                case Insn.Load l -> {
                    if (l.signExtend()) {
                        nfp(pc, NfpRule.OPCODE, "instruction " + hex(op) + " not supported", "sign-extending load ldxs"
                                + l.size().suffix() + " is not in the nfp JIT's opcode table", true);
                    }
                }
                case Insn.Store s -> {
                    if (s.src() instanceof Imm) {
                        silent(pc, NfpRule.STORE_IMMEDIATE, "store of an immediate (BPF_ST): the driver's verifier hook "
                                + "does not record its pointer and the JIT's mem_st translates only packet stores, so "
                                + "translation fails (-EOPNOTSUPP)", true);
                    }
                }
                case Insn.Atomic a -> {
                    if (a.op() != AtomicOp.ADD) {
                        nfp(pc, NfpRule.ATOMIC, "atomic op not implemented: " + a.op().imm(), "only atomic add without "
                                + "fetch is offloaded, not " + a.op().mnemonic(), false);
                    }
                }
                case Insn.Ja j -> {
                    if (j.wide()) {
                        nfp(pc, NfpRule.OPCODE, "instruction " + hex(op) + " not supported", "ja32 (gotol, JMP32 JA) is not "
                                + "in the nfp JIT's opcode table", true);
                    }
                }
                case Insn.Jump j -> {
                }
                case Insn.Call c -> {
                    if (c.kind() != CallKind.LOCAL && !DRIVER_HELPERS.contains(c.imm())) {
                        nfp(pc, c.imm() == 12 ? NfpRule.TAIL_CALL : NfpRule.HELPER, "unsupported function id: " + c.imm(), helperName(c.imm())
                                + " is not among the helpers the nfp offloads (1, 2, 3, 7, 25, 44, 65)"
                                + (c.imm() == 12 ? "; tail calls are not offloaded" : ""), false);
                    }
                }
                case Insn.CallX c -> nfp(pc, NfpRule.OPCODE, "instruction " + hex(op) + " not supported",
                        "callx is not in the nfp JIT's opcode table", false);
                case Insn.Exit e -> {
                }
                case Insn.PacketLoad p -> {
                }
            }
        }
    }

    static String hex(int op) {
        return "0x" + Integer.toHexString(op); // the driver prints "%#02x"
    }

    private static String helperName(int id) {
        return dev.prism.runtime.Helpers.proto(id).map(p -> p.name() + " (" + id + ")").orElse("helper " + id);
    }

    // ---------------------------------------------------------------------------------------
    // Maps: the kernel core (offload.c) and the driver's nfp_bpf_map_alloc

    private void maps() {
        List<MapDef> maps = program.maps();
        long entries = 0;
        for (int i = 0; i < maps.size(); i++) {
            MapDef m = maps.get(i);
            int pc = firstReference(i);
            if (m.type() != MapType.ARRAY && m.type() != MapType.HASH) {
                silent(pc, NfpRule.MAP_TYPE, "map " + m.name() + " is a " + m.type().id() + " map: only array and hash maps are "
                        + "offloaded (BPF_MAP_CREATE with map_ifindex fails with EINVAL)", false);
                continue;
            }
            if (m.flags() != 0 || !m.name().isEmpty() && m.name().charAt(0) == '.') {
                quoted(pc, NfpRule.MAP_FLAGS, "map flags are not supported", "map " + m.name() + (m.flags() != 0
                        ? String.format(" has map_flags 0x%x; offloaded maps take none", m.flags())
                        : " is global data, which needs mmapable or read-only map flags; offloaded maps take none"), false);
            }
            entries += m.maxEntries();
            if (i >= profile.maxMaps()) {
                quoted(pc, NfpRule.MAP_FIRMWARE, "too many maps for a device", "map " + m.name() + " is one more than the "
                        + profile.maxMaps() + " the firmware holds", false);
            }
            if (entries > profile.maxMapEntries()) {
                long left = profile.maxMapEntries() - (entries - m.maxEntries());
                quoted(pc, NfpRule.MAP_ENTRIES, "map with too many elements: " + m.maxEntries() + ", left: " + Math.max(0, left),
                        "the maps hold more than the firmware's " + profile.maxMapEntries() + " entries", false);
            }
            int elem = roundUp(m.keySize(), 8) + roundUp(m.valueSize(), 8);
            if (elem > profile.maxElemSize()) {
                quoted(pc, NfpRule.MAP_FIRMWARE, "map elements too large: " + elem + ", FW max element size (key+value): "
                        + profile.maxElemSize(), "map " + m.name() + "'s key and value are too large for the firmware", false);
            }
            if (m.keySize() > profile.maxKeySize()) {
                quoted(pc, NfpRule.MAP_KEY_SIZE, "map key size " + m.keySize() + ", FW max is " + profile.maxKeySize(),
                        "map " + m.name() + "'s key is too large for the firmware", false);
            }
            if (m.valueSize() > profile.maxValueSize()) {
                quoted(pc, NfpRule.MAP_VALUE_SIZE, "map value size " + m.valueSize() + ", FW max is " + profile.maxValueSize(),
                        "map " + m.name() + "'s value is too large for the firmware", false);
            }
        }
    }

    private int firstReference(int map) {
        for (int pc = 0; pc < code.length; pc++) {
            if (code[pc] instanceof Insn.LoadImm64 l && l.imm() == map && l.kind() != LoadImm64Kind.IMM64
                    && l.kind() != LoadImm64Kind.CODE_ADDR && l.kind() != LoadImm64Kind.VARIABLE_ADDR) {
                return pc;
            }
        }
        return -1;
    }

    static int roundUp(int x, int to) {
        return (x + to - 1) / to * to;
    }

    // ---------------------------------------------------------------------------------------
    // The verifier hook, path by path

    /** {@return whether the kernel-profile walk ran} (false: the kernel refuses the program, reason added) */
    private boolean walk() {
        try {
            Verifier.verify(program, Profile.LINUX, program.type() == ProgramType.RAW ? vp.memSize() : -1, null, this::visit);
            return true;
        } catch (VerificationException e) {
            String d = e.diagnostics().isEmpty() ? "refused" : e.diagnostics().get(0);
            int pc = -1;
            int colon = d.indexOf(':');
            if (colon > 0) {
                try {
                    pc = Integer.parseInt(d.substring(0, colon).strip());
                } catch (NumberFormatException ignored) {
                    pc = -1;
                }
            }
            silent(pc, NfpRule.KERNEL_VERIFIER, "the kernel's verifier refuses the program before the driver sees it "
                    + "(Prism's linux profile: " + d + ")", false);
            return false;
        }
    }

    private Meta meta(int pc) {
        if (meta[pc] == null) {
            meta[pc] = new Meta();
        }
        return meta[pc];
    }

    private void visit(int pc, List<Facts.Register> regs) {
        Insn insn = code[pc];
        switch (insn) {
            case Insn.Load l -> {
                if (!l.signExtend()) {
                    checkPtr(pc, regs.get(l.src().n()), l.offset(), l.size().bytes(), Use.LOAD);
                }
            }
            case Insn.Store s -> {
                Facts.Register base = regs.get(s.dst().n());
                if (base.kind() == Facts.Kind.CTX) {
                    nfp(pc, NfpRule.CONTEXT, "unsupported store to context field", "stores to the context are not offloaded",
                            false);
                } else if (s.src() instanceof Reg) {
                    checkPtr(pc, base, s.offset(), s.size().bytes(), Use.STORE);
                } else if (base.kind() == Facts.Kind.MAP_VALUE) {
                    nfp(pc, NfpRule.MAP_WRITE, "map writes not supported", "the program stores into a map value; the nfp "
                            + "reads map values and adds to them atomically, nothing else", false);
                }
            }
            case Insn.Atomic a -> {
                Facts.Register dst = regs.get(a.dst().n());
                Facts.Register src = regs.get(a.src().n());
                if (a.op() != AtomicOp.ADD) {
                    return; // refused already, and the driver stops at the first check
                }
                if (dst.kind() != Facts.Kind.MAP_VALUE) {
                    nfp(pc, NfpRule.ATOMIC, "atomic add not to a map value pointer: " + kernelType(dst),
                            "atomic add into " + kindName(dst) + "; only map values are offloaded", false);
                    return;
                }
                if (src.kind() != Facts.Kind.SCALAR) {
                    nfp(pc, NfpRule.ATOMIC, "atomic add not of a scalar: " + kernelType(src), "atomic add of a pointer", false);
                    return;
                }
                checkPtr(pc, dst, a.offset(), a.size().bytes(), Use.ATOMIC);
            }
            case Insn.Alu a -> {
                Meta m = meta(pc);
                m.alu = true;
                Scalar d = scalar(regs.get(a.dst().n()));
                m.uminDst = Long.compareUnsigned(d.umin(), m.uminDst) < 0 ? d.umin() : m.uminDst;
                m.umaxDst = Long.compareUnsigned(d.umax(), m.umaxDst) > 0 ? d.umax() : m.umaxDst;
                if (a.src() instanceof Reg r) {
                    Scalar s = scalar(regs.get(r.n()));
                    m.uminSrc = Long.compareUnsigned(s.umin(), m.uminSrc) < 0 ? s.umin() : m.uminSrc;
                    m.umaxSrc = Long.compareUnsigned(s.umax(), m.umaxSrc) > 0 ? s.umax() : m.umaxSrc;
                }
            }
            case Insn.Call c -> {
                if (c.kind() != CallKind.LOCAL) {
                    helperCall(pc, c.imm(), regs);
                }
            }
            case Insn.Exit e -> {
                if (program.type() == ProgramType.TC && isMainExit(pc)) {
                    tcExit(pc, regs.get(0));
                }
            }
            case Insn.Neg n -> {
            }
            case Insn.MovSx m -> {
            }
            case Insn.Endian e -> {
            }
            case Insn.LoadImm64 l -> {
            }
            case Insn.Ja j -> {
            }
            case Insn.Jump j -> {
            }
            case Insn.CallX c -> {
            }
            case Insn.PacketLoad p -> {
            }
        }
    }

    private static Scalar scalar(Facts.Register r) {
        // pointers take part in no multiplication or division the verifier accepts
        return r.kind() == Facts.Kind.SCALAR ? r.value() : Scalar.top();
    }

    private enum Use { LOAD, STORE, ATOMIC }

    /** nfp_bpf_check_ptr and the JIT's context translation. */
    private void checkPtr(int pc, Facts.Register reg, short insnOff, int size, Use use) {
        Facts.Kind kind = reg.kind() == Facts.Kind.MEM && options.rawAsPacket() ? Facts.Kind.PACKET : reg.kind();
        if (kind != Facts.Kind.CTX && kind != Facts.Kind.STACK && kind != Facts.Kind.MAP_VALUE && kind != Facts.Kind.PACKET) {
            nfp(pc, NfpRule.POINTER_TYPE, "unsupported ptr type: " + kernelType(reg), "memory access through "
                    + kindName(reg) + "; the nfp reaches the context, the stack, map values and the packet only", false);
            return;
        }
        Meta m = meta(pc);
        if (kind == Facts.Kind.STACK) {
            if (!reg.value().isConstant()) {
                nfp(pc, NfpRule.STACK_OFFSET, "variable ptr stack access", "the stack offset is not a constant", false);
                return;
            }
            long off = reg.value().constantValue();
            if (m.stackOff != null && m.stackOff != off && m.stackOff % 4 != off % 4) {
                nfp(pc, NfpRule.STACK_OFFSET, "stack access changed location was:" + m.stackOff + " is:" + off,
                        "the instruction reaches stack offsets that differ modulo 4 on different paths", false);
                return;
            }
            if (m.stackOff == null) {
                m.stackOff = off;
            }
        }
        if (kind == Facts.Kind.MAP_VALUE) {
            if (use == Use.STORE) {
                nfp(pc, NfpRule.MAP_WRITE, "map writes not supported", "the program stores into a map value; the nfp "
                        + "reads map values and adds to them atomically, nothing else", false);
                return;
            }
            if (!markUsed(pc, reg, insnOff, size, use == Use.LOAD ? 1 : 3)) {
                return;
            }
        }
        if (kind == Facts.Kind.CTX && use == Use.LOAD) {
            contextLoad(pc, reg, insnOff, size);
        }
        if (m.ptr != null && m.ptr != kind) {
            nfp(pc, NfpRule.POINTER_TYPE_CHANGED, "ptr type changed for instruction " + kernelType(m.ptr, false) + " -> "
                    + kernelType(kind, false), "the instruction accesses " + kindName(m.ptr) + " on one path and "
                    + kindName(kind) + " on another; the nfp translates each access for one pointer type", false);
            return;
        }
        m.ptr = kind;
    }

    /** The JIT's mem_ldx_xdp / mem_ldx_skb: the context fields it translates. */
    private void contextLoad(int pc, Facts.Register reg, short insnOff, int size) {
        if (!reg.value().isConstant()) {
            return; // the kernel refuses variable context offsets
        }
        long off = reg.value().constantValue() + insnOff;
        boolean ok = program.type() == ProgramType.XDP ? size == 4 && (off == 0 || off == 4)
                : size == 4 && (off == 0 || off == 76 || off == 80);
        if (!ok) {
            silent(pc, NfpRule.CONTEXT, String.format("%d-byte context load at offset %d: the nfp JIT translates only "
                    + (program.type() == ProgramType.XDP ? "4-byte loads of xdp_md.data (0) and data_end (4)"
                    : "4-byte loads of __sk_buff.len (0), data (76) and data_end (80)") + " (translation fails with "
                    + "-EOPNOTSUPP)", size, off), false);
        }
    }

    /** nfp_bpf_map_mark_used: per 4-byte word, read or atomic, never both. */
    private boolean markUsed(int pc, Facts.Register reg, short insnOff, int size, int use) {
        if (!reg.value().isConstant()) {
            nfp(pc, NfpRule.MAP_VALUE_USE, "map value offset is variable", "map value accesses need a constant offset", false);
            return false;
        }
        long off = reg.value().constantValue() + insnOff;
        MapDef def = reg.map() >= 0 && reg.map() < program.maps().size() ? program.maps().get(reg.map()) : null;
        if (def == null || off < 0 || off + size > def.valueSize()) {
            return true; // the kernel's verifier proved the access in bounds
        }
        byte[] words = mapUse.computeIfAbsent(reg.map(), k -> new byte[(def.valueSize() + 3) / 4]);
        for (long i = 0; i < size; i += 4 - (off + i) % 4) {
            int w = (int) ((off + i) / 4);
            if (words[w] != 0 && words[w] != use) {
                nfp(pc, NfpRule.MAP_VALUE_USE, "map value use type conflict " + useName(words[w]) + " vs " + useName(use)
                                + " off: " + (off + i), "map " + def.name() + "'s word at offset " + (w * 4)
                                + " is both read and atomically added; the nfp keeps atomic counters big-endian", false);
                return false;
            }
            words[w] = (byte) use;
        }
        return true;
    }

    private static String useName(int use) {
        return switch (use) {
            case 1 -> "read";
            case 2 -> "write";
            case 3 -> "atomic";
            default -> "unused";
        };
    }

    /** nfp_bpf_check_helper_call. */
    private void helperCall(int pc, int id, List<Facts.Register> regs) {
        Meta m = meta(pc);
        switch (id) {
            case 1, 2, 3 -> {
                String name = id == 1 ? "map_lookup" : id == 2 ? "map_update" : "map_delete";
                if (!profile.helpers().contains(id)) {
                    nfp(pc, NfpRule.HELPER, name + ": not supported by FW", "the firmware lacks " + helperName(id), false);
                    return;
                }
                Facts.Register r1 = regs.get(1);
                if (m.map >= 0 && r1.map() != m.map) {
                    nfp(pc, NfpRule.HELPER_ARGUMENT, name + ": called for different map", "the call site is reached with "
                            + "different maps on different paths", false);
                    return;
                }
                m.map = r1.map();
                if (!stackArgOk(pc, name, regs.get(2), "key")) {
                    return;
                }
                if (id == 2) {
                    if (!stackArgOk(pc, name, regs.get(3), "value")) {
                        return;
                    }
                    m.updateValueOff = regs.get(3).value().constantValue();
                    List<Integer> sites = updates.computeIfAbsent(m.map, k -> new ArrayList<>());
                    if (!sites.contains(pc)) {
                        sites.add(pc);
                    }
                }
            }
            case 7 -> {
                if (!profile.helpers().contains(id)) {
                    nfp(pc, NfpRule.HELPER, "bpf_get_prandom_u32(): FW doesn't support random number generation",
                            "the firmware lacks bpf_get_prandom_u32", false);
                }
            }
            case 25 -> {
                if (!profile.helpers().contains(id)) {
                    nfp(pc, NfpRule.HELPER, "event_output: not supported by FW", "the firmware lacks bpf_perf_event_output", false);
                    return;
                }
                Scalar flags = scalar(regs.get(3));
                if (!flags.isConstant() || (flags.constantValue() & 0xffff_ffffL) != 0xffff_ffffL) {
                    nfp(pc, NfpRule.HELPER_ARGUMENT, "event_output: must use BPF_F_CURRENT_CPU, var_off: " + flags.bits(),
                            "bpf_perf_event_output's flags must be the constant BPF_F_CURRENT_CPU", false);
                    return;
                }
                Facts.Register r4 = regs.get(4);
                if (r4.kind() != Facts.Kind.SCALAR && r4.kind() != Facts.Kind.STACK && r4.kind() != Facts.Kind.MAP_VALUE) {
                    nfp(pc, NfpRule.HELPER_ARGUMENT, "event_output: unsupported ptr type: " + kernelType(r4),
                            "bpf_perf_event_output's data must be on the stack or in a map value", false);
                    return;
                }
                if (r4.kind() == Facts.Kind.STACK && !stackArgOk(pc, "event_output", r4, "data")) {
                    return;
                }
                int t = kernelType(r4);
                if (m.arg4Type >= 0 && m.arg4Type != t) {
                    nfp(pc, NfpRule.HELPER_ARGUMENT, "event_output: ptr type changed: " + m.arg4Type + " " + t,
                            "bpf_perf_event_output's data is of different kinds on different paths", false);
                }
                m.arg4Type = t;
            }
            case 44 -> {
                if (!profile.helpers().contains(id)) {
                    nfp(pc, NfpRule.HELPER, "adjust_head not supported by FW", "the firmware lacks bpf_xdp_adjust_head", false);
                }
            }
            case 65 -> {
                if (!profile.helpers().contains(id)) {
                    nfp(pc, NfpRule.HELPER, "adjust_tail not supported by FW", "the firmware lacks bpf_xdp_adjust_tail", false);
                }
            }
            default -> {
                // refused by staticChecks: "unsupported function id"
            }
        }
    }

    /** nfp_bpf_stack_arg_ok. */
    private boolean stackArgOk(int pc, String fname, Facts.Register reg, String what) {
        if (reg.kind() != Facts.Kind.STACK) {
            nfp(pc, NfpRule.HELPER_ARGUMENT, fname + ": unsupported ptr type " + kernelType(reg), "the " + what + " is in "
                    + kindName(reg) + "; the nfp takes helper keys and values from the stack only", false);
            return false;
        }
        if (!reg.value().isConstant()) {
            nfp(pc, NfpRule.HELPER_ARGUMENT, fname + ": variable pointer", "the " + what + "'s stack offset is not a constant",
                    false);
            return false;
        }
        long off = reg.value().constantValue();
        if (-off % 4 != 0) {
            nfp(pc, NfpRule.HELPER_ARGUMENT, fname + ": unaligned stack pointer " + (-off), "the " + what
                    + " is not 4-byte aligned on the stack", false);
            return false;
        }
        return true;
    }

    private void tcExit(int pc, Facts.Register r0) {
        if (r0.kind() != Facts.Kind.SCALAR || !r0.value().isConstant()) {
            nfp(pc, NfpRule.TC_RETURN, "unsupported exit state: " + kernelType(r0) + ", var_off: " + r0.value().bits(),
                    "a cls_bpf program offloaded must return a known constant", false);
            return;
        }
        long imm = r0.value().constantValue();
        if (Long.compareUnsigned(imm, 7) <= 0 && imm != 2 && imm != 4 && imm != 3) {
            nfp(pc, NfpRule.TC_RETURN, "unsupported exit state: " + kernelType(r0) + ", imm: " + Long.toHexString(imm),
                    "the offloaded cls_bpf program may return TC_ACT_SHOT, STOLEN or QUEUED (or unspecified)", false);
        }
    }

    // ---------------------------------------------------------------------------------------
    // After the walk: what the driver decides from what it accumulated

    private void aluRanges() {
        for (int pc = 0; pc < code.length; pc++) {
            if (!(code[pc] instanceof Insn.Alu a) || meta[pc] == null || !meta[pc].alu) {
                continue;
            }
            Meta m = meta[pc];
            boolean k = a.src() instanceof Imm;
            int imm = k ? ((Imm) a.src()).value() : 0;
            boolean w32 = a.width() == Width.W32;
            switch (a.op()) {
                case MUL -> {
                    if (Long.compareUnsigned(m.umaxDst, U32_MAX) > 0) {
                        nfp(pc, NfpRule.MUL_RANGE, "multiplier is not within u32 value range", "the multiplier " + a.dst()
                                + " may exceed u32 (" + Long.toUnsignedString(m.umaxDst) + ")" + (w32 ? "; a 32-bit "
                                + "multiplication reads only its low half, so a mov32 before it fixes it" : ""), w32);
                    }
                    if (!k && Long.compareUnsigned(m.umaxSrc, U32_MAX) > 0) {
                        nfp(pc, NfpRule.MUL_RANGE, "multiplicand is not within u32 value range", "the multiplicand "
                                + a.src() + " may exceed u32 (" + Long.toUnsignedString(m.umaxSrc) + ")", false);
                    }
                    if (!w32 && k && imm < 0) {
                        nfp(pc, NfpRule.MUL_RANGE, "sign extended multiplicand won't be within u32 value range",
                                "a 64-bit multiplication by the negative immediate " + imm, false);
                    }
                }
                case DIV -> {
                    if (Long.compareUnsigned(m.umaxDst, U32_MAX) > 0) {
                        nfp(pc, NfpRule.DIV_RANGE, "dividend is not within u32 value range", "the dividend " + a.dst()
                                + " may exceed u32 (" + Long.toUnsignedString(m.umaxDst) + ")" + (w32 ? "; a 32-bit "
                                + "division reads only its low half, so a mov32 before it fixes it" : ""), w32);
                    }
                    divisor(pc, a, m, false);
                }
                case MOD, SDIV, SMOD -> divisor(pc, a, m, true);
                default -> {
                }
            }
        }
    }

    /**
     * The divisor rules of nfp_bpf_check_alu for div, and the opcode rules for mod, sdiv and smod,
     * which the legalizer lifts when the divisor is a constant it can divide by.
     */
    private void divisor(int pc, Insn.Alu a, Meta m, boolean rewritten) {
        boolean k = a.src() instanceof Imm;
        Long c = k ? (Long) (long) ((Imm) a.src()).value() : m.uminSrc == m.umaxSrc ? (Long) m.umaxSrc : null;
        String op = a.op().mnemonic() + a.width().suffix();
        int opcode = InsnCodec.opcodeByte(a);
        if (!rewritten) {
            if (!k && c == null) {
                nfp(pc, NfpRule.DIV_CONSTANT, "divisor is not constant", "the nfp divides by constants only (by reciprocal "
                        + "multiplication); " + a.src() + " takes more than one value", false);
            } else if (!k && Long.compareUnsigned(c, U32_MAX) > 0) {
                nfp(pc, NfpRule.DIV_RANGE, "divisor is not within u32 value range", "the divisor " + a.src() + " exceeds u32", false);
            } else if (k && c < 0) {
                nfp(pc, NfpRule.DIV_RANGE, "divide by negative constant is not supported", "division by the negative "
                        + "immediate " + c, false);
            } else if (c == 0) {
                silent(pc, NfpRule.DIV_RANGE, op + " by the constant 0: the nfp's reciprocal multiplication is undefined for "
                        + "it (RFC 9669: the result is 0)", true);
            }
            return;
        }
        String why = NfpLegalizer.whyNotDivisor(a, c);
        boolean legal = why == null;
        String sentence = (a.op() == AluOp.SDIV ? op + " shares opcode " + hex(opcode) + " with div and the driver reads "
                + "the opcode byte only: it would be translated as an unsigned division" : op + " is not in the nfp JIT's "
                + "opcode table") + (legal ? "" : "; not legalized: " + why);
        if (a.op() == AluOp.SDIV) {
            silent(pc, NfpRule.OPCODE_OFFSET, sentence, legal);
        } else {
            nfp(pc, NfpRule.OPCODE, "instruction " + hex(opcode) + " not supported", sentence, legal);
        }
    }

    /**
     * The opcode reasons of mod, sdiv and smod when the kernel refuses the program before the
     * driver's hook runs: named all the same, so the user sees every refusal (not legalizable:
     * the kernel's refusal stays).
     */
    private void opcodesWithoutTheWalk() {
        for (int pc = 0; pc < code.length; pc++) {
            if (code[pc] instanceof Insn.Alu a && vp.facts(pc) != null
                    && (a.op() == AluOp.MOD || a.op() == AluOp.SMOD || a.op() == AluOp.SDIV)) {
                int opcode = InsnCodec.opcodeByte(a);
                String op = a.op().mnemonic() + a.width().suffix();
                if (a.op() == AluOp.SDIV) {
                    silent(pc, NfpRule.OPCODE_OFFSET, op + " shares opcode " + hex(opcode) + " with div and the driver reads "
                            + "the opcode byte only: it would be translated as an unsigned division", false);
                } else {
                    nfp(pc, NfpRule.OPCODE, "instruction " + hex(opcode) + " not supported", op
                            + " is not in the nfp JIT's opcode table", false);
                }
            }
        }
    }

    /** nfp_bpf_map_update_value_ok: atomic counters must be initialized to zero by map updates. */
    private void counters() {
        for (Map.Entry<Integer, List<Integer>> e : updates.entrySet()) {
            byte[] words = mapUse.get(e.getKey());
            if (words == null) {
                continue;
            }
            for (int w = 0; w < words.length; w++) {
                if (words[w] == 3) {
                    for (int pc : e.getValue()) {
                        long off = meta[pc].updateValueOff;
                        int i = w * 4;
                        nfp(pc, NfpRule.ATOMIC, "value at offset " + i + "/" + (-(off + i) - 1) + " may be non-zero, "
                                + "bpf_map_update_elem() is required to initialize atomic counters to zero to avoid offload "
                                + "endian issues", "the update writes map " + program.maps().get(e.getKey()).name()
                                + "'s atomic counter at offset " + i + " from a stack value Prism does not prove zero "
                                + "(the nfp keeps counters big-endian)", false);
                    }
                    break;
                }
            }
        }
    }

    /** nfp_bpf_get_stack_usage, plus the profile's call overhead per call. */
    private void stackSize() {
        Map<Integer, Integer> memo = new HashMap<>();
        int total = chain(0, memo, 0);
        if (total > profile.stackBytes()) {
            nfp(-1, NfpRule.STACK_SIZE, "stack too large: program " + total + "B > FW stack " + profile.stackBytes() + "B",
                    "each frame is rounded up to " + STACK_FRAME_ALIGN + " bytes along the deepest call chain, plus "
                            + profile.callOverheadBytes() + " bytes per call", false);
        }
    }

    private int chain(int start, Map<Integer, Integer> memo, int depth) {
        Integer known = memo.get(start);
        if (known != null) {
            return known;
        }
        int own = roundUp(vp.stackDepths().getOrDefault(start, 0), STACK_FRAME_ALIGN);
        int deepest = 0;
        if (depth < 16) {
            for (FunctionCfg f : vp.cfg().functions()) {
                if (f.start() == start) {
                    for (CallEdge e : f.callees()) {
                        if (e.kind() == CallEdge.Kind.CALL) {
                            deepest = Math.max(deepest, profile.callOverheadBytes() + chain(e.callee(), memo, depth + 1));
                        }
                    }
                }
            }
        }
        memo.put(start, own + deepest);
        return own + deepest;
    }

    private void programLength() {
        int n = NfpCost.estimate(code, program.type());
        if (n > profile.maxInstructions()) {
            silent(-1, NfpRule.PROGRAM_LENGTH, "the program translates to an estimated " + n + " NFP instructions, more than "
                    + "the firmware's " + profile.maxInstructions() + " (the JIT fails with -ENOSPC)", false);
        }
    }

    private void packetOffsets() {
        if (profile.mtu() > profile.inlineMtu()) {
            quoted(-1, NfpRule.PACKET_OFFSET, "BPF offload not supported with MTU larger than HW packet split boundary",
                    "the interface MTU " + profile.mtu() + " exceeds the inline packet boundary " + profile.inlineMtu(), false);
        }
        for (int pc = 0; pc < code.length; pc++) {
            Facts f = code[pc] == null ? null : vp.facts(pc);
            if (f != null && f.access() != null && (f.access().region() == Facts.Kind.PACKET
                    || options.rawAsPacket() && f.access().region() == Facts.Kind.MEM)
                    && f.access().maxOffset() + f.access().size() > profile.inlineMtu()) {
                silent(pc, NfpRule.PACKET_OFFSET, "packet access up to byte " + (f.access().maxOffset() + f.access().size())
                        + ", beyond the " + profile.inlineMtu() + " bytes the nfp holds inline", false);
            }
        }
    }

    private void xdpReturns() {
        if (program.type() != ProgramType.XDP) {
            return;
        }
        for (int pc = 0; pc < code.length; pc++) {
            if (code[pc] instanceof Insn.Exit && isMainExit(pc) && vp.facts(pc) != null) {
                long max = NfpLegalizer.u32Max(vp.facts(pc).registers().get(0));
                if (max > 3) {
                    silent(pc, NfpRule.XDP_RETURN, "the XDP action may be " + (max == U32_MAX ? "any u32" : "up to " + max)
                            + "; the nfp knows actions 0..3 (aborted, drop, pass, tx) and treats larger ones as "
                            + "XDP_ABORTED", true);
                }
            }
        }
    }

    private boolean isMainExit(int pc) {
        for (FunctionCfg f : vp.cfg().functions()) {
            if (f.start() == 0) {
                return f.contains(pc);
            }
        }
        return true;
    }

    // ---------------------------------------------------------------------------------------
    // The kernel's enum bpf_reg_type (include/linux/bpf.h, 6.x), as the driver prints it

    static int kernelType(Facts.Register r) {
        return kernelType(r.kind(), r.maybeNull());
    }

    private static int kernelType(Facts.Kind k, boolean maybeNull) {
        int base = switch (k) {
            case UNINIT -> 0;
            case SCALAR -> 1;
            case CTX -> 2;
            case MAP -> 3;
            case MAP_VALUE -> 4;
            case STACK -> 6;
            case PACKET_META -> 7;
            case PACKET, MEM -> 8;
            case PACKET_END -> 9;
            case RINGBUF_RECORD -> 17;
            case FUNCTION -> 20;
        };
        return base | (maybeNull ? 1 << 8 : 0);
    }

    private static String kindName(Facts.Register r) {
        return kindName(r.kind()) + (r.maybeNull() ? " (may be null)" : "");
    }

    private static String kindName(Facts.Kind k) {
        return switch (k) {
            case UNINIT -> "an unknown value";
            case SCALAR -> "a scalar";
            case CTX -> "the context";
            case STACK -> "the stack";
            case PACKET -> "the packet";
            case PACKET_END -> "the packet end";
            case PACKET_META -> "the packet metadata";
            case MAP_VALUE -> "a map value";
            case MAP -> "a map";
            case RINGBUF_RECORD -> "a ring buffer record";
            case FUNCTION -> "a function";
            case MEM -> "input memory";
        };
    }
}
