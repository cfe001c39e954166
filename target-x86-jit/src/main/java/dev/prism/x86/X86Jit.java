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
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.runtime.HelperTable;
import dev.prism.runtime.Helpers;
import dev.prism.runtime.jit.MachineCode;
import dev.prism.runtime.jit.RunContext;
import dev.prism.runtime.maps.HashLayout;
import dev.prism.runtime.maps.LpmTrieMap;
import dev.prism.runtime.maps.RedirectMap;
import dev.prism.verifier.Facts;
import dev.prism.verifier.VerifiedProgram;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.TreeSet;

/**
 * Lowers a verified BPF program ({@code raw} or {@code xdp}) to x86-64 machine code (System V
 * ABI), one case per instruction family, with the register map of {@link X86Registers}.
 * Memory accesses are emitted without checks: the verifier proved them (DESIGN.md, "The IR").
 *
 * <p><b>Entry.</b> {@code long entry(long r1, long r2, long context)}: r1 and r2 are the
 * program's first two registers (raw: memory address and length; xdp: the host-layout context),
 * {@code context} the run context of {@link RunContext}, kept in r12 throughout. On return rax
 * is r0; a nonzero status word in the context means the run trapped.
 *
 * <p><b>Stack</b> of the entry function, after the prologue (addresses grow upwards):
 * <pre>
 *   [rsp at entry]      return address into the FFM stub
 *                       saved rbp, rbx, r12, r13, r14, r15   (6 x 8)
 *                       8 bytes of padding, so rsp is 16-byte aligned at every call
 *   rbp = entry rsp     (stored in the context: exits and traps unwind to it)
 *   [rbp - 512, rbp)    the entry's 512-byte BPF stack; r10 = rbp
 *   rsp = rbp - 512
 * </pre>
 * A local call is a native {@code call} to a per-callee stub, which counts the depth (the ninth
 * frame stores its return address in the context and unwinds to the entry's epilogue), pushes
 * rbx, r13, r14, r15, rbp (r6-r10), and opens a fresh frame:
 * <pre>
 *                       return address into the caller
 *                       saved rbx, r13, r14, r15, rbp (5 x 8)   ← rbp
 *   [rbp - 512, rbp)    the callee's BPF stack; rsp = rbp - 512
 * </pre>
 * 8 + 40 + 512 bytes keep rsp 16-byte aligned, as helper calls into C or Java need.
 *
 * <p><b>Helpers.</b> BPF r1-r5 are rdi, rsi, rdx, rcx, r8, the System V argument registers, and
 * r0 is rax, so a helper is a plain {@code call} through its slot in the context's table
 * (rebindable: Java fills it with FFM upcalls) followed by a test of the status word.
 * Inlined instead: {@code bpf_map_lookup_elem} on an ARRAY map the verifier pins (address
 * arithmetic, as Linux's array_map_gen_lookup), {@code bpf_tail_call} (a jump to the target's
 * first instruction in the current frame) and {@code bpf_loop} (a loop of native calls).
 *
 * <p><b>Jumps</b> (STYLE.md): the program is lowered repeatedly; a jump is emitted as rel8 when
 * the previous pass's offsets allow it, until the offsets of every instruction stop changing;
 * the pass that reproduces the previous one's offsets exactly is the check that nothing moved.
 * Output is deterministic.
 */
public final class X86Jit {
    /** BPF stack bytes per frame (RFC 9669, Linux MAX_BPF_STACK). */
    public static final int FRAME_SIZE = 512;
    /** Frames allowed at once, the entry included (Linux MAX_CALL_FRAMES). */
    public static final int MAX_FRAMES = 8;
    /** Linux MAX_TAIL_CALL_CNT: the 34th tail call of a run falls through. */
    public static final int MAX_TAIL_CALLS = 33;
    /** bpf_loop's iteration limit (BPF_MAX_LOOPS). */
    public static final long MAX_LOOPS = 1L << 23;
    private static final int MAX_PASSES = 32;
    /**
     * Bare leaf functions ({@link X86Frames.Frame#bare}) of at most this many slots are inlined
     * at each local call: the callee needs no frame, so a call costs only its call and return,
     * which the copy saves. The function's own code stays for callback addresses.
     */
    static final int INLINE_SLOTS = 24;
    private static final long EINVAL = -22;
    private static final long E2BIG = -7;
    private static final long ENOENT = -2;
    private static final long XDP_REDIRECT = RedirectMap.XDP_REDIRECT;
    private static final long XDP_ACTION_MASK = RedirectMap.XDP_ACTION_MASK;

    private X86Jit() {
    }

    /**
     * Machine code with, per BPF slot, the native offsets of its lowering.
     *
     * @param program   the normalized program the code was made from
     * @param code      the bytes, entry at offset 0
     * @param insnStart native offset of each slot's code (the lddw second slot: -1)
     * @param insnEnd   native offset just past each slot's code (-1 likewise)
     * @param tailEntry native offset where a tail call into this program lands (its first instruction)
     * @param passes    lowering passes it took, the checking pass included
     * @param upcalls   helper ids called through the context's table (the others are inlined);
     *                  when empty the code never leaves native code and may be called as a
     *                  critical function
     */
    public record Compiled(Program program, byte[] code, int[] insnStart, int[] insnEnd, int tailEntry, int passes,
                           java.util.Set<Integer> upcalls) implements dev.prism.runtime.jit.CompiledCode {
        /** {@return each BPF instruction followed by its native bytes in hex} */
        public String listing() {
            return X86Listing.hex(this);
        }
    }

    /**
     * {@return the machine code of {@code verified}}
     *
     * @throws TargetException naming the pc when the program uses what x86-64 does not lower
     */
    public static Compiled compile(VerifiedProgram verified) {
        // The one source of truth for refusals (X86Target.check): same words as the planner's.
        MachineCode.check(verified, true).orThrow();
        Program program = verified.normalized();
        check(program);
        int[] prevStart = null;
        int[] prevEnd = null;
        for (int pass = 1; pass <= MAX_PASSES; pass++) {
            Pass p = new Pass(verified, program, prevStart, prevEnd);
            p.lower();
            if (prevStart != null && Arrays.equals(prevStart, p.start) && Arrays.equals(prevEnd, p.end)) {
                return new Compiled(program, p.a.toByteArray(), p.start, p.end, p.start[0], pass, java.util.Set.copyOf(p.upcalls));
            }
            prevStart = p.start;
            prevEnd = p.end;
        }
        throw new IllegalStateException("x86-64 jump sizing did not converge in " + MAX_PASSES + " passes");
    }

    /** Refuses, before any code, what x86-64 does not lower (the verifier has refused the rest). */
    private static void check(Program program) {
        for (int pc = 0; pc < program.length(); pc++) {
            switch (program.at(pc)) {
                case Insn.Call c when c.kind() == CallKind.HELPER_BTF && dev.prism.runtime.Kfuncs.byId(c.imm()).isPresent() -> {
                    // a kfunc Prism implements: called through its own helper slot
                }
                case Insn.Call c when c.kind() == CallKind.HELPER_BTF ->
                        throw TargetException.unsupported(pc, "call btf " + c.imm() + " (kernel functions) on x86-64");
                case Insn.Call c when c.kind() == CallKind.HELPER
                        && (Helpers.proto(c.imm()).isEmpty() || RunContext.slotOf(c.imm()) >= RunContext.HELPER_SLOTS) ->
                        throw TargetException.unsupported(pc, Helpers.describeUnsupported(c.imm()) + " on x86-64");
                case Insn.LoadImm64 l when l.kind() == LoadImm64Kind.MAP_BY_FD || l.kind() == LoadImm64Kind.MAP_VALUE_BY_FD
                        || l.kind() == LoadImm64Kind.VARIABLE_ADDR ->
                        throw TargetException.unsupported(pc, "lddw " + l.kind().keyword() + " on x86-64 (maps by index are)");
                case null, default -> {
                }
            }
        }
    }

