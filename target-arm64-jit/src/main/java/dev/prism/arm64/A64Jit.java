package dev.prism.arm64;

import static dev.prism.arm64.A64Registers.CONTEXT;
import static dev.prism.arm64.A64Registers.TMP1;
import static dev.prism.arm64.A64Registers.TMP2;
import static dev.prism.arm64.A64Registers.TMP3;
import static dev.prism.arm64.A64Registers.TMP4;

import dev.prism.arm64.A64Assembler.Label;
import dev.prism.asm.Disassembler;
import dev.prism.error.TargetException;
import dev.prism.isa.AluOp;
import dev.prism.isa.AtomicOp;
import dev.prism.isa.CallKind;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.JumpOp;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.isa.Reg;
import dev.prism.isa.Size;
import dev.prism.isa.Width;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Helpers;
import java.util.Arrays;
import java.util.TreeSet;

/**
 * Lowers a raw BPF program to AArch64 machine code (AAPCS64), one case per instruction family,
 * with the register map of {@link A64Registers}.
 *
 * <p><b>Entry.</b> {@code long entry(long mem, long len, long status)}: {@code mem} (x0, r1) is
 * the address of the input memory (0 for none), {@code len} (x1, r2) its length, {@code status}
 * (x2) the address of a zeroed 8-byte word. On return x0 is r0; a nonzero status word means the
 * program trapped: it holds the native return address of the local call that would have been
 * the ninth frame ({@link Compiled#callPcAt}, after subtracting the code's address).
 *
 * <p><b>Stack</b> of the entry function, after the prologue (addresses grow upwards; sp stays
 * 16-byte aligned throughout, as AAPCS64 requires):
 * <pre>
 *   [sp at entry]
 *   [x29]            saved x29, x30           ← x29 (a frame record, for debuggers)
 *   [x29 - 16]       saved x19, x20           (r6, r7 of the caller of the entry: AAPCS64)
 *   [x29 - 32]       saved x21, x22
 *   [x29 - 48]       saved x25, x26
 *   [x26 + 8]        status word address (the entry's x2)
 *   [x26]  = x25     call depth: frames above the entry, 0..7
 *   [x25 - 512, x25) the entry's 512-byte BPF stack; r10 = x25
 *   sp = x25 - 512
 * </pre>
 * A local call is a {@code bl} to a per-callee stub, which counts the depth (the ninth frame
 * stores its return address, x30, in the status word and unwinds to the entry's epilogue through
 * x26), saves x30 and r6-r10, and opens a fresh frame:
 * <pre>
 *                    saved x30, x25           (return address into the caller, its r10)
 *                    saved x19, x20
 *                    saved x21, x22           ← x25 (r10 of the callee)
 *   [x25 - 512, x25) the callee's BPF stack; sp = x25 - 512
 * </pre>
 *
 * <p><b>Branches</b> (STYLE.md): instructions are fixed-width, but a conditional jump whose
 * target is out of b.cond's ±1 MiB becomes {@code b.!cond +8; b target}, and that changes the
 * offsets. The first pass makes every conditional jump far; each later pass makes near those
 * the previous pass's offsets allow. Code only shrinks from pass to pass, so a distance that fit
 * keeps fitting and the set of near jumps only grows; the pass that reproduces the previous
 * one's offsets exactly is the check that nothing moved (the assembler's range checks run too).
 * Output is deterministic.
 *
 * <p><b>Atomics</b> use FEAT_LSE (ARMv8.1) with acquire-release ordering by default; with
 * {@link Options#lse()} false, an ldaxr/stlxr loop that ARMv8.0 cores run.
 *
 * <p>Memory accesses are direct: safety is the verifier's job (until it exists, only known-good
 * programs may run). Not lowered yet, refused at compile time naming the pc: helper calls, tail
 * calls, callx, map and other pseudo lddw forms, legacy packet loads, program types other than
 * raw.
 */
public final class A64Jit {
    /** BPF stack bytes per frame (RFC 9669, Linux MAX_BPF_STACK). */
    public static final int FRAME_SIZE = 512;
    /** Frames allowed at once, the entry included (Linux MAX_CALL_FRAMES). */
    public static final int MAX_FRAMES = 8;
    /** How far b.cond reaches, in bytes either way (imm19 words, ARM ARM C6.2 "B.cond"). */
    public static final int COND_BRANCH_RANGE = 1 << 20;
    private static final int MAX_PASSES = 32;

    private A64Jit() {
    }

    /**
     * Code generation choices.
     *
     * @param lse             FEAT_LSE atomics (ldadd, ldclr, ldset, ldeor, swp, cas, all {@code al});
     *                        false for an ldaxr/stlxr loop that ARMv8.0 cores (Cortex-A57, A53,
     *                        A72) run
     * @param condBranchRange the distance in bytes, either way, up to which a conditional jump is a
     *                        single b.cond; {@link #COND_BRANCH_RANGE} except in tests, where a
     *                        small value makes the far form ({@code b.!cond; b}) common
     */
    public record Options(boolean lse, int condBranchRange) {
        public static final Options DEFAULT = new Options(true);

