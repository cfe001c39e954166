package dev.prism.x86;

import static dev.prism.x86.X86Registers.CONTEXT;
import static dev.prism.x86.X86Registers.SCRATCH1;
import static dev.prism.x86.X86Registers.SCRATCH2;
import static dev.prism.x86.X86Registers.SCRATCH3;

import dev.prism.asm.Disassembler;
import dev.prism.error.TargetException;
import dev.prism.isa.AluOp;
import dev.prism.isa.AtomicOp;
import dev.prism.isa.CallKind;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.JumpOp;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.isa.Operand;
import dev.prism.isa.Reg;
import dev.prism.isa.Size;
import dev.prism.isa.Width;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.TreeSet;

/**
 * Lowers a raw BPF program to x86-64 machine code (System V ABI), one case per instruction
 * family, with the register map of {@link X86Registers}.
 *
 * <p><b>Entry.</b> {@code long entry(long mem, long len, long status)}: {@code mem} (r1) is the
 * address of the input memory (0 for none), {@code len} (r2) its length, {@code status} the
 * address of a zeroed 8-byte word. On return rax is r0; a nonzero status word means the program
 * trapped: it holds the native return address of the local call that would have been the
 * ninth frame ({@link Compiled#callPcAt}).
 *
 * <p><b>Stack</b> of the entry function, after the prologue (addresses grow upwards):
 * <pre>
 *   [rsp at entry]      return address into the FFM stub
 *                       saved rbp, rbx, r12, r13, r14, r15   (6 x 8)
 *   [r12 + 8]           status word address (the entry's rdx)
 *   [r12]  = rbp        call depth: frames above the entry, 0..7
 *   [rbp - 512, rbp)    the entry's 512-byte BPF stack; r10 = rbp
 *   rsp = rbp - 512
 * </pre>
 * A local call is a native {@code call} to a per-callee stub, which counts the depth (the ninth
 * frame stores its return address in the status word and unwinds to the entry's epilogue
 * through r12), pushes rbx, r13, r14, r15, rbp (r6-r10), and opens a fresh frame:
 * <pre>
 *                       return address into the caller
 *                       saved rbx, r13, r14, r15, rbp (5 x 8)   ← rbp
 *   [rbp - 512, rbp)    the callee's BPF stack; rsp = rbp - 512
 * </pre>
 *
 * <p><b>Jumps</b> (STYLE.md): the program is lowered repeatedly; a jump is emitted as rel8 when
 * the previous pass's offsets allow it, until the offsets of every instruction stop changing;
 * the pass that reproduces the previous one's offsets exactly is the check that nothing moved.
 * Output is deterministic.
 *
 * <p>Memory accesses are direct: safety is the verifier's job (until it exists, only known-good
 * programs may run). Not lowered yet, refused at compile time naming the pc: helper calls,
 * callx, map and other pseudo lddw forms, legacy packet loads, program types other than raw.
 */
public final class X86Jit {
    /** BPF stack bytes per frame (RFC 9669, Linux MAX_BPF_STACK). */
    public static final int FRAME_SIZE = 512;
    /** Frames allowed at once, the entry included (Linux MAX_CALL_FRAMES). */
    public static final int MAX_FRAMES = 8;
    private static final int MAX_PASSES = 32;

    private X86Jit() {
    }

    /**
     * Machine code with, per BPF slot, the native offsets of its lowering.
     *
     * @param code      the bytes, entry at offset 0
     * @param insnStart native offset of each slot's code (the lddw second slot: -1)
     * @param insnEnd   native offset just past each slot's code (-1 likewise)
     * @param passes    lowering passes it took, the checking pass included
     */
    public record Compiled(Program program, byte[] code, int[] insnStart, int[] insnEnd, int passes) {
        /** {@return the pc of the local call whose native return address is at {@code offset}, or -1} */
        public int callPcAt(long offset) {
            for (int pc = 0; pc < insnEnd.length; pc++) {
                if (insnEnd[pc] == offset && program.at(pc) instanceof Insn.Call) {
                    return pc;
                }
            }
            return -1;
        }

