package dev.prism.nfp;

import dev.prism.asm.Disassembler;
import dev.prism.error.VerificationException;
import dev.prism.isa.AluOp;
import dev.prism.isa.AtomicOp;
import dev.prism.isa.CallKind;
import dev.prism.isa.EndianOp;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.JumpOp;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.isa.Operand;
import dev.prism.isa.Reg;
import dev.prism.isa.Size;
import dev.prism.isa.Width;
import dev.prism.program.Function;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.program.SourceLine;
import dev.prism.verifier.Facts;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import dev.prism.verifier.cfg.FunctionCfg;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Rewrites what the nfp cannot execute into what it can, keeping RFC 9669's semantics, then
 * proves the result again with Prism's verifier and checks it again with {@link NfpChecker}.
 *
 * <p>The rewrites, each replacing one instruction by a sequence:
 * <ul>
 *   <li>{@code mod} by a constant c (0 &lt; c &le; 0x7fffffff): {@code t = x; t /= c; t *= c; x -= t},
 *       with a scratch register t (one dead after the instruction, else one spilled to a new
 *       stack slot below the function's frame); by 0: x unchanged (RFC 9669);</li>
 *   <li>{@code sdiv}/{@code smod} by a constant: on the dividend's sign, negate, divide (or take
 *       the unsigned remainder) by |c|, negate back; the quotient negated once more for c &lt; 0;</li>
 *   <li>{@code st [p+off], imm}: {@code t = imm; stx [p+off], t};</li>
 *   <li>{@code le16/32/64}: {@code and32 x, 0xffff} / {@code mov32 x, x} / {@code mov x, x};
 *       {@code bswap16/32/64}: {@code be16/32/64} (the same swap on a little-endian machine);</li>
 *   <li>{@code ldxs{b,h,w}}: the zero-extending load, then {@code lsh} and {@code arsh} by 64 - bits;
 *       {@code movsx}: mov, then the same shifts (32-bit shifts for the 32-bit form);</li>
 *   <li>{@code ja32}: {@code ja} (when the offset fits 16 bits);</li>
 *   <li>32-bit {@code mul}/{@code div} whose 64-bit destination may exceed u32: {@code mov32 x, x} first;
 *       division by the constant 0: {@code mov x, 0};</li>
 *   <li>XDP exits whose action may exceed 3: {@code if w0 > 3: r0 = 0} (XDP_ABORTED, what the card does).</li>
 * </ul>
 * Jumps, local calls and code addresses are retargeted after the insertions; function starts and
 * line info move with their instructions.
 */
public final class NfpLegalizer {
    /** One instruction of a rewrite; {@code target} the original pc a branch goes to (-1: none, or local). */
    private record Emit(Insn insn, int target) {
        static Emit of(Insn insn) {
            return new Emit(insn, -1);
        }
    }

    /**
     * One instruction rewritten.
     *
     * @param pc          its pc in the original program
     * @param newPc       where its replacement starts in the legalized program
     * @param original    the instruction
     * @param replacement what replaces it
     * @param rule        the rule the rewrite satisfies
     */
    public record Rewrite(int pc, int newPc, Insn original, List<Insn> replacement, NfpRule rule) {
    }

    /**
     * The outcome.
     *
     * @param program   the legalized program, null when a reason remains
     * @param verified  its proof (null when none)
     * @param rewrites  the rewrites made
     * @param remaining the reasons that stay, at original pcs (empty: the legalized program fits the nfp)
     * @param newPc     old pc to the new pc where its replacement starts (null when not legalized)
     * @param oldPc     new pc to the original pc it came from
     */
    public record Result(Program program, VerifiedProgram verified, List<Rewrite> rewrites, List<NfpReason> remaining,
                         int[] newPc, int[] oldPc) {
        public boolean ok() {
            return remaining.isEmpty();
        }
    }