        public Options {
            if (condBranchRange < 16 || condBranchRange > COND_BRANCH_RANGE || condBranchRange % 4 != 0) {
                throw new IllegalArgumentException("conditional branch range not a multiple of 4 in 16.."
                        + COND_BRANCH_RANGE + ": " + condBranchRange);
            }
        }

        public Options(boolean lse) {
            this(lse, COND_BRANCH_RANGE);
        }
    }

    /**
     * Machine code with, per BPF slot, the native offsets of its lowering.
     *
     * @param code      the bytes, entry at offset 0
     * @param insnStart native offset of each slot's code (the lddw second slot: -1)
     * @param insnEnd   native offset just past each slot's code (-1 likewise)
     * @param stubStart native offset of the call stub of each slot that local calls target, else -1
     * @param stubsEnd  native offset just past the last call stub
     * @param passes    lowering passes it took, the checking pass included
     */
    public record Compiled(Program program, Options options, byte[] code, int[] insnStart, int[] insnEnd,
                           int[] stubStart, int stubsEnd, int passes) {
        /** {@return the pc of the local call whose native return address is at {@code offset}, or -1} */
        public int callPcAt(long offset) {
            for (int pc = 0; pc < insnEnd.length; pc++) {
                if (insnEnd[pc] == offset && program.at(pc) instanceof Insn.Call) {
                    return pc;
                }
            }
            return -1;
        }

        /**
         * {@return the BPF pc whose lowering holds the native instruction at {@code offset}}: the
         * first pc for the prologue, the callee's first pc for its call stub, -1 past the stubs.
         */
        public int pcAt(long offset) {
            int first = -1;
            for (int pc = 0; pc < insnStart.length; pc++) {
                if (insnStart[pc] < 0) {
                    continue;
                }
                if (first < 0) {
                    first = pc;
                }
                if (offset >= insnStart[pc] && offset < insnEnd[pc]) {
                    return pc;
                }
            }
            if (offset >= 0 && first >= 0 && offset < insnStart[first]) {
                return first;
            }
            int stub = -1;
            for (int t = 0; t < stubStart.length; t++) {
                if (stubStart[t] >= 0 && stubStart[t] <= offset && (stub < 0 || stubStart[t] > stubStart[stub])) {
                    stub = t;
                }
            }
            return stub >= 0 && offset < stubsEnd ? stub : -1;
        }

        /** {@return each BPF instruction followed by its native instruction words in hex} */
        public String listing() {
            StringBuilder sb = new StringBuilder();
            int first = 0;
            while (insnStart[first] < 0) {
                first++;
            }
            sb.append(String.format("%6s  prologue%n", ""));
            words(sb, 0, insnStart[first]);
            int last = 0;
            for (int pc = 0; pc < insnStart.length; pc++) {
                Insn insn = program.at(pc);
                if (insn == null) {
                    continue;
                }
                sb.append(String.format("%6d: %s%n", pc, Disassembler.format(insn)));
                words(sb, insnStart[pc], insnEnd[pc]);
                last = insnEnd[pc];
            }
            if (last < stubsEnd) {
                sb.append(String.format("%6s  call stubs%n", ""));
                words(sb, last, stubsEnd);
            }
            if (stubsEnd < code.length) {
                sb.append(String.format("%6s  call depth exceeded%n", ""));
                words(sb, stubsEnd, code.length);
            }
            return sb.toString();
        }

        /** Appends the little-endian words of [from, to), eight to a line, each line led by its offset. */
        private void words(StringBuilder sb, int from, int to) {
            for (int line = from; line < to; line += 32) {
                sb.append(String.format("  %04x ", line));
                for (int at = line; at < Math.min(line + 32, to); at += 4) {
                    int w = (code[at] & 0xff) | (code[at + 1] & 0xff) << 8 | (code[at + 2] & 0xff) << 16
                            | (code[at + 3] & 0xff) << 24;
                    sb.append(String.format(" %08x", w));
                }
                sb.append(System.lineSeparator());
            }
        }
    }

    /** {@return the machine code of {@code program}, with LSE atomics} */
    public static Compiled compile(Program program) {
        return compile(program, Options.DEFAULT);
    }

    /**
     * {@return the machine code of {@code program}}
     *
     * @throws TargetException naming the pc when the program uses what is not lowered yet or is
     *                         malformed (a jump outside the program, a write to r10)
     */
    public static Compiled compile(Program program, Options options) {
        if (program.type() != ProgramType.RAW) {
            throw TargetException.unsupported("program type " + program.type().id() + " on arm64 (raw is)");
        }
        check(program);
        int[] prevStart = null;
        int[] prevEnd = null;
        for (int pass = 1; pass <= MAX_PASSES; pass++) {
            Pass p = new Pass(program, options, prevStart);
            try {
                p.lower();
            } catch (IllegalArgumentException e) {
                // Conditional jumps are sized to fit; only a b or bl can be out of range (±128 MiB).
                if (e.getMessage() != null && e.getMessage().startsWith("branch offset out of")) {
                    throw new TargetException("the program is too large for arm64 branches: " + e.getMessage(), e);
                }
                throw new IllegalStateException("arm64 lowering failed: " + e.getMessage(), e);
            }
            if (prevStart != null && Arrays.equals(prevStart, p.start) && Arrays.equals(prevEnd, p.end)) {
                return new Compiled(program, options, p.a.bytes(), p.start, p.end, p.stubStart, p.stubsEnd, pass);
            }
            prevStart = p.start;
            prevEnd = p.end;
        }
        throw new IllegalStateException("arm64 branch sizing did not converge in " + MAX_PASSES + " passes");
    }