    /** {@return whether {@code program} has a PROG_ARRAY, so tail calls may enter it} */
    private static boolean tailCallable(Program program) {
        for (MapDef m : program.maps()) {
            if (m.type() == MapType.PROG_ARRAY) {
                return true;
            }
        }
        return false;
    }

    /** One lowering of the whole program. */
    private static final class Pass {
        private final VerifiedProgram verified;
        private final Program program;
        private final int[] prevStart;
        private final int[] prevEnd;
        private final X86Assembler a = new X86Assembler();
        private final int n;
        private final int[] start;
        private final int[] end;
        /** Each slot's label; while a function is inlined, a copy with fresh labels for its slots. */
        private Label[] labels;
        /** Whether the code being lowered is an inlined copy, whose jump distances the previous pass did not see. */
        private boolean inlining;
        private final Label[] stubs;
        private final TreeSet<Integer> functionStarts = new TreeSet<>();
        private final Label depthError = new Label();
        private final Label trapExit = new Label();
        private final Label packetFail = new Label();
        private final boolean tailCallable;
        private boolean usesPacketFail;
        private final java.util.Set<Integer> upcalls = new java.util.TreeSet<>();
        /** Code off the common path (traps, rare cases), emitted after the program in this order. */
        private final java.util.List<Runnable> cold = new java.util.ArrayList<>();
        private final Label mapMismatch = new Label();
        private boolean usesMapMismatch;
        /** Generated hash lookups and updates by layout (maps of one shape share them), emitted after the code. */
        private final java.util.Map<HashLayout, Label> hashLookups = new java.util.LinkedHashMap<>();
        private final java.util.Map<HashLayout, Label> hashUpdates = new java.util.LinkedHashMap<>();
        /** Generated LPM lookups by map index. */
        private final java.util.TreeMap<Integer, Label> lpmLookups = new java.util.TreeMap<>();
        /** Slots some jump, call or code address leads to: where facts join paths. */
        private final java.util.BitSet jumpTargets = new java.util.BitSet();
        /** Each subprogram's frame, by its start, when calls are lean ({@link X86Frames}); null: the full stub. */
        private final java.util.Map<Integer, X86Frames.Frame> frames;