    private final VerifiedProgram vp;
    private final Program program;
    private final Insn[] code;
    private final NfpProfile profile;
    private final NfpChecker.Options options;
    private final List<NfpReason> problems = new ArrayList<>();
    private int[] liveOut;

    private NfpLegalizer(VerifiedProgram vp, NfpProfile profile, NfpChecker.Options options) {
        this.vp = vp;
        this.program = vp.program();
        this.code = program.slots();
        this.profile = profile;
        this.options = options;
    }

    /**
     * {@return the program legalized for the nfp}: when every reason of {@code reasons} (the
     * checker's for {@code vp}) is legalizable, the rewritten program, proven and checked again;
     * otherwise the reasons that stay.
     */
    public static Result legalize(VerifiedProgram vp, List<NfpReason> reasons, NfpProfile profile, NfpChecker.Options options) {
        List<NfpReason> hard = reasons.stream().filter(r -> !r.legalizable()).toList();
        if (!hard.isEmpty()) {
            return new Result(null, null, List.of(), hard, null, null);
        }
        return new NfpLegalizer(vp, profile, options).run(reasons);
    }

    /** {@return the program checked and, where needed, legalized: the whole nfp pipeline} */
    public static Result process(VerifiedProgram vp, NfpProfile profile, NfpChecker.Options options) {
        return legalize(vp, NfpChecker.check(vp, profile, options), profile, options);
    }

    /**
     * Rewrites the instructions the reasons name; when the rewritten program has legalizable
     * reasons at instructions it kept as they were (an XDP exit whose action the rewrites made
     * unknown), rewrites those too, from the original, until nothing new comes up.
     */
    private Result run(List<NfpReason> reasons) {
        Map<Integer, NfpRule> todo = new TreeMap<>();
        for (NfpReason r : reasons) {
            todo.putIfAbsent(r.pc(), r.rule());
        }
        liveOut = liveness();
        for (int round = 0; ; round++) {
            Result r = run(todo);
            if (r.ok() || round == 3 || r.newPc() == null) {
                return r;
            }
            boolean more = false;
            for (NfpReason left : r.remaining()) {
                if (!left.legalizable() || todo.containsKey(left.pc())) {
                    return r;
                }
                todo.put(left.pc(), left.rule());
                more = true;
            }
            if (!more) {
                return r;
            }
        }
    }