    /** Refuses what is not lowered and what no lowering could make sense of, before any code. */
    private static void check(Program program) {
        int n = program.length();
        int last = -1;
        for (int pc = 0; pc < n; pc++) {
            Insn insn = program.at(pc);
            if (insn == null) {
                continue;
            }
            last = pc;
            String why = switch (insn) {
                case Insn.Call c when c.kind() == CallKind.LOCAL -> target(program, pc, c.imm(), "call");
                case Insn.Call c when c.kind() == CallKind.HELPER && c.imm() == Helpers.TAIL_CALL ->
                        throw TargetException.unsupported(pc, "tail calls on arm64");
                case Insn.Call c when c.kind() == CallKind.HELPER ->
                        throw TargetException.unsupported(pc, "helper call " + c.imm() + " on arm64 (no helpers yet)");
                case Insn.Call c -> throw TargetException.unsupported(pc, "kfunc call (btf id " + c.imm() + ") on arm64");
                case Insn.CallX x -> throw TargetException.unsupported(pc, "callx on arm64");
                case Insn.PacketLoad l -> throw TargetException.unsupported(pc, "legacy packet loads on arm64");
                case Insn.LoadImm64 l when l.kind() != LoadImm64Kind.IMM64 ->
                        throw TargetException.unsupported(pc,
                                "lddw " + l.kind().keyword() + " (" + l.kind().resultType() + ") on arm64");
                case Insn.Ja j -> target(program, pc, j.offset(), "jump");
                case Insn.Jump j -> target(program, pc, j.offset(), "jump");
                case Insn.Alu x -> readOnly(x.dst());
                case Insn.Neg x -> readOnly(x.dst());
                case Insn.MovSx x -> readOnly(x.dst());
                case Insn.Endian x -> readOnly(x.dst());
                case Insn.LoadImm64 x -> readOnly(x.dst());
                case Insn.Load x -> readOnly(x.dst());
                case Insn.Atomic x -> x.op().fetches() ? readOnly(x.src()) : null;
                case Insn.Store x -> null;
                case Insn.Exit x -> null;
            };
            if (why != null) {
                throw new TargetException(pc + ": " + why);
            }
        }
        if (last < 0) {
            throw new TargetException("the program is empty");
        }
        if (!(program.at(last) instanceof Insn.Exit || program.at(last) instanceof Insn.Ja)) {
            throw new TargetException(last + ": falls off the end of the program");
        }
    }

    private static String readOnly(Reg dst) {
        return dst == Reg.R10 ? "r10 is read-only" : null;
    }

    /** {@return why the jump or call at {@code pc} with BPF offset {@code offset} has no target, or null} */
    private static String target(Program program, int pc, int offset, String what) {
        long t = targetOf(pc, offset);
        if (t < 0 || t >= program.length()) {
            return what + " target " + t + " is outside the program";
        }
        if (program.at((int) t) == null) {
            return what + " target " + t + " is the second slot of an lddw";
        }
        return null;
    }

    /** BPF jump and call offsets count slots from the next instruction (RFC 9669 4.4): the one place that says so. */
    private static long targetOf(int pc, int offset) {
        return (long) pc + 1 + offset;
    }

    /** One lowering of the whole program. */
    private static final class Pass {
        private static final A64Reg R0 = A64Registers.of(Reg.R0);
        private static final A64Reg R10 = A64Registers.of(Reg.R10);
        private static final A64MemOrder ORDER = A64MemOrder.ACQ_REL;

        private final Program program;
        private final Options options;
        private final int[] prevStart;
        private final A64Assembler a = new A64Assembler();
        private final int n;
        private final int[] start;
        private final int[] end;
        private final int[] stubStart;
        private int stubsEnd;
        private final Label[] labels;
        private final Label[] stubs;
        private final TreeSet<Integer> functionStarts = new TreeSet<>();
        private final Label depthError = new Label();

        Pass(Program program, Options options, int[] prevStart) {
            this.program = program;
            this.options = options;
            this.prevStart = prevStart;
            this.n = program.length();
            this.start = new int[n];
            this.end = new int[n];
            this.stubStart = new int[n];
            this.labels = new Label[n];
            this.stubs = new Label[n];
            Arrays.fill(start, -1);
            Arrays.fill(end, -1);
            Arrays.fill(stubStart, -1);
            functionStarts.add(0);
            for (int pc = 0; pc < n; pc++) {
                labels[pc] = new Label();
                if (program.at(pc) instanceof Insn.Call c && c.kind() == CallKind.LOCAL) {
                    int t = (int) targetOf(pc, c.imm());
                    functionStarts.add(t);
                    if (stubs[t] == null) {
                        stubs[t] = new Label();
                    }
                }
            }
        }