        Pass(VerifiedProgram verified, Program program, int[] prevStart, int[] prevEnd) {
            this.verified = verified;
            this.program = program;
            this.prevStart = prevStart;
            this.prevEnd = prevEnd;
            this.n = program.length();
            this.start = new int[n];
            this.end = new int[n];
            this.labels = new Label[n];
            this.stubs = new Label[n];
            this.tailCallable = tailCallable(program);
            Arrays.fill(start, -1);
            Arrays.fill(end, -1);
            this.frames = X86Frames.lean(verified, program, tailCallable);
            functionStarts.add(0);
            for (int pc = 0; pc < n; pc++) {
                labels[pc] = new Label();
                int t = switch (program.at(pc)) {
                    case Insn.Call c when c.kind() == CallKind.LOCAL -> pc + 1 + c.imm();
                    case Insn.LoadImm64 l when l.kind() == LoadImm64Kind.CODE_ADDR -> pc + 1 + l.imm();
                    case null, default -> -1;
                };
                switch (program.at(pc)) {
                    case Insn.Ja j -> jumpTargets.set(pc + 1 + j.offset());
                    case Insn.Jump j -> jumpTargets.set(pc + 1 + j.offset());
                    case null, default -> {
                    }
                }
                if (t >= 0) {
                    jumpTargets.set(t);
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
                if (frames != null && frames.containsKey(pc) && frames.get(pc).bare()) {
                    a.bind(stubs[pc]); // a frameless leaf is entered directly
                }
                start[pc] = a.position();
                lower(pc, insn);
                end[pc] = a.position();
            }
            for (int t = 0; t < n; t++) {
                if (stubs[t] != null && (frames == null || !frames.get(t).bare())) {
                    callStub(t);
                }
            }
            for (Runnable c : cold) {
                c.run();
            }
            hashLookups.forEach((layout, label) -> {
                a.bind(label);
                X86MapCode.emitLookup(a, layout);
            });
            hashUpdates.forEach((layout, label) -> {
                a.bind(label);
                X86MapCode.emitUpdate(a, layout);
            });
            lpmLookups.forEach((index, label) -> {
                MapDef m = program.maps().get(index);
                a.bind(label);
                X86LpmCode.emitLookup(a, m.keySize() - 4, (m.valueSize() + 7) & ~7);
            });
            if (usesMapMismatch) {
                a.bind(mapMismatch);
                a.mov(64, X86Address.of(CONTEXT, RunContext.STATUS), RunContext.STATUS_MAP_MISMATCH);
                a.jmp(trapExit);
            }
            if (usesPacketFail) {
                // RFC 9669 5.5: a legacy packet load outside the packet ends the program with r0 = 0.
                a.bind(packetFail);
                a.xor(32, X86Reg.RAX, X86Reg.RAX);
                mainEpilogue();
            }
            a.bind(depthError);
            // The ninth frame: report the return address of its call, unwind to the entry.
            a.mov(64, SCRATCH3, X86Address.of(X86Reg.RSP));
            a.mov(64, X86Address.of(CONTEXT, RunContext.TRAP_INFO), SCRATCH3);
            a.mov(64, X86Address.of(CONTEXT, RunContext.STATUS), RunContext.STATUS_CALL_DEPTH);
            a.bind(trapExit);
            a.xor(32, X86Reg.RAX, X86Reg.RAX);
            mainEpilogue();
        }

        /** System V entry: save callee-saved registers, record the unwind point, open the entry frame. */
        private void prologue() {
            a.push(X86Reg.RBP);
            a.push(X86Reg.RBX);
            a.push(X86Reg.R12);
            a.push(X86Reg.R13);
            a.push(X86Reg.R14);
            a.push(X86Reg.R15);
            a.sub(64, X86Reg.RSP, 8);
            a.mov(64, CONTEXT, X86Reg.RDX);
            a.mov(64, X86Address.of(CONTEXT, RunContext.ENTRY_SP), X86Reg.RSP);
            a.mov(64, X86Address.of(CONTEXT, RunContext.DEPTH), 0);
            a.mov(64, X86Address.of(CONTEXT, RunContext.TAIL_CALLS), 0);
            a.mov(64, X86Reg.RBP, X86Reg.RSP);
            a.sub(64, X86Reg.RSP, FRAME_SIZE);
        }

        private void mainEpilogue() {
            a.mov(64, X86Reg.RSP, X86Address.of(CONTEXT, RunContext.ENTRY_SP));
            a.add(64, X86Reg.RSP, 8);
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
            if (frames != null) {
                leanStub(t, frames.get(t));
                return;
            }
            a.cmp(64, X86Address.of(CONTEXT, RunContext.DEPTH), MAX_FRAMES - 1);
            a.jcc(Condition.AE, depthError);
            a.add(64, X86Address.of(CONTEXT, RunContext.DEPTH), 1);
            a.push(X86Reg.RBX);
            a.push(X86Reg.R13);
            a.push(X86Reg.R14);
            a.push(X86Reg.R15);
            a.push(X86Reg.RBP);
            a.mov(64, X86Reg.RBP, X86Reg.RSP);
            a.sub(64, X86Reg.RSP, FRAME_SIZE);
            a.jmp(labels[t]);
        }

        /**
         * The callee side of a local call when the program cannot be entered by a tail call and
         * makes no indirect call ({@link X86Frames}): the verifier bounded the depth, so no
         * counter; only the callee-saved registers the function writes are saved, and its frame
         * is its own stack depth:
         * <pre>
         *                       return address into the caller
         *                       saved r6-r9 the function writes (rbx, r13, r14, r15), in that order
         *                       saved rbp                                 ← rbp
         *   [rbp - size, rbp)   the callee's BPF stack (size: its depth rounded up to 16, plus 8
         *                       when needed to keep rsp 16-byte aligned);  rsp = rbp - size
         * </pre>
         */
        private void leanStub(int t, X86Frames.Frame f) {
            for (X86Reg r : f.saved()) {
                a.push(r);
            }
            a.push(X86Reg.RBP);
            a.mov(64, X86Reg.RBP, X86Reg.RSP);
            if (f.size() != 0) {
                a.sub(64, X86Reg.RSP, f.size());
            }
            a.jmp(labels[t]);
        }

        /** The return of a lean frame ({@link #leanStub}). */
        private void leanEpilogue(X86Frames.Frame f) {
            if (f.bare()) {
                a.ret();
                return;
            }
            if (f.size() != 0) {
                a.mov(64, X86Reg.RSP, X86Reg.RBP);
            }
            a.pop(X86Reg.RBP);
            for (int i = f.saved().size() - 1; i >= 0; i--) {
                a.pop(f.saved().get(i));
            }
            a.ret();
        }

        private void subEpilogue() {
            a.mov(64, X86Reg.RSP, X86Reg.RBP);
            a.pop(X86Reg.RBP);
            a.pop(X86Reg.R15);
            a.pop(X86Reg.R14);
            a.pop(X86Reg.R13);
            a.pop(X86Reg.RBX);
            a.add(64, X86Address.of(CONTEXT, RunContext.DEPTH), -1);
            a.ret();
        }

        /**
         * Constant folding from the IR: when the only way into {@code pc + 1} is from {@code pc}
         * and the verifier knows the destination's value there, an ALU instruction's result is
         * that constant on every path. {@return the constant, or null}
         */
        private Long foldedResult(int pc, Reg dst) {
            return pc + 1 >= n || jumpTargets.get(pc + 1) ? null : constant(pc + 1, dst);
        }

        /** {@return whether the IR proves {@code r} a scalar of at most {@code max} (unsigned) at {@code pc}} */
        private boolean fitsIn(int pc, Reg r, long max) {
            Facts f = verified.facts(pc);
            if (f == null) {
                return false;
            }
            Facts.Register v = f.registers().get(r.n());
            return v.kind() == Facts.Kind.SCALAR && Long.compareUnsigned(v.value().umax(), max) <= 0;
        }

        /** {@return whether the IR proves the upper 32 bits of {@code r} zero at {@code pc}} */
        private boolean upperHalfZero(int pc, Reg r) {
            Facts f = verified.facts(pc);
            if (f == null) {
                return false;
            }
            Facts.Register v = f.registers().get(r.n());
            return v.kind() == Facts.Kind.SCALAR && Long.compareUnsigned(v.value().umax(), 0xffff_ffffL) <= 0;
        }

        private void lower(int pc, Insn insn) {
            if (insn instanceof Insn.Alu alu && alu.op() != AluOp.MOV) {
                Long c = foldedResult(pc, alu.dst());
                if (c != null) {
                    loadImm64(reg(alu.dst()), c);
                    return;
                }
            }
            switch (insn) {
                case Insn.Alu alu -> alu(pc, alu);
                case Insn.Neg g -> a.neg(bits(g.width()), reg(g.dst()));
                case Insn.MovSx m -> a.movsx(bits(m.width()), m.fromBits(), reg(m.dst()), reg(m.src()));
                case Insn.Endian e -> endian(pc, e);
                case Insn.LoadImm64 l -> loadImm64(pc, l);
                case Insn.Load l -> load(l);
                case Insn.Store s -> store(s);
                case Insn.Atomic at -> atomic(at);
                case Insn.Ja j -> jump(null, pc, pc + 1 + j.offset());
                case Insn.Jump j -> condJump(pc, j);
                case Insn.Call c when c.kind() == CallKind.LOCAL -> {
                    int t = pc + 1 + c.imm();
                    if (inlineable(t)) {
                        inline(t);
                    } else {
                        a.call(stubs[t]);
                    }
                }
                case Insn.Call c when c.kind() == CallKind.HELPER_BTF -> callHelper(pc, dev.prism.runtime.Kfuncs.byId(c.imm()).orElseThrow().slot());
                case Insn.Call c -> helper(pc, c.imm());
                case Insn.CallX x -> a.call(reg(x.dst()));
                case Insn.Exit x -> {
                    if (functionStarts.floor(pc) == 0) {
                        if (tailCallable) {
                            // A program entered by a tail call from a subprogram returns to that subprogram's caller.
                            Label main = new Label();
                            a.cmp(64, X86Address.of(CONTEXT, RunContext.DEPTH), 0);
                            a.jccShort(Condition.E, main);
                            subEpilogue();
                            a.bind(main);
                        }
                        mainEpilogue();
                    } else if (frames != null) {
                        leanEpilogue(frames.get(functionStarts.floor(pc)));
                    } else {
                        subEpilogue();
                    }
                }
                case Insn.PacketLoad l -> packetLoad(l);
            }
        }

        /** {@return whether a call of the function at {@code t} is lowered as a copy of its body} */
        private boolean inlineable(int t) {
            return frames != null && frames.get(t).bare() && functionEnd(t) - t <= INLINE_SLOTS;
        }

        /** {@return one past the last slot of the function starting at {@code t}} */
        private int functionEnd(int t) {
            Integer next = functionStarts.higher(t);
            return next == null ? n : next;
        }

        /**
         * A copy of the bare leaf at {@code t} in place of its call: its slots get fresh labels,
         * each exit but a final one jumps past the copy. A bare leaf touches no frame, no r6-r9
         * and calls nothing, so its body means the same here; r1-r5 are dead after a call.
         */
        private void inline(int t) {
            int end = functionEnd(t);
            int last = end - 1;
            while (program.at(last) == null) {
                last--;
            }
            Label[] outer = labels;
            boolean outerInlining = inlining;
            labels = outer.clone();
            for (int pc = t; pc < end; pc++) {
                labels[pc] = new Label();
            }
            Label done = new Label();
            inlining = true;
            try {
                for (int pc = t; pc < end; pc++) {
                    Insn insn = program.at(pc);
                    if (insn == null) {
                        continue;
                    }
                    a.bind(labels[pc]);
                    if (insn instanceof Insn.Exit) {
                        if (pc != last) {
                            a.jmp(done);
                        }
                    } else {
                        lower(pc, insn);
                    }
                }
            } finally {
                labels = outer;
                inlining = outerInlining;
            }
            a.bind(done);
        }

        private void loadImm64(int pc, Insn.LoadImm64 l) {
            X86Reg d = reg(l.dst());
            switch (l.kind()) {
                case IMM64 -> loadImm64(d, l.value());
                case MAP_BY_IDX -> a.mov(64, d, X86Address.of(CONTEXT, RunContext.mapSlot(l.imm())));
                case MAP_VALUE_BY_IDX -> {
                    // ARRAY only (the verifier's rule): element 0 is the handle itself.
                    a.mov(64, d, X86Address.of(CONTEXT, RunContext.mapSlot(l.imm())));
                    if (l.nextImm() != 0) {
                        a.add(64, d, l.nextImm());
                    }
                }
                case CODE_ADDR -> a.leaRip(d, stubs[pc + 1 + l.imm()]);
                case MAP_BY_FD, MAP_VALUE_BY_FD, VARIABLE_ADDR -> throw new IllegalStateException("refused by check()");
            }
        }

        /** {@return the map the verifier pinned in {@code r} at {@code pc}, or null} */
        private MapDef pinnedMap(int pc, Reg r) {
            Facts f = verified.facts(pc);
            if (f == null) {
                return null;
            }
            Facts.Register v = f.registers().get(r.n());
            return v.kind() == Facts.Kind.MAP && v.map() >= 0 ? program.maps().get(v.map()) : null;
        }

        private int pinnedIndex(int pc, Reg r) {
            return verified.facts(pc).registers().get(r.n()).map();
        }

        private void helper(int pc, int id) {
            MapDef map = pinnedMap(pc, id == Helpers.TAIL_CALL ? Reg.R2 : Reg.R1);
            if (id == Helpers.TAIL_CALL) {
                tailCall(pc, map);
            } else if (id == Helpers.LOOP) {
                bpfLoop();
            } else if (id == Helpers.FOR_EACH_MAP_ELEM) {
                forEachMapElem(pc);
            } else if (id == HelperTable.BPF_FUNC_CSUM_DIFF) {
                csumDiff(pc);
            } else if (id == Helpers.MAP_LOOKUP_ELEM && map != null
                    && (map.type() == MapType.ARRAY || map.type() == MapType.PERCPU_ARRAY)) {
                arrayLookup(pc, pinnedIndex(pc, Reg.R1), map);
            } else if (id == Helpers.MAP_LOOKUP_ELEM && map != null && map.type() == MapType.ARRAY_OF_MAPS) {
                arrayOfMapsLookup(pc, pinnedIndex(pc, Reg.R1), map);
            } else if ((id == Helpers.MAP_LOOKUP_ELEM || id == Helpers.MAP_UPDATE_ELEM) && map != null && hashMap(map)) {
                hashByHandle(pc, id, java.util.List.of(pinnedIndex(pc, Reg.R1)));
            } else if ((id == Helpers.MAP_LOOKUP_ELEM || id == Helpers.MAP_UPDATE_ELEM) && map == null && hashCandidates(pc) != null) {
                hashByHandle(pc, id, hashCandidates(pc));
            } else if (id == Helpers.MAP_LOOKUP_ELEM && map != null && map.type() == MapType.LPM_TRIE
                    && map.keySize() - 4 <= LpmTrieMap.NATIVE_MAX_DATA && map.maxEntries() <= LpmTrieMap.NATIVE_MAX_ENTRIES) {
                int index = pinnedIndex(pc, Reg.R1);
                lpmCall(pc, index, lpmLookups.computeIfAbsent(index, k -> new Label()));
            } else if (id == Helpers.REDIRECT_MAP && map != null && inlinedRedirectMap(pc, map)) {
                redirectMap(pc, pinnedIndex(pc, Reg.R1), map, constant(pc, Reg.R3));
            } else if (id == Helpers.REDIRECT_MAP && map == null && redirectMapsByHandle(pc)) {
                return;
            } else if (id == Helpers.REDIRECT && program.type() == dev.prism.program.ProgramType.XDP && constant(pc, Reg.R2) != null) {
                redirect(constant(pc, Reg.R2));
            } else {
                callHelper(pc, RunContext.slotOf(id));
            }
        }

        /** {@return the value the IR proves {@code r} holds on every path at {@code pc}, or null} */
        private Long constant(int pc, Reg r) {
            Facts f = verified.facts(pc);
            Facts.Register v = f == null ? null : f.registers().get(r.n());
            return v != null && v.kind() == Facts.Kind.SCALAR && v.value().isConstant() ? v.value().constantValue() : null;
        }

        /**
         * {@return whether bpf_redirect_map at {@code pc} is lowered inline}: an XDP program, an
         * array redirect map (its slot words: RedirectMap's table) and flags the IR knows, without
         * the devmap broadcast bits (which the Java helper refuses as not supported)
         */
        private boolean inlinedRedirectMap(int pc, MapDef map) {
            Long flags = constant(pc, Reg.R3);
            return program.type() == dev.prism.program.ProgramType.XDP && flags != null
                    && (map.type() == MapType.DEVMAP || map.type() == MapType.CPUMAP || map.type() == MapType.XSKMAP)
                    && (flags & (RedirectMap.BPF_F_BROADCAST | RedirectMap.BPF_F_EXCLUDE_INGRESS)) == 0;
        }

        /**
         * bpf_redirect_map(map, key, flags) on an array redirect map, as the Java helper: flags
         * other than the default action give XDP_ABORTED; an empty slot or a key past
         * max_entries the default action (flags &amp; 3); else the slot's word, with the map's
         * index, goes to the run context's redirect field ({@link RunContext#REDIRECT}), and
         * XDP_REDIRECT.
         */
        private void redirectMap(int pc, int index, MapDef map, long flags) {
            X86Reg r1 = X86Registers.of(Reg.R1);
            a.mov(64, SCRATCH3, X86Address.of(CONTEXT, RunContext.mapSlot(index)));
            a.cmp(64, r1, SCRATCH3);
            a.jcc(Condition.NE, cold(() -> mismatch(pc)));
            Label done = new Label();
            redirectMapBody(index, map, flags, done, true);
            a.bind(done);
        }

        /**
         * bpf_redirect_map where the IR does not pin the map (clang shares one call between
         * paths that name different maps) and knows the flags: r1 is compared with the handle of
         * each array redirect map of the program, whose body follows inline; any other map (a
         * DEVMAP_HASH, say) takes the Java helper. {@return false, emitting nothing, when the
         * program has no such map or the flags are unknown}
         */
        private boolean redirectMapsByHandle(int pc) {
            Long flags = constant(pc, Reg.R3);
            if (program.type() != dev.prism.program.ProgramType.XDP || flags == null) {
                return false;
            }
            java.util.List<Integer> inlined = new java.util.ArrayList<>();
            for (int i = 0; i < program.maps().size(); i++) {
                if (inlinedRedirectMap(pc, program.maps().get(i))) {
                    inlined.add(i);
                }
            }
            if (inlined.isEmpty()) {
                return false;
            }
            Label done = new Label();
            for (int i : inlined) {
                Label next = new Label();
                a.mov(64, SCRATCH3, X86Address.of(CONTEXT, RunContext.mapSlot(i)));
                a.cmp(64, X86Registers.of(Reg.R1), SCRATCH3);
                a.jcc(Condition.NE, next);
                redirectMapBody(i, program.maps().get(i), flags, done, false);
                a.bind(next);
            }
            callHelper(pc, Helpers.REDIRECT_MAP);
            a.bind(done);
            return true;
        }

        /**
         * The body of an inlined bpf_redirect_map on map {@code index}, whose handle is in
         * SCRATCH3; ends at {@code done}, which follows it directly when {@code last}.
         */
        private void redirectMapBody(int index, MapDef map, long flags, Label done, boolean last) {
            X86Reg r2 = X86Registers.of(Reg.R2);
            if ((flags & ~RedirectMap.allowedFlags(map.type())) != 0) {
                a.xor(32, X86Reg.RAX, X86Reg.RAX); // XDP_ABORTED
                if (!last) {
                    a.jmp(done);
                }
                return;
            }
            Label empty = new Label();
            a.mov(32, X86Reg.RAX, r2);
            a.cmp(32, X86Reg.RAX, map.maxEntries() & 0xffff_ffffL);
            a.jccShort(Condition.AE, empty);
            a.shl(64, X86Reg.RAX, 3);
            a.add(64, X86Reg.RAX, SCRATCH3);
            a.mov(64, X86Reg.RAX, X86Address.of(X86Reg.RAX));
            a.test(64, X86Reg.RAX, X86Reg.RAX);
            a.jccShort(Condition.E, empty);
            a.movabs(SCRATCH2, (long) (index + 1) << RunContext.REDIRECT_MAP_SHIFT);
            a.or(64, X86Reg.RAX, SCRATCH2);
            a.mov(64, X86Address.of(CONTEXT, RunContext.REDIRECT), X86Reg.RAX);
            a.mov(32, X86Reg.RAX, XDP_REDIRECT);
            a.jmp(done);
            a.bind(empty);
            a.mov(32, X86Reg.RAX, flags & XDP_ACTION_MASK);
            if (!last) {
                a.jmp(done);
            }
        }

        /**
         * bpf_redirect(ifindex, flags) in XDP with flags the IR knows, as the Java helper: any
         * flag gives XDP_ABORTED; else the u32 ifindex goes to the run context's redirect field,
         * and XDP_REDIRECT.
         */
        private void redirect(long flags) {
            if (flags != 0) {
                a.xor(32, X86Reg.RAX, X86Reg.RAX); // XDP_ABORTED
                return;
            }
            a.mov(32, X86Reg.RAX, X86Registers.of(Reg.R1));
            a.movabs(SCRATCH2, RedirectMap.word(dev.prism.target.RunResult.Redirect.Kind.IFINDEX, 0));
            a.or(64, X86Reg.RAX, SCRATCH2);
            a.mov(64, X86Address.of(CONTEXT, RunContext.REDIRECT), X86Reg.RAX);
            a.mov(32, X86Reg.RAX, XDP_REDIRECT);
        }

        /**
         * A helper through its table slot, its pc recorded for a trap message; a nonzero status
         * afterwards (a Java helper failed) ends the run.
         */
        private void callHelper(int pc, int id) {
            upcalls.add(id);
            a.mov(64, X86Address.of(CONTEXT, RunContext.TRAP_INFO), pc);
            a.mov(64, X86Reg.R9, CONTEXT); // the sixth argument: which instance the stub serves
            a.call(X86Address.of(CONTEXT, RunContext.helperSlot(id)));
            a.cmp(64, X86Address.of(CONTEXT, RunContext.STATUS), 0);
            a.jcc(Condition.NE, trapExit);
        }

        /**
         * bpf_map_lookup_elem on an ARRAY the verifier pinned: {@code i = *(u32 *)key;
         * r0 = i < max_entries ? element0 + i * stride : 0}; when the IR knows the key on every
         * path ({@link Facts#key}), the element's address is handle + key * stride, or null, fixed
         * now. The handle is compared first, a cheap check of the IR's claim; another map traps.
         * Both rare ends (the trap, a key out of range) are cold code after the program, so the
         * common path falls straight through.
         */
        private void arrayLookup(int pc, int index, MapDef map) {
            Label done = new Label();
            X86Reg r1 = X86Registers.of(Reg.R1);
            X86Reg r2 = X86Registers.of(Reg.R2);
            a.mov(64, SCRATCH3, X86Address.of(CONTEXT, RunContext.mapSlot(index)));
            a.cmp(64, r1, SCRATCH3);
            a.jcc(Condition.NE, cold(() -> mismatch(pc)));
            int stride = (map.valueSize() + 7) & ~7;
            Long key = verified.facts(pc).key();
            if (key != null) {
                long offset = (long) stride * key;
                if (Long.compareUnsigned(key, map.maxEntries() & 0xffff_ffffL) >= 0) {
                    a.xor(32, X86Reg.RAX, X86Reg.RAX);
                } else if (offset <= Integer.MAX_VALUE) {
                    a.lea(64, X86Reg.RAX, X86Address.of(SCRATCH3, (int) offset));
                } else {
                    a.mov(64, X86Reg.RAX, offset);
                    a.add(64, X86Reg.RAX, SCRATCH3);
                }
                return;
            }
            a.mov(32, X86Reg.RAX, X86Address.of(r2));
            a.cmp(32, X86Reg.RAX, map.maxEntries() & 0xffff_ffffL);
            a.jcc(Condition.AE, cold(() -> {
                a.xor(32, X86Reg.RAX, X86Reg.RAX);
                a.jmp(done);
            }));
            if (Integer.bitCount(stride) == 1) {
                a.shl(64, X86Reg.RAX, Integer.numberOfTrailingZeros(stride));
            } else {
                a.mov(64, SCRATCH2, stride);
                a.imul(64, X86Reg.RAX, SCRATCH2);
            }
            a.add(64, X86Reg.RAX, SCRATCH3);
            a.bind(done);
        }

        /** {@return the label of {@code code}, emitted after the program with the other cold code} */
        private Label cold(Runnable code) {
            Label l = new Label();
            cold.add(() -> {
                a.bind(l);
                code.run();
            });
            return l;
        }

        /**
         * bpf_map_lookup_elem on an ARRAY_OF_MAPS the verifier pinned, as Linux's
         * array_of_map_gen_lookup: the slot's address as for an array (the handles are 8 bytes
         * apart, MapOfMaps), then the inner map's handle loaded from it, 0 for an empty slot.
         */
        private void arrayOfMapsLookup(int pc, int index, MapDef map) {
            Label none = new Label();
            arrayLookup(pc, index, map);
            a.test(64, X86Reg.RAX, X86Reg.RAX);
            a.jccShort(Condition.E, none);
            a.mov(64, X86Reg.RAX, X86Address.of(X86Reg.RAX));
            a.bind(none);
        }

        /** Records {@code pc} and traps: the map in r1 is not the one the verifier pinned. */
        private void mismatch(int pc) {
            usesMapMismatch = true;
            a.mov(64, X86Address.of(CONTEXT, RunContext.TRAP_INFO), pc);
            a.jmp(mapMismatch);
        }

        /**
         * bpf_map_lookup_elem on an LPM_TRIE (data of at most 8 bytes) the verifier pinned: a call
         * of the map's generated lookup, emitted once per map after the program
         * ({@link X86LpmCode}). It takes the map in rdi and the key in rsi, where r1 and r2
         * already are. The handle is compared with the pinned map's first, as for arrays.
         */
        private void lpmCall(int pc, int index, Label function) {
            a.mov(64, SCRATCH3, X86Address.of(CONTEXT, RunContext.mapSlot(index)));
            a.cmp(64, X86Registers.of(Reg.R1), SCRATCH3);
            a.jcc(Condition.NE, cold(() -> mismatch(pc)));
            a.call(function);
        }

        private static boolean hashMap(MapDef map) {
            return map.type() == MapType.HASH || map.type() == MapType.LRU_HASH || map.type() == MapType.PERCPU_HASH;
        }

        /** {@return the register of the generated hash function's CPU argument: rdx for a lookup, r8 for an update} */
        private static X86Reg hashCpuArgument(int id) {
            return id == Helpers.MAP_LOOKUP_ELEM ? X86Reg.RDX : X86Reg.R8;
        }

        /** {@return the label of the generated lookup or update for maps of {@code layout}} */
        private Label hashFunction(int id, HashLayout layout) {
            return (id == Helpers.MAP_LOOKUP_ELEM ? hashLookups : hashUpdates).computeIfAbsent(layout, k -> new Label());
        }

        /** The most maps a call whose map the IR does not pin compares r1 with. */
        private static final int MAX_DISPATCH = 8;

        /**
         * {@return the maps a lookup or update at {@code pc} may take ({@link Facts#maps}) when
         * they are all hash maps, at most {@link #MAX_DISPATCH} of them, else null}
         */
        private java.util.List<Integer> hashCandidates(int pc) {
            Facts f = verified.facts(pc);
            java.util.List<Integer> maps = f == null ? null : f.maps();
            if (maps == null || maps.isEmpty() || maps.size() > MAX_DISPATCH) {
                return null;
            }
            for (int i : maps) {
                if (!hashMap(program.maps().get(i))) {
                    return null;
                }
            }
            return maps;
        }

        /**
         * bpf_map_lookup_elem or bpf_map_update_elem on hash maps: a call of the generated
         * function of the map's layout ({@link X86MapCode}), which takes the map in rdi, the key
         * in rsi and the value and flags in rdx and rcx, where r1-r4 already are, and the CPU (0:
         * a JIT instance's maps have one) in rdx (lookup) or r8 (update). r1 is compared with the
         * handle of each of {@code candidates}: the one map the verifier pinned, or the few the IR
         * lists when it cannot pin one (an inner map of a map-in-map, two maps on joined paths);
         * maps of one layout share the call. A handle that is none of them traps: the IR proves
         * it cannot happen, and the compare is a cheap check of that claim.
         */
        private void hashByHandle(int pc, int id, java.util.List<Integer> candidates) {
            java.util.Map<HashLayout, java.util.List<Integer>> byLayout = new java.util.LinkedHashMap<>();
            for (int i : candidates) {
                byLayout.computeIfAbsent(HashLayout.of(program.maps().get(i), 1), k -> new java.util.ArrayList<>()).add(i);
            }
            X86Reg r1 = X86Registers.of(Reg.R1);
            X86Reg cpu = hashCpuArgument(id);
            Label done = new Label();
            int group = 0;
            for (var e : byLayout.entrySet()) {
                boolean lastGroup = ++group == byLayout.size();
                Label body = new Label();
                Label nextGroup = new Label();
                java.util.List<Integer> maps = e.getValue();
                for (int k = 0; k < maps.size(); k++) {
                    a.mov(64, SCRATCH3, X86Address.of(CONTEXT, RunContext.mapSlot(maps.get(k))));
                    a.cmp(64, r1, SCRATCH3);
                    if (k < maps.size() - 1) {
                        a.jcc(Condition.E, body);
                    } else {
                        a.jcc(Condition.NE, lastGroup ? cold(() -> mismatch(pc)) : nextGroup);
                    }
                }
                a.bind(body);
                a.xor(32, cpu, cpu);
                a.call(hashFunction(id, e.getKey()));
                if (!lastGroup) {
                    a.jmp(done);
                    a.bind(nextGroup);
                }
            }
            a.bind(done);
        }

        /**
         * bpf_csum_diff(from, from_size, to, to_size, seed) inline: sizes multiples of 4 and
         * together at most 512 bytes (else -EINVAL); the sum of seed, the complement of each
         * 32-bit word of from and each word of to, folded to 16 bits as Linux 6.x on x86-64
         * returns it. The verifier proved both buffers readable for their sizes.
         */
        private void csumDiff(int pc) {
            Long fromBytes = constant(pc, Reg.R2);
            Long toBytes = constant(pc, Reg.R4);
            if (fromBytes != null && toBytes != null && fromBytes >= 0 && toBytes >= 0
                    && fromBytes + toBytes <= CSUM_UNROLLED_BYTES) {
                csumDiffUnrolled((int) (long) fromBytes, (int) (long) toBytes);
                return;
            }
            X86Reg from = X86Registers.of(Reg.R1);
            X86Reg fromSize = X86Registers.of(Reg.R2);
            X86Reg to = X86Registers.of(Reg.R3);
            X86Reg toSize = X86Registers.of(Reg.R4);
            X86Reg seed = X86Registers.of(Reg.R5);
            Label invalid = new Label();
            Label fromLoop = new Label();
            Label toPart = new Label();
            Label toLoop = new Label();
            Label fold = new Label();
            Label done = new Label();
            a.mov(32, fromSize, fromSize);
            a.mov(32, toSize, toSize);
            a.mov(64, SCRATCH3, fromSize);
            a.or(64, SCRATCH3, toSize);
            a.test(32, SCRATCH3, 3);
            a.jccShort(Condition.NE, invalid);
            a.mov(64, SCRATCH3, fromSize);
            a.add(64, SCRATCH3, toSize);
            a.cmp(64, SCRATCH3, 512);
            a.jccShort(Condition.A, invalid);
            a.mov(32, X86Reg.RAX, seed);
            a.test(64, fromSize, fromSize);
            a.jccShort(Condition.E, toPart);
            a.bind(fromLoop);
            a.mov(32, SCRATCH3, X86Address.of(from));
            a.xor(32, SCRATCH3, 0xffff_ffffL);
            a.add(64, X86Reg.RAX, SCRATCH3);
            a.add(64, from, 4);
            a.sub(64, fromSize, 4);
            a.jccShort(Condition.NE, fromLoop);
            a.bind(toPart);
            a.test(64, toSize, toSize);
            a.jccShort(Condition.E, fold);
            a.bind(toLoop);
            a.mov(32, SCRATCH3, X86Address.of(to));
            a.add(64, X86Reg.RAX, SCRATCH3);
            a.add(64, to, 4);
            a.sub(64, toSize, 4);
            a.jccShort(Condition.NE, toLoop);
            a.bind(fold);
            csumFold();
            a.jmpShort(done);
            a.bind(invalid);
            a.mov(64, X86Reg.RAX, EINVAL);
            a.bind(done);
        }

        /** Folds the 64-bit sum in rax to 16 bits plus carries, as bpf_csum_diff returns it: while rax >> 16, rax = (rax &amp; 0xffff) + (rax >> 16). */
        private void csumFold() {
            Label fold = new Label();
            Label done = new Label();
            a.bind(fold);
            a.mov(64, SCRATCH3, X86Reg.RAX);
            a.shr(64, SCRATCH3, 16);
            a.jccShort(Condition.E, done);
            a.movzx(16, X86Reg.RAX, X86Reg.RAX);
            a.add(64, X86Reg.RAX, SCRATCH3);
            a.jmpShort(fold);
            a.bind(done);
        }

        /** Up to this many bytes in all, bpf_csum_diff with sizes the IR knows is unrolled. */
        private static final int CSUM_UNROLLED_BYTES = 64;

        /**
         * bpf_csum_diff when the IR knows both sizes (clang's {@code sizeof}): the size checks
         * are decided now, each 32-bit word is one load and add, then the same fold; the result
         * is the loop's.
         */
        private void csumDiffUnrolled(int fromBytes, int toBytes) {
            if (((fromBytes | toBytes) & 3) != 0) {
                a.mov(64, X86Reg.RAX, EINVAL);
                return;
            }
            a.mov(32, X86Reg.RAX, X86Registers.of(Reg.R5));
            for (int off = 0; off < fromBytes; off += 4) {
                a.mov(32, SCRATCH3, X86Address.of(X86Registers.of(Reg.R1), off));
                a.xor(32, SCRATCH3, 0xffff_ffffL);
                a.add(64, X86Reg.RAX, SCRATCH3);
            }
            for (int off = 0; off < toBytes; off += 4) {
                a.mov(32, SCRATCH3, X86Address.of(X86Registers.of(Reg.R3), off));
                a.add(64, X86Reg.RAX, SCRATCH3);
            }
            csumFold();
        }

        /**
         * bpf_tail_call(ctx, prog_array, index), as the interpreter defines it: index below
         * max_entries, fewer than 33 tail calls so far and a program in the slot, then the current
         * frame is reset and the target's first instruction runs with the same r1; otherwise
         * r0 = -ENOENT and execution goes on.
         */
        private void tailCall(int pc, MapDef map) {
            if (map == null || map.type() != MapType.PROG_ARRAY) {
                throw TargetException.unsupported(pc, "bpf_tail_call through a map the verifier did not pin to one PROG_ARRAY");
            }
            Label fail = new Label();
            Label done = new Label();
            X86Reg r2 = X86Registers.of(Reg.R2);
            X86Reg r3 = X86Registers.of(Reg.R3);
            a.mov(64, SCRATCH3, X86Address.of(CONTEXT, RunContext.mapSlot(pinnedIndex(pc, Reg.R2))));
            a.cmp(64, r2, SCRATCH3);
            a.jcc(Condition.NE, fail);
            a.mov(32, SCRATCH2, r3);
            a.cmp(64, SCRATCH2, map.maxEntries() & 0xffff_ffffL);
            a.jcc(Condition.AE, fail);
            a.cmp(64, X86Address.of(CONTEXT, RunContext.TAIL_CALLS), MAX_TAIL_CALLS);
            a.jcc(Condition.AE, fail);
            a.shl(64, SCRATCH2, 3);
            a.add(64, SCRATCH2, SCRATCH3);
            a.mov(64, SCRATCH3, X86Address.of(SCRATCH2));
            a.test(64, SCRATCH3, SCRATCH3);
            a.jcc(Condition.E, fail);
            a.add(64, X86Address.of(CONTEXT, RunContext.TAIL_CALLS), 1);
            a.lea(64, X86Reg.RSP, X86Address.of(X86Reg.RBP, -FRAME_SIZE));
            a.jmp(SCRATCH3);
            a.bind(fail);
            a.mov(64, X86Reg.RAX, ENOENT);
            a.bind(done);
        }

        /**
         * bpf_loop(nr, callback, ctx, flags): flags must be 0 (-EINVAL), nr at most 2^23
         * (-E2BIG); the callback is called as a function (i, ctx) until it returns nonzero or nr
         * calls were made; r0 = the number of calls made. The loop state lives in the
         * callee-saved registers of r6-r9, which every BPF function and helper preserves, saved
         * around the loop on the native stack (four pushes keep its 16-byte alignment), so the
         * counter is not a memory round trip per iteration:
         * <pre>
         *   rbx  i, the calls made      r13  nr
         *   r14  the callback           r15  ctx
         * </pre>
         */
        private void bpfLoop() {
            X86Reg nr = X86Registers.of(Reg.R1);
            X86Reg callback = X86Registers.of(Reg.R2);
            X86Reg ctx = X86Registers.of(Reg.R3);
            X86Reg flags = X86Registers.of(Reg.R4);
            X86Reg i = X86Reg.RBX;
            X86Reg count = X86Reg.R13;
            X86Reg fn = X86Reg.R14;
            X86Reg arg = X86Reg.R15;
            Label flagsOk = new Label();
            Label countOk = new Label();
            Label loop = new Label();
            Label exhausted = new Label();
            Label out = new Label();
            Label done = new Label();
            a.test(64, flags, flags);
            a.jccShort(Condition.E, flagsOk);
            a.mov(64, X86Reg.RAX, EINVAL);
            a.jmp(done);
            a.bind(flagsOk);
            a.mov(32, nr, nr);
            a.cmp(64, nr, MAX_LOOPS);
            a.jccShort(Condition.BE, countOk);
            a.mov(64, X86Reg.RAX, E2BIG);
            a.jmp(done);
            a.bind(countOk);
            a.push(i);
            a.push(count);
            a.push(fn);
            a.push(arg);
            a.mov(64, count, nr);
            a.mov(64, fn, callback);
            a.mov(64, arg, ctx);
            a.xor(32, i, i);
            a.bind(loop);
            a.cmp(64, i, count);
            a.jccShort(Condition.AE, exhausted);
            a.mov(64, X86Registers.of(Reg.R1), i);
            a.mov(64, X86Registers.of(Reg.R2), arg);
            a.call(fn);
            a.add(64, i, 1);
            a.test(64, X86Reg.RAX, X86Reg.RAX);
            a.jccShort(Condition.E, loop);
            a.mov(64, X86Reg.RAX, i);
            a.jmpShort(out);
            a.bind(exhausted);
            a.mov(64, X86Reg.RAX, count);
            a.bind(out);
            a.pop(arg);
            a.pop(fn);
            a.pop(count);
            a.pop(i);
            a.bind(done);
        }

        /**
         * bpf_for_each_map_elem(map, callback, ctx, flags): flags must be 0 (-EINVAL); then,
         * for i = 0, 1, ...: the step upcall ({@link RunContext#FOR_EACH_STEP}) copies element
         * i's key into the key buffer and gives its value (0: no more elements), and the
         * callback is called as a function (map, key, value, ctx) until it returns nonzero;
         * r0 = the number of calls. The loop state and the key buffer live on the native stack:
         * <pre>
         *   [rsp]       i (calls made)      [rsp + 16]  callback
         *   [rsp + 8]   ctx                 [rsp + 24]  map
         *   [rsp + 32]  key buffer, FOR_EACH_KEY_BYTES (the size keeps rsp 16-byte aligned)
         * </pre>
         */
        private void forEachMapElem(int pc) {
            int frame = 32 + RunContext.FOR_EACH_KEY_BYTES;
            Label flagsOk = new Label();
            Label loop = new Label();
            Label out = new Label();
            Label done = new Label();
            a.test(64, X86Registers.of(Reg.R4), X86Registers.of(Reg.R4));
            a.jccShort(Condition.E, flagsOk);
            a.mov(64, X86Reg.RAX, EINVAL);
            a.jmp(done);
            a.bind(flagsOk);
            a.sub(64, X86Reg.RSP, frame);
            a.mov(64, X86Address.of(X86Reg.RSP, 24), X86Registers.of(Reg.R1));
            a.mov(64, X86Address.of(X86Reg.RSP, 16), X86Registers.of(Reg.R2));
            a.mov(64, X86Address.of(X86Reg.RSP, 8), X86Registers.of(Reg.R3));
            a.mov(64, X86Address.of(X86Reg.RSP), 0);
            a.bind(loop);
            a.mov(64, X86Registers.of(Reg.R1), X86Address.of(X86Reg.RSP, 24));
            a.mov(64, X86Registers.of(Reg.R2), X86Address.of(X86Reg.RSP));
            a.lea(64, X86Registers.of(Reg.R3), X86Address.of(X86Reg.RSP, 32));
            callHelper(pc, RunContext.FOR_EACH_STEP);
            a.test(64, X86Reg.RAX, X86Reg.RAX);
            a.jcc(Condition.E, out);
            a.mov(64, X86Registers.of(Reg.R3), X86Reg.RAX);
            a.mov(64, X86Registers.of(Reg.R1), X86Address.of(X86Reg.RSP, 24));
            a.lea(64, X86Registers.of(Reg.R2), X86Address.of(X86Reg.RSP, 32));
            a.mov(64, X86Registers.of(Reg.R4), X86Address.of(X86Reg.RSP, 8));
            a.mov(64, SCRATCH3, X86Address.of(X86Reg.RSP, 16));
            a.call(SCRATCH3);
            a.add(64, X86Address.of(X86Reg.RSP), 1);
            a.test(64, X86Reg.RAX, X86Reg.RAX);
            a.jcc(Condition.E, loop);
            a.bind(out);
            a.mov(64, X86Reg.RAX, X86Address.of(X86Reg.RSP));
            a.add(64, X86Reg.RSP, frame);
            a.bind(done);
        }

        /**
         * Legacy packet loads (RFC 9669 5.5): a big-endian load at {@code imm} (abs) or
         * {@code (s32)(src + imm)} (ind) from the packet the context records; outside it the
         * program ends with r0 = 0.
         */
        private void packetLoad(Insn.PacketLoad p) {
            usesPacketFail = true;
            int size = p.size().bytes();
            if (p.indirect()) {
                a.mov(32, SCRATCH3, reg(p.src()));
                a.add(32, SCRATCH3, p.imm() & 0xffff_ffffL);
                a.movsx(64, 32, SCRATCH3, SCRATCH3);
            } else {
                a.mov(64, SCRATCH3, p.imm());
            }
            a.test(64, SCRATCH3, SCRATCH3);
            a.jcc(Condition.S, packetFail);
            a.mov(64, SCRATCH1, X86Address.of(CONTEXT, RunContext.PKT_START));
            a.mov(64, SCRATCH2, X86Address.of(CONTEXT, RunContext.PKT_END));
            a.sub(64, SCRATCH2, SCRATCH1);
            a.sub(64, SCRATCH2, size);
            a.jcc(Condition.L, packetFail);         // the packet is shorter than one load
            a.cmp(64, SCRATCH3, SCRATCH2);
            a.jcc(Condition.G, packetFail);         // off + size > len
            a.add(64, SCRATCH3, SCRATCH1);
            X86Address m = X86Address.of(SCRATCH3);
            switch (p.size()) {
                case B -> a.movzx(8, X86Reg.RAX, m);
                case H -> {
                    a.movzx(16, X86Reg.RAX, m);
                    a.rol(16, X86Reg.RAX, 8);
                    a.movzx(16, X86Reg.RAX, X86Reg.RAX);
                }
                case W -> {
                    a.mov(32, X86Reg.RAX, m);
                    a.bswap(32, X86Reg.RAX);
                }
                case DW -> throw new IllegalStateException("no legacy double-word packet load");
            }
        }

        private static int bits(Width w) {
            return w == Width.W64 ? 64 : 32;
        }

        private static X86Reg reg(Reg r) {
            return X86Registers.of(r);
        }

        private void alu(int pc, Insn.Alu alu) {
            int size = bits(alu.width());
            X86Reg d = reg(alu.dst());
            switch (alu.op()) {
                case ADD, SUB, OR, AND, XOR, MUL -> {
                    X86Reg s;
                    if (alu.src() instanceof Imm imm) {
                        if (alu.op() != AluOp.MUL) {
                            group1(alu.op(), size, d, imm.value());
                        } else {
                            a.imul(size, d, d, imm.value()); // the three-operand form: no scratch
                        }
                        return;
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
                        // the shortest form of the 64-bit value: the 32-bit mov zero-extends, xor for 0
                        loadImm64(d, size == 64 ? (long) imm.value() : imm.value() & 0xffff_ffffL);
                    } else {
                        a.mov(size, d, reg((Reg) alu.src())); // the 32-bit form zero-extends, even onto itself
                    }
                }
                case LSH, RSH, ARSH -> shift(alu.op(), size, d, alu.src());
                case DIV, MOD, SDIV, SMOD -> {
                    Long divisor = switch (alu.src()) {
                        case Imm imm -> (long) imm.value();
                        case Reg r -> verified.facts(pc) == null ? null : verified.facts(pc).divisor();
                    };
                    if (divisor == null || !divideByConstant(alu.op(), size, d, divisor)) {
                        divMod(alu.op(), size, d, alu.src(), divisor);
                    }
                }
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
        /**
         * Unsigned division and modulo by a power of two known at compile time (an immediate, or
         * a register the verifier proved constant) as a shift or a mask. {@return whether it
         * emitted the operation}
         */
        private boolean divideByConstant(AluOp op, int size, X86Reg d, long divisor) {
            long v = size == 64 ? divisor : divisor & 0xffff_ffffL;
            if ((op != AluOp.DIV && op != AluOp.MOD) || v == 0 || Long.bitCount(v) != 1) {
                return false;
            }
            int k = Long.numberOfTrailingZeros(v);
            if (op == AluOp.DIV) {
                if (k == 0) {
                    if (size == 32) {
                        a.mov(32, d, d);
                    }
                } else {
                    a.shr(size, d, k);
                }
            } else if (k < 32) {
                a.and(size, d, (1L << k) - 1); // positive: the same as an imm32 sign-extended
            } else {
                loadImm64(SCRATCH3, (1L << k) - 1);
                a.and(64, d, SCRATCH3);
            }
            return true;
        }

        private void divMod(AluOp op, int size, X86Reg d, Operand src, Long knownDivisor) {
            if (src instanceof Imm imm) {
                a.mov(64, SCRATCH3, imm.value()); // sign-extended; a 32-bit op reads the low half
            } else {
                a.mov(64, SCRATCH3, reg((Reg) src));
            }
            boolean signed = op == AluOp.SDIV || op == AluOp.SMOD;
            boolean quotient = op == AluOp.DIV || op == AluOp.SDIV;
            Label nonZero = new Label();
            Label done = new Label();
            // With the divisor known at compile time, the checks it cannot need are left out.
            long known = knownDivisor == null ? 0 : size == 64 ? knownDivisor : (long) (int) (long) knownDivisor;
            boolean mayBeZero = knownDivisor == null || known == 0;
            boolean mayBeMinusOne = knownDivisor == null || known == -1;
            if (mayBeZero) {
                a.test(size, SCRATCH3, SCRATCH3);
                a.jccShort(Condition.NE, nonZero);
                if (quotient) {
                    a.xor(32, d, d);
                } else if (size == 32) {
                    a.mov(32, d, d);
                }
                a.jmpShort(done);
            }
            a.bind(nonZero);
            if (signed && mayBeMinusOne) {
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
        private void endian(int pc, Insn.Endian e) {
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
                    if (!fitsIn(pc, e.dst(), 0xffffL)) {
                        a.movzx(16, d, d); // nothing to clear when the IR proves bits 16..63 zero (a 16-bit load's)
                    }
                }
                case 32 -> {
                    if (swap) {
                        a.bswap(32, d);
                    } else if (!upperHalfZero(pc, e.dst())) {
                        a.mov(32, d, d); // le32 only zero-extends: nothing to do when the IR proves it done
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
            if (v == 0) {
                a.xor(32, d, d); // BPF keeps no flags between instructions
            } else if ((v >>> 31) == 0) {
                a.mov(32, d, v);
            } else if (v == (int) v) {
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
            Facts f = verified.facts(pc);
            if (f != null && f.branch() != null) {
                // The verifier decided it: every path takes it, or none does.
                if (f.branch()) {
                    jump(null, pc, pc + 1 + j.offset());
                }
                return;
            }
            Boolean nullTest = f == null ? null : f.nullTest(j);
            if (nullTest != null) {
                if (nullTest) {
                    jump(null, pc, pc + 1 + j.offset());
                }
                return;
            }
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
                    } else if (v == 0) {
                        a.test(size, d, d); // the flags of cmp d, 0: CF and OF clear, ZF and SF of d
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
            boolean near = !inlining && prevStart != null && isByte(prevStart[target] - prevEnd[pc]);
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