    private Result run(Map<Integer, NfpRule> todo) {
        problems.clear();
        Map<Integer, List<Emit>> replace = new TreeMap<>();
        for (Map.Entry<Integer, NfpRule> e : todo.entrySet()) {
            List<Emit> seq = rewrite(e.getKey());
            if (seq != null) {
                replace.put(e.getKey(), seq);
            }
        }
        if (!problems.isEmpty()) {
            return new Result(null, null, List.of(), List.copyOf(problems), null, null);
        }
        // layout
        int[] newPc = new int[code.length + 1];
        int n = 0;
        for (int pc = 0; pc < code.length; pc++) {
            newPc[pc] = n;
            if (code[pc] != null) {
                for (Emit e : replace.getOrDefault(pc, List.of(original(pc)))) {
                    n += e.insn().slots();
                }
            }
        }
        newPc[code.length] = n;
        Insn[] out = new Insn[n];
        int[] oldPc = new int[n];
        List<Rewrite> rewrites = new ArrayList<>();
        for (int pc = 0; pc < code.length; pc++) {
            if (code[pc] == null) {
                continue;
            }
            int at = newPc[pc];
            List<Insn> made = new ArrayList<>();
            for (Emit e : replace.getOrDefault(pc, List.of(original(pc)))) {
                Insn insn = e.target() < 0 ? e.insn() : retarget(pc, e.insn(), newPc[e.target()] - (at + 1));
                if (insn == null) {
                    return failed(pc, "the jump offset does not fit 16 bits after the rewrites");
                }
                out[at] = insn;
                oldPc[at] = pc;
                if (insn.slots() == 2) {
                    oldPc[at + 1] = pc;
                }
                made.add(insn);
                at += insn.slots();
            }
            if (replace.containsKey(pc)) {
                rewrites.add(new Rewrite(pc, newPc[pc], code[pc], List.copyOf(made), todo.get(pc)));
            }
        }
        Map<Integer, SourceLine> lines = new HashMap<>();
        for (int pc = 0; pc < code.length; pc++) {
            int p = pc;
            if (code[pc] != null) {
                program.sourceLine(pc).ifPresent(l -> lines.putIfAbsent(newPc[p], l));
            }
        }
        List<Function> functions = program.functions().stream().map(f -> new Function(f.name(), newPc[f.start()])).toList();
        Program legal = Program.builder(program.name(), program.type(), out).maps(program.maps()).functions(functions)
                .license(program.license()).section(program.section()).lines(lines).build();
        VerifiedProgram again;
        try {
            again = Verifier.verify(legal, Profile.RFC9669, program.type() == ProgramType.RAW ? vp.memSize() : -1, null);
        } catch (VerificationException e) {
            return failed(-1, "the legalized program fails Prism's verifier: " + String.join("; ", e.diagnostics()));
        }
        List<NfpReason> left = new ArrayList<>();
        for (NfpReason r : NfpChecker.check(again, profile, options)) {
            int o = r.pc() < 0 ? -1 : r.pc() < oldPc.length ? oldPc[r.pc()] : -1;
            left.add(r.at(o, o < 0 ? null : program.sourceLine(o).orElse(null)));
        }
        return new Result(left.isEmpty() ? legal : null, left.isEmpty() ? again : null, List.copyOf(rewrites),
                List.copyOf(left), newPc, oldPc);
    }

    private Result failed(int pc, String why) {
        return new Result(null, null, List.of(), List.of(new NfpReason(pc, pc < 0 ? null : program.sourceLine(pc).orElse(null),
                NfpRule.LEGALIZER, why, null, false)), null, null);
    }

    private Emit original(int pc) {
        Insn insn = code[pc];
        return new Emit(insn, target(pc, insn));
    }

    /** {@return the original pc a branch of the original program goes to, or -1} */
    private static int target(int pc, Insn insn) {
        return switch (insn) {
            case Insn.Jump j -> pc + 1 + j.offset();
            case Insn.Ja j -> pc + 1 + j.offset();
            case Insn.Call c when c.kind() == CallKind.LOCAL -> pc + 1 + c.imm();
            case Insn.LoadImm64 l when l.kind() == LoadImm64Kind.CODE_ADDR -> pc + 1 + l.imm();
            default -> -1;
        };
    }

    /** {@return the branch with a new relative offset, or null when it does not fit} */
    private static Insn retarget(int pc, Insn insn, int offset) {
        boolean fits16 = offset >= Short.MIN_VALUE && offset <= Short.MAX_VALUE;
        return switch (insn) {
            case Insn.Jump j -> fits16 ? new Insn.Jump(j.op(), j.width(), j.dst(), j.src(), (short) offset) : null;
            case Insn.Ja j -> j.wide() ? new Insn.Ja(offset, true) : fits16 ? new Insn.Ja(offset, false) : null;
            case Insn.Call c -> new Insn.Call(c.kind(), offset);
            case Insn.LoadImm64 l -> new Insn.LoadImm64(l.kind(), l.dst(), offset, l.nextImm());
            default -> throw new IllegalStateException(pc + ": not a branch: " + insn);
        };
    }

    // ---------------------------------------------------------------------------------------
    // The rewrites