        void lower() {
            prologue();
            for (int pc = 0; pc < n; pc++) {
                Insn insn = program.at(pc);
                if (insn == null) {
                    continue;
                }
                a.bind(labels[pc]);
                start[pc] = a.position();
                lower(pc, insn);
                end[pc] = a.position();
            }
            for (int t = 0; t < n; t++) {
                if (stubs[t] != null) {
                    stubStart[t] = a.position();
                    callStub(t);
                }
            }
            stubsEnd = a.position();
            if (functionStarts.size() > 1) {
                a.bind(depthError);
                // The ninth frame: report the return address of its call, unwind to the entry.
                a.ldr(64, TMP1, CONTEXT, 8);
                a.str(64, A64Reg.LR, TMP1, 0);
                mainEpilogue();
            }
        }

        /** AAPCS64 entry: a frame record, callee-saved registers, the run context, the entry frame (see the class comment). */
        private void prologue() {
            a.stp(64, A64Reg.FP, A64Reg.LR, A64Reg.SP, -16, A64Index.PRE);
            a.mov(64, A64Reg.FP, A64Reg.SP);
            a.stp(64, A64Reg.X19, A64Reg.X20, A64Reg.SP, -16, A64Index.PRE);
            a.stp(64, A64Reg.X21, A64Reg.X22, A64Reg.SP, -16, A64Index.PRE);
            a.stp(64, A64Reg.X25, A64Reg.X26, A64Reg.SP, -16, A64Index.PRE);
            a.stp(64, A64Reg.XZR, A64Reg.X2, A64Reg.SP, -16, A64Index.PRE); // [sp] depth 0, [sp + 8] status address
            a.mov(64, CONTEXT, A64Reg.SP);
            a.mov(64, R10, A64Reg.SP);
            a.sub(64, A64Reg.SP, A64Reg.SP, FRAME_SIZE);
            // r0 and r3-r9 start at 0, as in the interpreter.
            for (Reg r : new Reg[] {Reg.R0, Reg.R3, Reg.R4, Reg.R5, Reg.R6, Reg.R7, Reg.R8, Reg.R9}) {
                a.mov(64, A64Registers.of(r), A64Reg.XZR);
            }
        }

        private void mainEpilogue() {
            a.add(64, A64Reg.SP, CONTEXT, 16);
            a.ldp(64, A64Reg.X25, A64Reg.X26, A64Reg.SP, 16, A64Index.POST);
            a.ldp(64, A64Reg.X21, A64Reg.X22, A64Reg.SP, 16, A64Index.POST);
            a.ldp(64, A64Reg.X19, A64Reg.X20, A64Reg.SP, 16, A64Index.POST);
            a.ldp(64, A64Reg.FP, A64Reg.LR, A64Reg.SP, 16, A64Index.POST);
            a.mov(64, A64Reg.X0, R0);
            a.ret();
        }

        /** The callee side of a local call to {@code t}: depth check, save x30 and r6-r10, a fresh frame. */
        private void callStub(int t) {
            a.bind(stubs[t]);
            a.ldr(64, TMP1, CONTEXT, 0);
            a.add(64, TMP1, TMP1, 1);
            a.cmp(64, TMP1, MAX_FRAMES);
            Label ok = new Label();
            a.b(A64Cond.LO, ok);
            a.b(depthError); // b reaches ±128 MiB, wherever this stub lies among the others
            a.bind(ok);
            a.str(64, TMP1, CONTEXT, 0);
            a.stp(64, A64Reg.LR, R10, A64Reg.SP, -16, A64Index.PRE);
            a.stp(64, A64Reg.X19, A64Reg.X20, A64Reg.SP, -16, A64Index.PRE);
            a.stp(64, A64Reg.X21, A64Reg.X22, A64Reg.SP, -16, A64Index.PRE);
            a.mov(64, R10, A64Reg.SP);
            a.sub(64, A64Reg.SP, A64Reg.SP, FRAME_SIZE);
            a.b(labels[t]);
        }

        private void subEpilogue() {
            a.mov(64, A64Reg.SP, R10);
            a.ldp(64, A64Reg.X21, A64Reg.X22, A64Reg.SP, 16, A64Index.POST);
            a.ldp(64, A64Reg.X19, A64Reg.X20, A64Reg.SP, 16, A64Index.POST);
            a.ldp(64, A64Reg.LR, R10, A64Reg.SP, 16, A64Index.POST);
            a.ldr(64, TMP1, CONTEXT, 0);
            a.sub(64, TMP1, TMP1, 1);
            a.str(64, TMP1, CONTEXT, 0);
            a.ret();
        }