        /** {@return each BPF instruction followed by its native bytes in hex} */
        public String listing() {
            StringBuilder sb = new StringBuilder();
            HexFormat hex = HexFormat.ofDelimiter(" ");
            sb.append(String.format("%6s  prologue%n        %s%n", "", hex.formatHex(code, 0, firstStart())));
            for (int pc = 0; pc < insnStart.length; pc++) {
                Insn insn = program.at(pc);
                if (insn == null) {
                    continue;
                }
                sb.append(String.format("%6d: %s%n", pc, Disassembler.format(insn)));
                sb.append(String.format("  %04x  %s%n", insnStart[pc], hex.formatHex(code, insnStart[pc], insnEnd[pc])));
            }
            int tail = insnEnd[lastPc()];
            if (tail < code.length) {
                sb.append(String.format("%6s  call stubs%n  %04x  %s%n", "", tail, hex.formatHex(code, tail, code.length)));
            }
            return sb.toString();
        }

        private int firstStart() {
            return insnStart[0];
        }

        private int lastPc() {
            int pc = insnEnd.length - 1;
            while (insnEnd[pc] < 0) {
                pc--;
            }
            return pc;
        }
    }

    /**
     * {@return the machine code of {@code program}}
     *
     * @throws TargetException naming the pc when the program uses what is not lowered yet or is
     *                         malformed (a jump outside the program, a write to r10)
     */
    public static Compiled compile(Program program) {
        if (program.type() != ProgramType.RAW) {
            throw TargetException.unsupported("program type " + program.type().id() + " on x86-64 (raw is)");
        }
        check(program);
        int[] prevStart = null;
        int[] prevEnd = null;
        for (int pass = 1; pass <= MAX_PASSES; pass++) {
            Pass p = new Pass(program, prevStart, prevEnd);
            p.lower();
            if (prevStart != null && Arrays.equals(prevStart, p.start) && Arrays.equals(prevEnd, p.end)) {
                return new Compiled(program, p.a.toByteArray(), p.start, p.end, pass);
            }
            prevStart = p.start;
            prevEnd = p.end;
        }
        throw new IllegalStateException("x86-64 jump sizing did not converge in " + MAX_PASSES + " passes");
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
                case Insn.Call c ->
                        throw TargetException.unsupported(pc, "helper call " + c.imm() + " on x86-64 (no helpers yet)");
                case Insn.CallX x -> throw TargetException.unsupported(pc, "callx on x86-64");
                case Insn.PacketLoad l -> throw TargetException.unsupported(pc, "legacy packet loads on x86-64");
                case Insn.LoadImm64 l when l.kind() != LoadImm64Kind.IMM64 ->
                        throw TargetException.unsupported(pc,
                                "lddw " + l.kind().keyword() + " (" + l.kind().resultType() + ") on x86-64");
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

    private static String target(Program program, int pc, int offset, String what) {
        long t = (long) pc + 1 + offset;
        if (t < 0 || t >= program.length()) {
            return what + " target " + t + " is outside the program";
        }
        if (program.at((int) t) == null) {
            return what + " target " + t + " is the second slot of an lddw";
        }
        return null;
    }

    /** One lowering of the whole program. */
    private static final class Pass {
        private final Program program;
        private final int[] prevStart;
        private final int[] prevEnd;
        private final X86Assembler a = new X86Assembler();
        private final int n;
        private final int[] start;
        private final int[] end;
        private final Label[] labels;
        private final Label[] stubs;
        private final TreeSet<Integer> functionStarts = new TreeSet<>();
        private final Label depthError = new Label();

        Pass(Program program, int[] prevStart, int[] prevEnd) {
            this.program = program;
            this.prevStart = prevStart;
            this.prevEnd = prevEnd;
            this.n = program.length();
            this.start = new int[n];
            this.end = new int[n];
            this.labels = new Label[n];
            this.stubs = new Label[n];
            Arrays.fill(start, -1);
            Arrays.fill(end, -1);
            functionStarts.add(0);
            for (int pc = 0; pc < n; pc++) {
                labels[pc] = new Label();
                if (program.at(pc) instanceof Insn.Call c && c.kind() == CallKind.LOCAL) {
                    int t = pc + 1 + c.imm();
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
                    callStub(t);
                }
            }
            if (functionStarts.size() > 1) {
                a.bind(depthError);
                // The ninth frame: report the return address of its call, unwind to the entry.
                a.mov(64, SCRATCH3, X86Address.of(X86Reg.RSP));
                a.mov(64, SCRATCH2, X86Address.of(CONTEXT, 8));
                a.mov(64, X86Address.of(SCRATCH2), SCRATCH3);
                mainEpilogue();
            }
        }

        /** System V entry: save callee-saved registers, the run context, the entry frame (see the class comment). */
        private void prologue() {
            a.push(X86Reg.RBP);
            a.push(X86Reg.RBX);
            a.push(X86Reg.R12);
            a.push(X86Reg.R13);
            a.push(X86Reg.R14);
            a.push(X86Reg.R15);
            a.push(X86Reg.RDX); // [r12 + 8]: status word address
            a.push(X86Reg.RDX); // [r12]: call depth, cleared next
            a.mov(64, CONTEXT, X86Reg.RSP);
            a.mov(64, X86Address.of(CONTEXT), 0);
            a.mov(64, X86Reg.RBP, X86Reg.RSP);
            a.sub(64, X86Reg.RSP, FRAME_SIZE);
            // r0 and r3-r9 start at 0, as in the interpreter.
            for (Reg r : new Reg[] {Reg.R0, Reg.R3, Reg.R4, Reg.R5, Reg.R6, Reg.R7, Reg.R8, Reg.R9}) {
                X86Reg x = X86Registers.of(r);
                a.xor(32, x, x);
            }
        }

        private void mainEpilogue() {
            a.mov(64, X86Reg.RSP, CONTEXT);
            a.add(64, X86Reg.RSP, 16);
            a.pop(X86Reg.R15);
            a.pop(X86Reg.R14);
            a.pop(X86Reg.R13);
            a.pop(X86Reg.R12);
            a.pop(X86Reg.RBX);
            a.pop(X86Reg.RBP);
            a.ret();
        }

        /** The callee side of a local call to {@code t}: depth check, save r6-r10, a fresh frame. */
        private void callStub(int t) {
            a.bind(stubs[t]);
            a.mov(64, SCRATCH3, X86Address.of(CONTEXT));
            a.add(64, SCRATCH3, 1);
            a.cmp(64, SCRATCH3, MAX_FRAMES);
            a.jcc(Condition.AE, depthError);
            a.mov(64, X86Address.of(CONTEXT), SCRATCH3);
            a.push(X86Reg.RBX);
            a.push(X86Reg.R13);
            a.push(X86Reg.R14);
            a.push(X86Reg.R15);
            a.push(X86Reg.RBP);
            a.mov(64, X86Reg.RBP, X86Reg.RSP);
            a.sub(64, X86Reg.RSP, FRAME_SIZE);
            a.jmp(labels[t]);
        }

        private void subEpilogue() {
            a.mov(64, X86Reg.RSP, X86Reg.RBP);
            a.pop(X86Reg.RBP);
            a.pop(X86Reg.R15);
            a.pop(X86Reg.R14);
            a.pop(X86Reg.R13);
            a.pop(X86Reg.RBX);
            a.mov(64, SCRATCH3, X86Address.of(CONTEXT));
            a.sub(64, SCRATCH3, 1);
            a.mov(64, X86Address.of(CONTEXT), SCRATCH3);
            a.ret();
        }

        private void lower(int pc, Insn insn) {
            switch (insn) {
                case Insn.Alu alu -> alu(alu);
                case Insn.Neg g -> a.neg(bits(g.width()), reg(g.dst()));
                case Insn.MovSx m -> a.movsx(bits(m.width()), m.fromBits(), reg(m.dst()), reg(m.src()));
                case Insn.Endian e -> endian(e);
                case Insn.LoadImm64 l -> loadImm64(reg(l.dst()), l.value());
                case Insn.Load l -> load(l);
                case Insn.Store s -> store(s);
                case Insn.Atomic at -> atomic(at);
                case Insn.Ja j -> jump(null, pc, pc + 1 + j.offset());
                case Insn.Jump j -> condJump(pc, j);
                case Insn.Call c -> a.call(stubs[pc + 1 + c.imm()]); // only LOCAL passes check()
                case Insn.CallX x -> throw new IllegalStateException("refused by check()");
                case Insn.Exit x -> {
                    if (functionStarts.floor(pc) == 0) {
                        mainEpilogue();
                    } else {
                        subEpilogue();
                    }
                }
                case Insn.PacketLoad l -> throw new IllegalStateException("refused by check()");
            }
        }

        private static int bits(Width w) {
            return w == Width.W64 ? 64 : 32;
        }

        private static X86Reg reg(Reg r) {
            return X86Registers.of(r);
        }

        private void alu(Insn.Alu alu) {
            int size = bits(alu.width());
            X86Reg d = reg(alu.dst());
            switch (alu.op()) {
                case ADD, SUB, OR, AND, XOR, MUL -> {
                    X86Reg s;
                    if (alu.src() instanceof Imm imm) {
                        if (alu.op() != AluOp.MUL) {
                            group1(alu.op(), size, d, imm.value());
                            return;
                        }
                        s = SCRATCH3;
                        a.mov(64, s, imm.value());
                    } else {
                        s = reg((Reg) alu.src());
                    }
                    switch (alu.op()) {
                        case ADD -> a.add(size, d, s);
                        case SUB -> a.sub(size, d, s);
                        case OR -> a.or(size, d, s);
                        case AND -> a.and(size, d, s);
                        case XOR -> a.xor(size, d, s);
                        default -> a.imul(size, d, s);
                    }
                }
                case MOV -> {
                    if (alu.src() instanceof Imm imm) {
                        if (size == 64) {
                            a.mov(64, d, imm.value());
                        } else {
                            a.mov(32, d, imm.value() & 0xffff_ffffL);
                        }
                    } else {
                        a.mov(size, d, reg((Reg) alu.src())); // the 32-bit form zero-extends, even onto itself
                    }
                }
                case LSH, RSH, ARSH -> shift(alu.op(), size, d, alu.src());
                case DIV, MOD, SDIV, SMOD -> divMod(alu.op(), size, d, alu.src());
            }
        }

        /** add/sub/or/and/xor with an immediate (sign-extended for 64 bits, its 32 bits for 32). */
        private void group1(AluOp op, int size, X86Reg d, int imm) {
            long v = size == 64 ? imm : imm & 0xffff_ffffL;
            switch (op) {
                case ADD -> a.add(size, d, v);
                case SUB -> a.sub(size, d, v);
                case OR -> a.or(size, d, v);
                case AND -> a.and(size, d, v);
                case XOR -> a.xor(size, d, v);
                default -> throw new IllegalStateException(op.toString());
            }
        }

        /** Shifts: counts masked to 5/6 bits as x86 masks them too; a variable count goes through cl. */
        private void shift(AluOp op, int size, X86Reg d, Operand src) {
            if (src instanceof Imm imm) {
                int count = imm.value() & (size - 1);
                if (count == 0) {
                    if (size == 32) {
                        a.mov(32, d, d);
                    }
                    return;
                }
                switch (op) {
                    case LSH -> a.shl(size, d, count);
                    case RSH -> a.shr(size, d, count);
                    default -> a.sar(size, d, count);
                }
                return;
            }
            X86Reg s = reg((Reg) src);
            X86Reg target = d;
            if (s != X86Reg.RCX) {
                // rcx is r4: park it in r11; when r4 is the destination, shift the parked copy.
                a.mov(64, SCRATCH3, X86Reg.RCX);
                a.mov(64, X86Reg.RCX, s);
                if (d == X86Reg.RCX) {
                    target = SCRATCH3;
                }
            }
            switch (op) {
                case LSH -> a.shl(size, target);
                case RSH -> a.shr(size, target);
                default -> a.sar(size, target);
            }
            if (s != X86Reg.RCX) {
                a.mov(64, X86Reg.RCX, SCRATCH3);
            }
        }

        /**
         * Division and modulo (RFC 9669 4.1): by zero, div gives 0 and mod leaves dst (zero-extended
         * for 32 bits); signed by -1, sdiv negates (INT_MIN stays INT_MIN) and smod gives 0, where
         * idiv would fault. rax and rdx (r0, r3) are saved in r9 and r10 around div/idiv.
         */
        private void divMod(AluOp op, int size, X86Reg d, Operand src) {
            if (src instanceof Imm imm) {
                a.mov(64, SCRATCH3, imm.value()); // sign-extended; a 32-bit op reads the low half
            } else {
                a.mov(64, SCRATCH3, reg((Reg) src));
            }
            boolean signed = op == AluOp.SDIV || op == AluOp.SMOD;
            boolean quotient = op == AluOp.DIV || op == AluOp.SDIV;
            Label nonZero = new Label();
            Label done = new Label();
            a.test(size, SCRATCH3, SCRATCH3);
            a.jccShort(Condition.NE, nonZero);
            if (quotient) {
                a.xor(32, d, d);
            } else if (size == 32) {
                a.mov(32, d, d);
            }
            a.jmpShort(done);
            a.bind(nonZero);
            if (signed) {
                Label normal = new Label();
                a.cmp(size, SCRATCH3, -1);
                a.jccShort(Condition.NE, normal);
                if (quotient) {
                    a.neg(size, d);
                } else {
                    a.xor(32, d, d);
                }
                a.jmpShort(done);
                a.bind(normal);
            }
            a.mov(64, SCRATCH1, X86Reg.RAX);
            a.mov(64, SCRATCH2, X86Reg.RDX);
            if (d != X86Reg.RAX) {
                a.mov(64, X86Reg.RAX, d);
            }
            if (signed) {
                if (size == 64) {
                    a.cqo();
                } else {
                    a.cdq();
                }
                a.idiv(size, SCRATCH3);
            } else {
                a.xor(32, X86Reg.RDX, X86Reg.RDX);
                a.div(size, SCRATCH3);
            }
            a.mov(64, SCRATCH3, quotient ? X86Reg.RAX : X86Reg.RDX);
            a.mov(64, X86Reg.RAX, SCRATCH1);
            a.mov(64, X86Reg.RDX, SCRATCH2);
            a.mov(64, d, SCRATCH3);
            a.bind(done);
        }

        /** Byte swaps: BPF is little-endian here, so le only truncates; be and bswap swap. */
        private void endian(Insn.Endian e) {
            X86Reg d = reg(e.dst());
            boolean swap = switch (e.op()) {
                case LE -> false;
                case BE, BSWAP -> true;
            };
            switch (e.bits()) {
                case 16 -> {
                    if (swap) {
                        a.rol(16, d, 8);
                    }
                    a.movzx(16, d, d);
                }
                case 32 -> {
                    if (swap) {
                        a.bswap(32, d);
                    } else {
                        a.mov(32, d, d);
                    }
                }
                default -> {
                    if (swap) {
                        a.bswap(64, d);
                    }
                }
            }
        }

        /** The shortest mov of a 64-bit constant: sign-extended imm32, zero-extended imm32, or movabs. */
        private void loadImm64(X86Reg d, long v) {
            if (v == (int) v) {
                a.mov(64, d, v);
            } else if ((v >>> 32) == 0) {
                a.mov(32, d, v);
            } else {
                a.movabs(d, v);
            }
        }

        private void load(Insn.Load l) {
            X86Reg d = reg(l.dst());
            X86Address m = X86Address.of(reg(l.src()), l.offset());
            switch (l.size()) {
                case B -> {
                    if (l.signExtend()) {
                        a.movsx(64, 8, d, m);
                    } else {
                        a.movzx(8, d, m);
                    }
                }
                case H -> {
                    if (l.signExtend()) {
                        a.movsx(64, 16, d, m);
                    } else {
                        a.movzx(16, d, m);
                    }
                }
                case W -> {
                    if (l.signExtend()) {
                        a.movsx(64, 32, d, m);
                    } else {
                        a.mov(32, d, m);
                    }
                }
                case DW -> a.mov(64, d, m);
            }
        }

        private static int bits(Size s) {
            return s.bytes() * 8;
        }

        private void store(Insn.Store s) {
            X86Address m = X86Address.of(reg(s.dst()), s.offset());
            int size = bits(s.size());
            switch (s.src()) {
                case Reg r -> a.mov(size, m, reg(r));
                case Imm imm -> {
                    long v = switch (s.size()) {
                        case B -> (byte) imm.value();
                        case H -> (short) imm.value();
                        case W, DW -> imm.value();
                    };
                    a.mov(size, m, v);
                }
            }
        }

        /**
         * Atomics (RFC 9669 5.3) with LOCK: add/or/and/xor in place, fetch add as xadd, xchg,
         * cmpxchg against rax (r0); fetch or/and/xor as a cmpxchg loop with r0 parked in r10.
         */
        private void atomic(Insn.Atomic at) {
            int size = bits(at.size());
            X86Reg s = reg(at.src());
            X86Address m = X86Address.of(reg(at.dst()), at.offset());
            switch (at.op()) {
                case ADD -> {
                    a.lock();
                    a.add(size, m, s);
                }
                case OR -> {
                    a.lock();
                    a.or(size, m, s);
                }
                case AND -> {
                    a.lock();
                    a.and(size, m, s);
                }
                case XOR -> {
                    a.lock();
                    a.xor(size, m, s);
                }
                case FETCH_ADD -> {
                    a.lock();
                    a.xadd(size, m, s);
                }
                case XCHG -> a.xchg(size, m, s);
                case CMPXCHG -> {
                    a.lock();
                    a.cmpxchg(size, m, s);
                    if (size == 32) {
                        a.mov(32, X86Reg.RAX, X86Reg.RAX); // a successful 32-bit cmpxchg leaves rax's upper half
                    }
                }
                case FETCH_OR, FETCH_AND, FETCH_XOR -> fetchLoop(at.op(), size, m, s);
            }
        }

        private void fetchLoop(AtomicOp op, int size, X86Address m, X86Reg s) {
            X86Reg value = s == X86Reg.RAX ? SCRATCH2 : s;
            a.mov(64, SCRATCH2, X86Reg.RAX);
            a.lea(64, SCRATCH1, m);
            a.mov(size, X86Reg.RAX, X86Address.of(SCRATCH1));
            Label retry = new Label();
            a.bind(retry);
            a.mov(64, SCRATCH3, X86Reg.RAX);
            switch (op) {
                case FETCH_OR -> a.or(size, SCRATCH3, value);
                case FETCH_AND -> a.and(size, SCRATCH3, value);
                default -> a.xor(size, SCRATCH3, value);
            }
            a.lock();
            a.cmpxchg(size, X86Address.of(SCRATCH1), SCRATCH3);
            a.jcc(Condition.NE, retry);
            if (s != X86Reg.RAX) {
                a.mov(64, s, X86Reg.RAX);
                a.mov(64, X86Reg.RAX, SCRATCH2);
            }
        }

        private void condJump(int pc, Insn.Jump j) {
            int size = bits(j.width());
            X86Reg d = reg(j.dst());
            switch (j.src()) {
                case Reg r -> {
                    if (j.op() == JumpOp.JSET) {
                        a.test(size, d, reg(r));
                    } else {
                        a.cmp(size, d, reg(r));
                    }
                }
                case Imm imm -> {
                    long v = size == 64 ? imm.value() : imm.value() & 0xffff_ffffL;
                    if (j.op() == JumpOp.JSET) {
                        a.test(size, d, v);
                    } else {
                        a.cmp(size, d, v);
                    }
                }
            }
            Condition cc = switch (j.op()) {
                case JEQ -> Condition.E;
                case JNE, JSET -> Condition.NE;
                case JGT -> Condition.A;
                case JGE -> Condition.AE;
                case JLT -> Condition.B;
                case JLE -> Condition.BE;
                case JSGT -> Condition.G;
                case JSGE -> Condition.GE;
                case JSLT -> Condition.L;
                case JSLE -> Condition.LE;
            };
            jump(cc, pc, pc + 1 + j.offset());
        }

        /** A jump to slot {@code target}: rel8 when the previous pass's offsets allow it, else rel32. */
        private void jump(Condition cc, int pc, int target) {
            boolean near = prevStart != null && isByte(prevStart[target] - prevEnd[pc]);
            if (near) {
                if (cc == null) {
                    a.jmpShort(labels[target]);
                } else {
                    a.jccShort(cc, labels[target]);
                }
            } else {
                // rel32 forward; backward, the assembler picks rel8 when the bound offset allows.
                if (cc == null) {
                    a.jmp(labels[target]);
                } else {
                    a.jcc(cc, labels[target]);
                }
            }
        }

        private static boolean isByte(int v) {
            return v >= -128 && v <= 127;
        }
    }
}