    /** {@return the replacement of the instruction at pc, or null when it stays (problems say why not)} */
    private List<Emit> rewrite(int pc) {
        Insn insn = code[pc];
        Facts f = vp.facts(pc);
        return switch (insn) {
            case Insn.Alu a -> alu(pc, a, f);
            case Insn.MovSx m -> {
                int shift = (m.width() == Width.W64 ? 64 : 32) - m.fromBits();
                yield List.of(Emit.of(new Insn.Alu(AluOp.MOV, m.width(), m.dst(), m.src())),
                        Emit.of(new Insn.Alu(AluOp.LSH, m.width(), m.dst(), new Imm(shift))),
                        Emit.of(new Insn.Alu(AluOp.ARSH, m.width(), m.dst(), new Imm(shift))));
            }
            case Insn.Endian e -> switch (e.op()) {
                case LE -> List.of(Emit.of(e.bits() == 16 ? new Insn.Alu(AluOp.AND, Width.W32, e.dst(), new Imm(0xffff))
                        : new Insn.Alu(AluOp.MOV, e.bits() == 32 ? Width.W32 : Width.W64, e.dst(), e.dst())));
                case BSWAP -> List.of(Emit.of(new Insn.Endian(EndianOp.BE, e.bits(), e.dst())));
                case BE -> null;
            };
            case Insn.Load l when l.signExtend() -> {
                int shift = 64 - l.size().bytes() * 8;
                yield List.of(Emit.of(new Insn.Load(l.size(), false, l.dst(), l.src(), l.offset())),
                        Emit.of(new Insn.Alu(AluOp.LSH, Width.W64, l.dst(), new Imm(shift))),
                        Emit.of(new Insn.Alu(AluOp.ARSH, Width.W64, l.dst(), new Imm(shift))));
            }
            case Insn.Store s when s.src() instanceof Imm imm -> {
                Scratch t = scratch(pc, regsOf(s.dst()));
                if (t == null) {
                    yield null;
                }
                List<Emit> body = List.of(Emit.of(new Insn.Alu(AluOp.MOV, Width.W64, t.reg(), imm)),
                        Emit.of(new Insn.Store(s.size(), s.dst(), s.offset(), t.reg())));
                yield t.wrap(body);
            }
            case Insn.Ja j when j.wide() -> List.of(new Emit(new Insn.Ja(0, false), pc + 1 + j.offset()));
            case Insn.Exit e -> List.of(Emit.of(new Insn.Jump(JumpOp.JLE, Width.W32, Reg.R0, new Imm(3), (short) 1)),
                    Emit.of(new Insn.Alu(AluOp.MOV, Width.W32, Reg.R0, new Imm(0))), Emit.of(e));
            default -> {
                problem(pc, "no rewrite for " + Disassembler.format(insn));
                yield null;
            }
        };
    }