        private void lower(int pc, Insn insn) {
            switch (insn) {
                case Insn.Alu alu -> alu(alu);
                case Insn.Neg g -> a.neg(bits(g.width()), reg(g.dst()), reg(g.dst()));
                case Insn.MovSx m -> movsx(m);
                case Insn.Endian e -> endian(e);
                case Insn.LoadImm64 l -> a.movImm(64, reg(l.dst()), l.value());
                case Insn.Load l -> load(l);
                case Insn.Store s -> store(s);
                case Insn.Atomic at -> atomic(at);
                case Insn.Ja j -> a.b(labels[(int) targetOf(pc, j.offset())]);
                case Insn.Jump j -> condJump(pc, j);
                case Insn.Call c -> a.bl(stubs[(int) targetOf(pc, c.imm())]); // only LOCAL passes check()
                case Insn.CallX x -> throw new IllegalStateException("refused by check()");
                case Insn.Exit x -> exit(pc);
                case Insn.PacketLoad l -> throw new IllegalStateException("refused by check()");
            }
        }

        /**
         * Exit of the function holding {@code pc}. When local calls target pc 0, the entry
         * function's code also runs as a callee: its exits then pick the epilogue by the depth.
         */
        private void exit(int pc) {
            if (functionStarts.floor(pc) != 0) {
                subEpilogue();
            } else if (stubs[0] == null) {
                mainEpilogue();
            } else {
                Label callee = new Label();
                a.ldr(64, TMP1, CONTEXT, 0);
                a.cbnz(64, TMP1, callee);
                mainEpilogue();
                a.bind(callee);
                subEpilogue();
            }
        }

        private static int bits(Width w) {
            return w == Width.W64 ? 64 : 32;
        }

        private static A64Reg reg(Reg r) {
            return A64Registers.of(r);
        }

        /** {@return the all-ones value of {@code size} bits} */
        private static long mask(int size) {
            return size == 64 ? -1L : 0xffff_ffffL;
        }

        /** {@return v at {@code size} bits, read as signed} */
        private static long signed(int size, long v) {
            return size == 64 ? v : (int) v;
        }

        private void alu(Insn.Alu alu) {
            int size = bits(alu.width());
            A64Reg d = reg(alu.dst());
            switch (alu.src()) {
                case Imm imm -> aluImm(alu.op(), size, d, imm.value());
                case Reg r -> aluReg(alu.op(), size, d, reg(r));
            }
        }

        /**
         * dst op= src. 32-bit forms write W registers, which clears the upper half (RFC 9669's
         * zero-extension). udiv/sdiv give 0 for a zero divisor and sdiv gives MIN for MIN / -1,
         * both as RFC 9669 4.1 wants, and msub then makes the remainder dst (dst - 0 * 0) and 0
         * (MIN - MIN * -1) for those: no division needs a branch. Variable shifts take the count
         * modulo the size, as BPF masks it.
         */
        private void aluReg(AluOp op, int size, A64Reg d, A64Reg s) {
            switch (op) {
                case ADD -> a.add(size, d, d, s);
                case SUB -> a.sub(size, d, d, s);
                case MUL -> a.mul(size, d, d, s);
                case DIV -> a.udiv(size, d, d, s);
                case SDIV -> a.sdiv(size, d, d, s);
                case MOD -> {
                    a.udiv(size, TMP3, d, s);
                    a.msub(size, d, TMP3, s, d);
                }
                case SMOD -> {
                    a.sdiv(size, TMP3, d, s);
                    a.msub(size, d, TMP3, s, d);
                }
                case OR -> a.orr(size, d, d, s);
                case AND -> a.and(size, d, d, s);
                case XOR -> a.eor(size, d, d, s);
                case MOV -> a.mov(size, d, s);
                case LSH -> a.lslv(size, d, d, s);
                case RSH -> a.lsrv(size, d, d, s);
                case ARSH -> a.asrv(size, d, d, s);
            }
        }

        /** dst op= imm, the imm sign-extended to 64 bits, or its 32 bits for a 32-bit op (RFC 9669 4.1). */
        private void aluImm(AluOp op, int size, A64Reg d, int imm) {
            long v = imm & mask(size);
            switch (op) {
                case MOV -> a.movImm(size, d, v);
                case ADD -> addConst(size, d, d, v);
                case SUB -> addConst(size, d, d, -v);
                case AND, OR, XOR -> logicalImm(op, size, d, v);
                case LSH, RSH, ARSH -> shiftImm(op, size, d, imm & (size - 1));
                case MUL, DIV, MOD, SDIV, SMOD -> {
                    a.movImm(size, TMP1, v);
                    aluReg(op, size, d, TMP1);
                }
            }
        }

        /** rd = rn + v (mod 2^size): add/sub with a 12-bit immediate, optionally shifted by 12, else through TMP1. */
        private void addConst(int size, A64Reg rd, A64Reg rn, long v) {
            long s = signed(size, v & mask(size));
            if (s == 0) {
                if (rd != rn || size == 32) {
                    a.mov(size, rd, rn);
                }
            } else if (!addSubImm(size, rd, rn, s)) {
                a.movImm(size, TMP1, v & mask(size));
                a.add(size, rd, rn, TMP1);
            }
        }

        /** Emits rd = rn + s with one add or sub immediate when s allows; {@return whether it did} */
        private boolean addSubImm(int size, A64Reg rd, A64Reg rn, long s) {
            boolean negative = s < 0;
            long m = negative ? -s : s;
            if (m <= 0) {
                return false; // Long.MIN_VALUE
            }
            boolean shifted;
            int imm12;
            if (m < 4096) {
                shifted = false;
                imm12 = (int) m;
            } else if ((m & 0xfff) == 0 && (m >>> 12) < 4096) {
                shifted = true;
                imm12 = (int) (m >>> 12);
            } else {
                return false;
            }
            if (negative) {
                a.sub(size, rd, rn, imm12, shifted);
            } else {
                a.add(size, rd, rn, imm12, shifted);
            }
            return true;
        }

        /** and/or/xor with a constant: the identities, a logical immediate when encodable, else TMP1. */
        private void logicalImm(AluOp op, int size, A64Reg d, long v) {
            if (v == 0) {
                if (op == AluOp.AND) {
                    a.mov(size, d, A64Reg.XZR);
                } else if (size == 32) {
                    a.mov(32, d, d);
                }
                return;
            }
            if (v == mask(size)) {
                switch (op) {
                    case AND -> {
                        if (size == 32) {
                            a.mov(32, d, d);
                        }
                    }
                    case OR -> a.movImm(size, d, v);
                    default -> a.mvn(size, d, d);
                }
                return;
            }
            if (A64Assembler.isLogicalImmediate(size, v)) {
                switch (op) {
                    case AND -> a.and(size, d, d, v);
                    case OR -> a.orr(size, d, d, v);
                    default -> a.eor(size, d, d, v);
                }
                return;
            }
            a.movImm(size, TMP1, v);
            aluReg(op, size, d, TMP1);
        }

        /** Shift by a constant already masked to the size; by 0 a 32-bit shift still zero-extends. */
        private void shiftImm(AluOp op, int size, A64Reg d, int count) {
            if (count == 0) {
                if (size == 32) {
                    a.mov(32, d, d);
                }
                return;
            }
            switch (op) {
                case LSH -> a.lsl(size, d, d, count);
                case RSH -> a.lsr(size, d, d, count);
                default -> a.asr(size, d, d, count);
            }
        }

        private void movsx(Insn.MovSx m) {
            int size = bits(m.width());
            A64Reg d = reg(m.dst());
            A64Reg s = reg(m.src());
            switch (m.fromBits()) {
                case 8 -> a.sxtb(size, d, s);
                case 16 -> a.sxth(size, d, s);
                default -> a.sxtw(d, s); // the record allows 32 only for 64-bit
            }
        }

        /** Byte swaps: BPF is little-endian here, so le only truncates; be and bswap swap. */
        private void endian(Insn.Endian e) {
            A64Reg d = reg(e.dst());
            boolean swap = switch (e.op()) {
                case LE -> false;
                case BE, BSWAP -> true;
            };
            switch (e.bits()) {
                case 16 -> {
                    if (swap) {
                        a.rev16(32, d, d);
                    }
                    a.uxth(d, d);
                }
                case 32 -> {
                    if (swap) {
                        a.rev(32, d, d);
                    } else {
                        a.mov(32, d, d);
                    }
                }
                default -> {
                    if (swap) {
                        a.rev(64, d, d);
                    }
                }
            }
        }

        /** The load and store instructions, by the three addressing forms each has. */
        private enum Access {
            LDRB(1), LDRH(2), LDR_W(4), LDR_X(8), LDRSB(1), LDRSH(2), LDRSW(4), STRB(1), STRH(2), STR_W(4), STR_X(8);

            final int bytes;

            Access(int bytes) {
                this.bytes = bytes;
            }
        }

        /**
         * One access at {@code base + offset}: the scaled unsigned 12-bit offset form when the
         * offset is a non-negative multiple of the size, else the unscaled 9-bit form, else the
         * offset in TMP1 and the register-offset form.
         */
        private void access(Access k, A64Reg rt, A64Reg base, int offset) {
            if (offset >= 0 && offset % k.bytes == 0 && offset / k.bytes < 4096) {
                switch (k) {
                    case LDRB -> a.ldrb(rt, base, offset);
                    case LDRH -> a.ldrh(rt, base, offset);
                    case LDR_W -> a.ldr(32, rt, base, offset);
                    case LDR_X -> a.ldr(64, rt, base, offset);
                    case LDRSB -> a.ldrsb(64, rt, base, offset);
                    case LDRSH -> a.ldrsh(64, rt, base, offset);
                    case LDRSW -> a.ldrsw(rt, base, offset);
                    case STRB -> a.strb(rt, base, offset);
                    case STRH -> a.strh(rt, base, offset);
                    case STR_W -> a.str(32, rt, base, offset);
                    case STR_X -> a.str(64, rt, base, offset);
                }
            } else if (offset >= -256 && offset < 256) {
                switch (k) {
                    case LDRB -> a.ldurb(rt, base, offset);
                    case LDRH -> a.ldurh(rt, base, offset);
                    case LDR_W -> a.ldur(32, rt, base, offset);
                    case LDR_X -> a.ldur(64, rt, base, offset);
                    case LDRSB -> a.ldursb(64, rt, base, offset);
                    case LDRSH -> a.ldursh(64, rt, base, offset);
                    case LDRSW -> a.ldursw(rt, base, offset);
                    case STRB -> a.sturb(rt, base, offset);
                    case STRH -> a.sturh(rt, base, offset);
                    case STR_W -> a.stur(32, rt, base, offset);
                    case STR_X -> a.stur(64, rt, base, offset);
                }
            } else {
                a.movImm(64, TMP1, offset);
                switch (k) {
                    case LDRB -> a.ldrb(rt, base, TMP1);
                    case LDRH -> a.ldrh(rt, base, TMP1, false);
                    case LDR_W -> a.ldr(32, rt, base, TMP1, false);
                    case LDR_X -> a.ldr(64, rt, base, TMP1, false);
                    case LDRSB -> a.ldrsb(64, rt, base, TMP1);
                    case LDRSH -> a.ldrsh(64, rt, base, TMP1, false);
                    case LDRSW -> a.ldrsw(rt, base, TMP1, false);
                    case STRB -> a.strb(rt, base, TMP1);
                    case STRH -> a.strh(rt, base, TMP1, false);
                    case STR_W -> a.str(32, rt, base, TMP1, false);
                    case STR_X -> a.str(64, rt, base, TMP1, false);
                }
            }
        }