    private List<Emit> alu(int pc, Insn.Alu a, Facts f) {
        Width w = a.width();
        Reg x = a.dst();
        Long c = a.src() instanceof Imm i ? (Long) (long) i.value() : f == null ? null : f.divisor();
        List<Emit> seq = new ArrayList<>();
        switch (a.op()) {
            case MUL -> {
                seq.add(Emit.of(new Insn.Alu(AluOp.MOV, Width.W32, x, x)));
                seq.add(Emit.of(a));
                return seq;
            }
            case DIV -> {
                if (c != null && (w == Width.W64 ? c == 0 : (c & NfpChecker.U32_MAX) == 0)) {
                    return List.of(Emit.of(new Insn.Alu(AluOp.MOV, w, x, new Imm(0))));
                }
                if (w == Width.W32) {
                    seq.add(Emit.of(new Insn.Alu(AluOp.MOV, Width.W32, x, x)));
                }
                seq.add(Emit.of(a));
                return seq;
            }
            default -> {
            }
        }
        String why = whyNotDivisor(a, c);
        if (why != null) {
            problem(pc, a.op().mnemonic() + w.suffix() + ": " + why);
            return null;
        }
        long d = divisorOf(a, c);
        if (d == 0) {
            // RFC 9669: x / 0 = 0, x % 0 = x (32-bit forms zero-extend)
            return List.of(Emit.of(a.op() == AluOp.SDIV ? new Insn.Alu(AluOp.MOV, w, x, new Imm(0))
                    : new Insn.Alu(AluOp.MOV, w, x, x)));
        }
        long abs = Math.abs(d);
        if (a.op() == AluOp.SDIV) {
            // x < 0 ? -((-x) / |c|) : x / |c|; negated once more for c < 0
            if (w == Width.W32) {
                seq.add(Emit.of(new Insn.Alu(AluOp.MOV, Width.W32, x, x)));
            }
            seq.add(Emit.of(new Insn.Jump(JumpOp.JSLT, w, x, new Imm(0), (short) 2)));
            seq.add(Emit.of(new Insn.Alu(AluOp.DIV, w, x, new Imm((int) abs))));
            seq.add(Emit.of(new Insn.Ja(3, false)));
            seq.add(Emit.of(new Insn.Neg(w, x)));
            seq.add(Emit.of(new Insn.Alu(AluOp.DIV, w, x, new Imm((int) abs))));
            seq.add(Emit.of(new Insn.Neg(w, x)));
            if (d < 0) {
                seq.add(Emit.of(new Insn.Neg(w, x)));
            }
            return seq;
        }
        Scratch t = scratch(pc, regsOf(x, a.src()));
        if (t == null) {
            return null;
        }
        List<Emit> umod = umod(w, x, t.reg(), (int) abs);
        if (a.op() == AluOp.MOD) {
            return t.wrap(umod);
        }
        // smod: the remainder takes the dividend's sign: x < 0 ? -((-x) % |c|) : x % |c|
        List<Emit> body = new ArrayList<>();
        if (w == Width.W32) {
            body.add(Emit.of(new Insn.Alu(AluOp.MOV, Width.W32, x, x)));
        }
        body.add(Emit.of(new Insn.Jump(JumpOp.JSLT, w, x, new Imm(0), (short) (umod.size() + 1))));
        body.addAll(umod);
        body.add(Emit.of(new Insn.Ja(umod.size() + 2, false)));
        body.add(Emit.of(new Insn.Neg(w, x)));
        body.addAll(umod);
        body.add(Emit.of(new Insn.Neg(w, x)));
        return t.wrap(body);
    }

    /** {@return x = x mod c (unsigned, c &gt; 0) with the scratch t: t = x; t /= c; t *= c; x -= t} */
    private static List<Emit> umod(Width w, Reg x, Reg t, int c) {
        List<Emit> seq = new ArrayList<>();
        seq.add(Emit.of(new Insn.Alu(AluOp.MOV, w, t, x)));
        seq.add(Emit.of(new Insn.Alu(AluOp.DIV, w, t, new Imm(c))));
        if (w == Width.W64) {
            // the quotient is below 2^32 (the dividend is), but Linux's verifier does not track
            // ranges through div; the driver needs the multiplier proven within u32
            seq.add(Emit.of(new Insn.Alu(AluOp.MOV, Width.W32, t, t)));
        }
        seq.add(Emit.of(new Insn.Alu(AluOp.MUL, w, t, new Imm(c))));
        seq.add(Emit.of(new Insn.Alu(AluOp.SUB, w, x, t)));
        return seq;
    }

    /** {@return the divisor as the operation reads it: u32/u64 for mod, s32/s64 for sdiv and smod} */
    private static long divisorOf(Insn.Alu a, long c) {
        boolean signed = a.op() == AluOp.SDIV || a.op() == AluOp.SMOD;
        if (a.width() == Width.W32) {
            return signed ? (int) c : c & NfpChecker.U32_MAX;
        }
        return c;
    }