        /** Loads zero-extend (W-register forms) or, for MEMSX, sign-extend to 64 bits. */
        private void load(Insn.Load l) {
            Access k = switch (l.size()) {
                case B -> l.signExtend() ? Access.LDRSB : Access.LDRB;
                case H -> l.signExtend() ? Access.LDRSH : Access.LDRH;
                case W -> l.signExtend() ? Access.LDRSW : Access.LDR_W;
                case DW -> Access.LDR_X;
            };
            access(k, reg(l.dst()), reg(l.src()), l.offset());
        }

        /** STX stores a register; ST its imm (sign-extended for DW), from TMP3, or from the zero register for 0. */
        private void store(Insn.Store s) {
            Access k = switch (s.size()) {
                case B -> Access.STRB;
                case H -> Access.STRH;
                case W -> Access.STR_W;
                case DW -> Access.STR_X;
            };
            A64Reg value = switch (s.src()) {
                case Reg r -> reg(r);
                case Imm imm when imm.value() == 0 -> A64Reg.XZR;
                case Imm imm -> {
                    if (s.size() == Size.DW) {
                        a.movImm(64, TMP3, imm.value());
                    } else {
                        a.movImm(32, TMP3, imm.value() & 0xffff_ffffL);
                    }
                    yield TMP3;
                }
            };
            access(k, value, reg(s.dst()), s.offset());
        }

        /** Atomics (RFC 9669 5.3) on {@code *(size *)(dst + offset)}: LSE or LL/SC by {@link Options#lse()}. */
        private void atomic(Insn.Atomic at) {
            int size = at.size() == Size.W ? 32 : 64;
            A64Reg base = reg(at.dst());
            A64Reg s = reg(at.src());
            A64Reg addr;
            if (at.offset() != 0) {
                addr = TMP2;
                addConst(64, addr, base, at.offset());
            } else if (options.lse() && base == written(at.op(), s)) {
                // An LSE atomic with its base also its destination: keep the address apart.
                addr = TMP2;
                a.mov(64, addr, base);
            } else {
                addr = base;
            }
            if (options.lse()) {
                lse(at.op(), size, s, addr);
            } else if (at.op() == AtomicOp.CMPXCHG) {
                llscCmpxchg(size, s, addr);
            } else {
                llsc(at.op(), size, s, addr);
            }
        }

        /** {@return the register an atomic writes besides memory: src when it fetches, r0 for cmpxchg, else null} */
        private static A64Reg written(AtomicOp op, A64Reg src) {
            if (op == AtomicOp.CMPXCHG) {
                return R0;
            }
            return op.fetches() ? src : null;
        }

        /**
         * FEAT_LSE, all with acquire-release ordering ({@code al}). Non-fetching forms load the old
         * value into a scratch register, not the zero register: with Rt = XZR the acquire half
         * is dropped (ARM ARM, LD&lt;op&gt;A). "and" clears the complement (ldclr); cmpxchg
         * compares with and returns into r0. The 32-bit forms write W registers, so the fetched
         * value (r0 for cmpxchg, whether or not it stored) is zero-extended as RFC 9669 wants.
         */
        private void lse(AtomicOp op, int size, A64Reg s, A64Reg addr) {
            A64Reg old = op.fetches() ? s : TMP3;
            switch (op) {
                case ADD, FETCH_ADD -> a.ldadd(size, ORDER, s, old, addr);
                case OR, FETCH_OR -> a.ldset(size, ORDER, s, old, addr);
                case XOR, FETCH_XOR -> a.ldeor(size, ORDER, s, old, addr);
                case AND, FETCH_AND -> {
                    a.mvn(size, TMP1, s);
                    a.ldclr(size, ORDER, TMP1, old, addr);
                }
                case XCHG -> a.swp(size, ORDER, s, s, addr);
                case CMPXCHG -> a.cas(size, ORDER, R0, s, addr);
            }
        }