    /**
     * {@return null when a mod, sdiv or smod by {@code c} can be rewritten, else why not}: the
     * divisor must be a constant whose magnitude fits a non-negative 32-bit immediate, since the
     * rewrite divides and multiplies by it as an immediate
     */
    static String whyNotDivisor(Insn.Alu a, Long c) {
        if (c == null) {
            return "the divisor is not a constant (\"divisor is not constant\": the nfp divides by constants only)";
        }
        long d = divisorOf(a, c);
        boolean signed = a.op() == AluOp.SDIV || a.op() == AluOp.SMOD;
        boolean fits = signed ? d >= -0x7fff_ffffL && d <= 0x7fff_ffffL : d >= 0 && d <= 0x7fff_ffffL;
        return fits ? null : "the divisor " + (signed ? Long.toString(d) : Long.toUnsignedString(d))
                + " does not fit a non-negative 32-bit immediate (the nfp refuses \"divide by negative constant\" "
                + "and multiplies only within u32)";
    }

    static long u32Max(Facts.Register r0) {
        if (r0.kind() != Facts.Kind.SCALAR) {
            return NfpChecker.U32_MAX;
        }
        var low = r0.value().zeroExtendLow(32);
        return low.isEmpty() ? NfpChecker.U32_MAX : low.umax();
    }

    private void problem(int pc, String why) {
        problems.add(new NfpReason(pc, program.sourceLine(pc).orElse(null), NfpRule.LEGALIZER, why, null, false));
    }

    // ---------------------------------------------------------------------------------------
    // Scratch registers

    /** A register the rewrite may clobber: dead after the instruction, or spilled around it. */
    private record Scratch(Reg reg, int spillSlot) {
        List<Emit> wrap(List<Emit> body) {
            if (spillSlot == 0) {
                return body;
            }
            List<Emit> out = new ArrayList<>();
            out.add(Emit.of(new Insn.Store(Size.DW, Reg.R10, (short) spillSlot, reg)));
            out.addAll(body);
            out.add(Emit.of(new Insn.Load(Size.DW, false, reg, Reg.R10, (short) spillSlot)));
            return out;
        }
    }

    private static int regsOf(Reg r) {
        return 1 << r.n();
    }

    private static int regsOf(Reg r, Operand o) {
        return 1 << r.n() | (o instanceof Reg s ? 1 << s.n() : 0);
    }

    private Scratch scratch(int pc, int busy) {
        int avoid = busy | liveOut[pc] | 1 << 10;
        for (int r = 9; r >= 0; r--) {
            if ((avoid & 1 << r) == 0) {
                return new Scratch(Reg.of(r), 0);
            }
        }
        // none dead: spill one below the function's frame
        int depth = 0;
        for (FunctionCfg fn : vp.cfg().functionsContaining(pc)) {
            depth = Math.max(depth, vp.stackDepths().getOrDefault(fn.start(), 0));
        }
        int slot = -(NfpChecker.roundUp(depth, 8) + 8);
        Facts f = vp.facts(pc);
        if (slot < -512 || f == null) {
            problem(pc, "no scratch register is free and no stack slot is left to spill one");
            return null;
        }
        for (int r = 9; r >= 0; r--) {
            if ((busy & 1 << r) == 0 && f.registers().get(r).kind() != Facts.Kind.UNINIT) {
                return new Scratch(Reg.of(r), slot);
            }
        }
        problem(pc, "no scratch register is free, and none can be spilled");
        return null;
    }

    /** {@return per pc the registers live after it (bit i: ri), a backward dataflow over the CFG} */
    private int[] liveness() {
        int n = code.length;
        int[] in = new int[n];
        int[] out = new int[n];
        boolean changed = true;
        while (changed) {
            changed = false;
            for (int pc = n - 1; pc >= 0; pc--) {
                if (code[pc] == null) {
                    continue;
                }
                int o = 0;
                for (int s : vp.cfg().successors(pc)) {
                    o |= in[s];
                }
                int i = uses(code[pc]) | (o & ~defs(code[pc]));
                if (i != in[pc] || o != out[pc]) {
                    in[pc] = i;
                    out[pc] = o;
                    changed = true;
                }
            }
        }
        return out;
    }

    private static final int ARGS = 0b111110;
    private static final int CLOBBERED = 0b111111;

    private static int uses(Insn insn) {
        return switch (insn) {
            case Insn.Alu a -> (a.op() == AluOp.MOV ? 0 : 1 << a.dst().n()) | (a.src() instanceof Reg r ? 1 << r.n() : 0);
            case Insn.Neg n -> 1 << n.dst().n();
            case Insn.MovSx m -> 1 << m.src().n();
            case Insn.Endian e -> 1 << e.dst().n();
            case Insn.LoadImm64 l -> 0;
            case Insn.Load l -> 1 << l.src().n();
            case Insn.Store s -> 1 << s.dst().n() | (s.src() instanceof Reg r ? 1 << r.n() : 0);
            case Insn.Atomic a -> 1 << a.dst().n() | 1 << a.src().n() | (a.op() == AtomicOp.CMPXCHG ? 1 : 0);
            case Insn.Ja j -> 0;
            case Insn.Jump j -> 1 << j.dst().n() | (j.src() instanceof Reg r ? 1 << r.n() : 0);
            case Insn.Call c -> ARGS;
            case Insn.CallX c -> ARGS | 1 << c.dst().n();
            case Insn.Exit e -> 1;
            case Insn.PacketLoad p -> 1 << 6 | (p.src() != null ? 1 << p.src().n() : 0);
        };
    }

    private static int defs(Insn insn) {
        return switch (insn) {
            case Insn.Alu a -> 1 << a.dst().n();
            case Insn.Neg n -> 1 << n.dst().n();
            case Insn.MovSx m -> 1 << m.dst().n();
            case Insn.Endian e -> 1 << e.dst().n();
            case Insn.LoadImm64 l -> 1 << l.dst().n();
            case Insn.Load l -> 1 << l.dst().n();
            case Insn.Store s -> 0;
            case Insn.Atomic a -> a.op().fetches() ? (a.op() == AtomicOp.CMPXCHG ? 1 : 1 << a.src().n()) : 0;
            case Insn.Ja j -> 0;
            case Insn.Jump j -> 0;
            case Insn.Call c -> CLOBBERED;
            case Insn.CallX c -> CLOBBERED;
            case Insn.Exit e -> 0;
            case Insn.PacketLoad p -> CLOBBERED;
        };
    }

    // ---------------------------------------------------------------------------------------
    // The listing

    /** {@return the original program with each rewrite next to the instructions it became} */
    public static String listing(Program original, Result result) {
        StringBuilder sb = new StringBuilder();
        Map<Integer, Rewrite> byPc = new HashMap<>();
        result.rewrites().forEach(r -> byPc.put(r.pc(), r));
        Set<Integer> flagged = new LinkedHashSet<>();
        result.remaining().forEach(r -> flagged.add(r.pc()));
        sb.append("; nfp: ").append(result.ok() ? "legalized, " + result.rewrites().size() + " rewrite(s)" : "refused")
                .append('\n');
        for (int pc = 0; pc < original.length(); pc++) {
            Insn insn = original.at(pc);
            if (insn == null) {
                continue;
            }
            Rewrite r = byPc.get(pc);
            String text = String.format("%5d: %-40s", pc, Disassembler.format(insn));
            if (r == null) {
                sb.append(text).append(result.newPc() == null ? "" : String.format("  = %d", result.newPc()[pc]));
            } else {
                sb.append(text).append("  ; ").append(r.rule().id()).append(", becomes:");
                int at = r.newPc();
                for (Insn made : r.replacement()) {
                    sb.append('\n').append(String.format("%5s  %-40s  = %d: %s", "", "", at, Disassembler.format(made)));
                    at += made.slots();
                }
            }
            if (flagged.contains(pc)) {
                for (NfpReason x : result.remaining()) {
                    if (x.pc() == pc) {
                        sb.append("\n       ! ").append(x);
                    }
                }
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