        /**
         * ARMv8.0: load-acquire exclusive, compute, store-release exclusive, retry until the store
         * succeeds; the old value (zero-extended by the W load for 32 bits) goes to src for the
         * fetching forms.
         */
        private void llsc(AtomicOp op, int size, A64Reg s, A64Reg addr) {
            Label retry = new Label();
            a.bind(retry);
            a.ldaxr(size, TMP1, addr);
            A64Reg value = TMP3;
            switch (op) {
                case ADD, FETCH_ADD -> a.add(size, TMP3, TMP1, s);
                case OR, FETCH_OR -> a.orr(size, TMP3, TMP1, s);
                case AND, FETCH_AND -> a.and(size, TMP3, TMP1, s);
                case XOR, FETCH_XOR -> a.eor(size, TMP3, TMP1, s);
                case XCHG -> value = s;
                case CMPXCHG -> throw new IllegalStateException("cmpxchg has its own loop");
            }
            a.stlxr(size, TMP4, value, addr);
            a.cbnz(32, TMP4, retry);
            if (op.fetches()) {
                a.mov(64, s, TMP1);
            }
        }

        /** ARMv8.0 cmpxchg: store src only while memory equals r0; r0 gets the old value either way. */
        private void llscCmpxchg(int size, A64Reg s, A64Reg addr) {
            Label retry = new Label();
            Label done = new Label();
            a.bind(retry);
            a.ldaxr(size, TMP1, addr);
            a.cmp(size, TMP1, R0);
            a.b(A64Cond.NE, done);
            a.stlxr(size, TMP4, s, addr);
            a.cbnz(32, TMP4, retry);
            a.bind(done);
            a.mov(64, R0, TMP1);
        }

        private void condJump(int pc, Insn.Jump j) {
            int size = bits(j.width());
            A64Reg d = reg(j.dst());
            boolean test = j.op() == JumpOp.JSET;
            switch (j.src()) {
                case Reg r -> {
                    if (test) {
                        a.tst(size, d, reg(r));
                    } else {
                        a.cmp(size, d, reg(r));
                    }
                }
                case Imm imm -> {
                    long v = imm.value() & mask(size);
                    if (test) {
                        testImm(size, d, v);
                    } else {
                        compareImm(size, d, v);
                    }
                }
            }
            A64Cond cc = switch (j.op()) {
                case JEQ -> A64Cond.EQ;
                case JNE, JSET -> A64Cond.NE;
                case JGT -> A64Cond.HI;
                case JGE -> A64Cond.HS;
                case JLT -> A64Cond.LO;
                case JLE -> A64Cond.LS;
                case JSGT -> A64Cond.GT;
                case JSGE -> A64Cond.GE;
                case JSLT -> A64Cond.LT;
                case JSLE -> A64Cond.LE;
            };
            branch(cc, pc, (int) targetOf(pc, j.offset()));
        }

        /**
         * Flags of d - v. cmn d, #k sets the same N, Z, C and V as cmp d, #-k for every k in
         * 1..2^24-1: both add d and k with the same carry-in and the same signed addend.
         */
        private void compareImm(int size, A64Reg d, long v) {
            long s = signed(size, v);
            long m = Math.abs(s);
            if (m < 4096) {
                if (s >= 0) {
                    a.cmp(size, d, (int) s);
                } else {
                    a.cmn(size, d, (int) m);
                }
            } else if ((m & 0xfff) == 0 && (m >>> 12) < 4096) {
                if (s >= 0) {
                    a.subs(size, A64Reg.XZR, d, (int) (m >>> 12), true);
                } else {
                    a.adds(size, A64Reg.XZR, d, (int) (m >>> 12), true);
                }
            } else {
                a.movImm(size, TMP1, v);
                a.cmp(size, d, TMP1);
            }
        }

        private void testImm(int size, A64Reg d, long v) {
            if (v == 0) {
                a.tst(size, d, A64Reg.XZR);
            } else if (A64Assembler.isLogicalImmediate(size, v)) {
                a.tst(size, d, v);
            } else {
                a.movImm(size, TMP1, v);
                a.tst(size, d, TMP1);
            }
        }

        /** A conditional jump to slot {@code target}: b.cond when the previous pass's offsets allow, else b.!cond over a b. */
        private void branch(A64Cond cc, int pc, int target) {
            if (near(pc, target)) {
                a.b(cc, labels[target]);
            } else {
                Label skip = new Label();
                a.b(cc.invert(), skip);
                a.b(labels[target]);
                a.bind(skip);
            }
        }

        /**
         * {@return whether a b.cond emitted now reaches {@code target}} judged by the previous pass:
         * where this b.cond would have been there (the code before it in this slot does not
         * depend on offsets) and where the target was. Distances only shrink from pass to pass.
         */
        private boolean near(int pc, int target) {
            if (prevStart == null) {
                return false;
            }
            long from = prevStart[pc] + (a.position() - start[pc]);
            long distance = prevStart[target] - from;
            int range = options.condBranchRange();
            return distance >= -range && distance <= range - 4;
        }
    }
}
