package dev.prism.arm64;

import static dev.prism.arm64.A64Registers.CONTEXT;
import static dev.prism.arm64.A64Registers.TMP1;
import static dev.prism.arm64.A64Registers.TMP2;
import static dev.prism.arm64.A64Registers.TMP3;
import static dev.prism.arm64.A64Registers.TMP4;

import dev.prism.arm64.A64Assembler.Label;
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
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Helpers;
import dev.prism.runtime.jit.RunContext;
import dev.prism.runtime.maps.LpmTrieMap;
import dev.prism.verifier.Facts;
import dev.prism.verifier.VerifiedProgram;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;

/**
 * Lowers a verified BPF program ({@code raw} or {@code xdp}) to AArch64 machine code (AAPCS64),
 * one case per instruction family, with the register map of {@link A64Registers}. It uses the
 * IR's facts as the x86-64 JIT does: branches the verifier decided are lowered as an
 * unconditional branch or nothing, unsigned division by a power of two it proved constant as a
 * shift or mask, and map operations on the map it pinned in a register are inlined. Memory
 * accesses are emitted without checks: the verifier proved them (DESIGN.md, "The IR").
 *
 * <p><b>Entry.</b> {@code long entry(long r1, long r2, long context)}: r1 and r2 are the
 * program's first two registers (raw: memory address and length; xdp: the host-layout context),
 * {@code context} the {@link RunContext run context}, kept in x26 throughout. On return x0 is
 * r0; a nonzero status word in the context means the run trapped. The prologue stores the top
 * of the entry's BPF frame as the context's entry sp, so Java helpers given a stack pointer know
 * the native stack; exits and traps unwind through the frame record, x29, which nothing
 * below the prologue changes.
 *
 * <p><b>Stack</b> of the entry function, after the prologue (addresses grow upwards; sp stays
 * 16-byte aligned throughout, as AAPCS64 requires):
 * <pre>
 *   [sp at entry]
 *   [x29]            saved x29, x30           ← x29 (a frame record, for debuggers)
 *   [x29 - 16]       saved x19, x20           (r6, r7 of the caller of the entry: AAPCS64)
 *   [x29 - 32]       saved x21, x22
 *   [x29 - 48]       saved x25, x26           ← x25 (r10 of the entry)
 *   [x25 - 512, x25) the entry's 512-byte BPF stack; sp = x25 - 512
 * </pre>
 * A local call is a {@code bl} to a per-callee stub, which counts the depth (the ninth frame
 * stores its return address, x30, in the context's trap info and unwinds to the entry's
 * epilogue), saves x30 and r6-r10, and opens a fresh frame:
 * <pre>
 *                    saved x30, x25           (return address into the caller, its r10)
 *                    saved x19, x20
 *                    saved x21, x22           ← x25 (r10 of the callee)
 *   [x25 - 512, x25) the callee's BPF stack; sp = x25 - 512
 * </pre>
 * A local call of a bare leaf of at most {@link A64Inline#INLINE_SLOTS} slots (no r6-r9 written,
 * no r10, no calls) is instead a copy of the leaf's body, which needs none of that.
 *
 * Every {@code exit} is one {@code b} to a shared epilogue after the call stubs, as in Linux's
 * arm64 JIT: the entry's, a callee's (the same for all callees: it undoes what the stub did),
 * or, for an entry function that also runs above the entry frame (called locally, or entered
 * by a tail call from a subprogram), a test of the depth that picks one of the two.
 *
 * <p><b>Helpers.</b> BPF r1-r5 are x0-x4, the AAPCS64 argument registers, so a helper is a
 * {@code blr} through its slot in the context's table (rebindable: FFM upcall stubs on an arm64
 * host, the emulator's helper traps elsewhere) with the run context in x5, the sixth argument,
 * by which the JVM-wide upcall stubs find their instance; then r0 = x0 and a test of the status
 * word.
 * Inlined instead: {@code bpf_map_lookup_elem} on an ARRAY map the verifier pins (address
 * arithmetic, as Linux's array_map_gen_lookup), {@code bpf_tail_call} (a branch to the target's
 * first instruction in the current frame), {@code bpf_loop} (a loop of {@code blr}s to the
 * callback), {@code bpf_csum_diff} (a loop over the two buffers) and {@code bpf_map_lookup_elem}
 * on a hash map or an LPM_TRIE the verifier pins (a call of generated code, {@link A64MapCode},
 * {@link A64LpmCode}).
 *
 * <p><b>Branches</b> (STYLE.md): instructions are fixed-width, but a conditional jump whose
 * target is out of b.cond's ±1 MiB becomes {@code b.!cond +8; b target}, and that changes the
 * offsets. The first pass makes every conditional jump far; each later pass makes near those
 * the previous pass's offsets allow. Conditional branches to the shared exits (traps, a failed
 * packet load, the ninth frame) are near once the previous pass's whole code fits b.cond's range. Code only shrinks from
 * pass to pass, so a distance that fit keeps fitting and the set of near branches only grows;
 * the pass that reproduces the previous one's offsets exactly is the check that nothing moved
 * (the assembler's range checks run too). Output is deterministic. {@code lddw code} is an
 * {@code adr}, which reaches ±1 MiB: a larger program taking a code address is refused.
 *
 * <p><b>Atomics</b> use FEAT_LSE (ARMv8.1) with acquire-release ordering by default; with
 * {@link Options#lse()} false, an ldaxr/stlxr loop that ARMv8.0 cores run.
 *
 * <p>{@link #compile(Program, Options)} lowers a program without the verifier's facts, for
 * testing the lowering itself: nothing is inlined or decided then, and tail calls (which need
 * the pinned PROG_ARRAY) are refused.
 */
public final class A64Jit {
    /** BPF stack bytes per frame (RFC 9669, Linux MAX_BPF_STACK). */
    public static final int FRAME_SIZE = 512;
    /** Frames allowed at once, the entry included (Linux MAX_CALL_FRAMES). */
    public static final int MAX_FRAMES = 8;
    /** Linux MAX_TAIL_CALL_CNT: the 34th tail call of a run falls through. */
    public static final int MAX_TAIL_CALLS = 33;
    /** bpf_loop's iteration limit (BPF_MAX_LOOPS). */
    public static final long MAX_LOOPS = 1L << 23;
    /** How far b.cond reaches, in bytes either way (imm19 words, ARM ARM C6.2 "B.cond"). */
    public static final int COND_BRANCH_RANGE = 1 << 20;
    private static final int MAX_PASSES = 32;
    private static final long EINVAL = -22;
    private static final long E2BIG = -7;
    private static final long ENOENT = -2;
    /** Bytes the prologue pushes below the frame record: x19-x22, x25, x26. */
    private static final int SAVED_BELOW_FP = 48;

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
     * @param stubsEnd  native offset just past the last call stub (generated leaf functions follow)
     * @param leavesEnd native offset just past the generated leaf functions (map lookups called
     *                  with {@code bl}, which leave x30 alone); the shared exits follow
     * @param tailEntry native offset where a tail call into this program lands (its first instruction)
     * @param passes    lowering passes it took, the checking pass included
     * @param upcalls   helper ids called through the context's table (the others are inlined)
     */
    public record Compiled(Program program, Options options, byte[] code, int[] insnStart, int[] insnEnd,
                           int[] stubStart, int stubsEnd, int leavesEnd, int tailEntry, int passes, Set<Integer> upcalls)
            implements dev.prism.runtime.jit.CompiledCode {
        /** {@return whether {@code offset} is in a generated leaf function, whose caller x30 names} */
        public boolean inLeaf(long offset) {
            return offset >= stubsEnd && offset < leavesEnd;
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

        /** {@return the number of BPF instructions (lddw counts once)} */
        public int instructions() {
            int k = 0;
            for (int s : insnStart) {
                k += s >= 0 ? 1 : 0;
            }
            return k;
        }

        /** {@return each BPF instruction followed by its native instruction words in hex} */
        public String listing() {
            return A64Listing.hex(this);
        }
    }

    /** {@return the machine code of {@code verified}, with LSE atomics} */
    public static Compiled compile(VerifiedProgram verified) {
        return compile(verified, Options.DEFAULT);
    }

    /**
     * {@return the machine code of {@code verified}}
     *
     * @throws TargetException naming the pc when the program uses what arm64 does not lower
     */
    public static Compiled compile(VerifiedProgram verified, Options options) {
        // The one source of truth for refusals (A64Target.check): same words as the planner's.
        dev.prism.runtime.jit.MachineCode.check(verified).orThrow();
        return compile(verified.normalized(), verified, options);
    }

    /** {@return the machine code of {@code program}, unverified, with LSE atomics} */
    public static Compiled compile(Program program) {
        return compile(program, Options.DEFAULT);
    }

    /**
     * {@return the machine code of {@code program}, lowered without the verifier's facts}: for
     * testing the lowering; the SPI compiles only verified programs
     *
     * @throws TargetException naming the pc when the program uses what is not lowered or is
     *                         malformed (a jump outside the program, a write to r10)
     */
    public static Compiled compile(Program program, Options options) {
        return compile(program, null, options);
    }

    private static Compiled compile(Program program, VerifiedProgram verified, Options options) {
        if (program.type() != ProgramType.RAW && program.type() != ProgramType.XDP && program.type() != ProgramType.TC) {
            throw TargetException.unsupported("program type " + program.type().id() + " on arm64 (raw, xdp and tc are)");
        }
        check(program);
        int[] prevStart = null;
        int[] prevEnd = null;
        int prevSize = -1;
        for (int pass = 1; pass <= MAX_PASSES; pass++) {
            Pass p = new Pass(verified, program, options, prevStart, prevSize);
            try {
                p.lower();
            } catch (IllegalArgumentException e) {
                // Conditional jumps are sized to fit; only a b, bl or adr can be out of range.
                if (e.getMessage() != null && e.getMessage().startsWith("branch offset out of")) {
                    throw new TargetException("the program is too large for arm64 branches: " + e.getMessage(), e);
                }
                throw new IllegalStateException("arm64 lowering failed: " + e.getMessage(), e);
            }
            if (prevStart != null && Arrays.equals(prevStart, p.start) && Arrays.equals(prevEnd, p.end)) {
                return new Compiled(program, options, p.a.bytes(), p.start, p.end, p.stubStart, p.stubsEnd, p.leavesEnd,
                        p.start[0], pass, Set.copyOf(p.upcalls));
            }
            prevStart = p.start;
            prevEnd = p.end;
            prevSize = p.a.position();
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
                case Insn.Call c when c.kind() == CallKind.HELPER_BTF && dev.prism.runtime.Kfuncs.byId(c.imm()).isPresent() ->
                        null; // a kfunc Prism implements: called through its own helper slot
                case Insn.Call c when c.kind() == CallKind.HELPER_BTF ->
                        throw TargetException.unsupported(pc, "call btf " + c.imm() + " (kernel functions) on arm64");
                case Insn.Call c when Helpers.proto(c.imm()).isEmpty() || c.imm() < 0 || c.imm() >= RunContext.HELPER_SLOTS ->
                        throw TargetException.unsupported(pc, Helpers.describeUnsupported(c.imm()) + " on arm64");
                case Insn.Call c -> null;
                case Insn.LoadImm64 l when l.kind() == LoadImm64Kind.MAP_BY_FD || l.kind() == LoadImm64Kind.MAP_VALUE_BY_FD
                        || l.kind() == LoadImm64Kind.VARIABLE_ADDR ->
                        throw TargetException.unsupported(pc, "lddw " + l.kind().keyword() + " on arm64 (maps by index are)");
                case Insn.LoadImm64 l when l.kind() == LoadImm64Kind.CODE_ADDR -> l.dst() == Reg.R10 ? readOnly(l.dst())
                        : target(program, pc, l.imm(), "code address");
                case Insn.CallX x -> null;
                case Insn.PacketLoad l -> null;
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

        private final VerifiedProgram verified;
        private final Program program;
        private final Options options;
        private final int[] prevStart;
        /** The previous pass's code size, -1 in the first pass. */
        private final int prevSize;
        private final A64Assembler a = new A64Assembler();
        private final int n;
        private final int[] start;
        private final int[] end;
        private final int[] stubStart;
        private int stubsEnd;
        private int leavesEnd;
        /** Generated hash lookups by map index, emitted after the call stubs. */
        private final java.util.TreeMap<Integer, Label> hashLookups = new java.util.TreeMap<>();
        private final java.util.TreeMap<Integer, Label> lpmLookups = new java.util.TreeMap<>();
        /** Each slot's label; while a function is inlined, a copy with fresh labels for its slots. */
        private Label[] labels;
        /** Whether the code being lowered is an inlined copy, whose offsets the previous pass did not record. */
        private boolean inlining;
        /** Whether this program's bare leaves may be inlined ({@link #inlineable}), once known. */
        private Boolean inlines;
        private final Label[] stubs;
        private final TreeSet<Integer> functionStarts = new TreeSet<>();
        private final boolean tailCallable;
        private final Set<Integer> upcalls = new TreeSet<>();
        private final Label depthError = new Label();
        /** r0 = 0 and the entry's epilogue: traps and failed legacy packet loads. */
        private final Label zeroExit = new Label();
        /** The entry's epilogue. */
        private final Label mainExit = new Label();
        /** A callee's epilogue (any callee: it restores what the call stub saved). */
        private final Label subExit = new Label();
        private boolean usesSubExit;
        /** The epilogue the depth picks. */
        private final Label anyExit = new Label();
        private boolean usesAnyExit;
        private final Label mapMismatch = new Label();
        private boolean usesMapMismatch;

        Pass(VerifiedProgram verified, Program program, Options options, int[] prevStart, int prevSize) {
            this.verified = verified;
            this.program = program;
            this.options = options;
            this.prevStart = prevStart;
            this.prevSize = prevSize;
            this.n = program.length();
            this.start = new int[n];
            this.end = new int[n];
            this.stubStart = new int[n];
            this.labels = new Label[n];
            this.stubs = new Label[n];
            this.tailCallable = program.maps().stream().anyMatch(m -> m.type() == MapType.PROG_ARRAY);
            Arrays.fill(start, -1);
            Arrays.fill(end, -1);
            Arrays.fill(stubStart, -1);
            functionStarts.add(0);
            for (int pc = 0; pc < n; pc++) {
                labels[pc] = new Label();
                long t = switch (program.at(pc)) {
                    case Insn.Call c when c.kind() == CallKind.LOCAL -> targetOf(pc, c.imm());
                    case Insn.LoadImm64 l when l.kind() == LoadImm64Kind.CODE_ADDR -> targetOf(pc, l.imm());
                    case null, default -> -1;
                };
                if (t >= 0) {
                    functionStarts.add((int) t);
                    if (stubs[(int) t] == null) {
                        stubs[(int) t] = new Label();
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
            hashLookups.forEach((index, label) -> {
                a.bind(label);
                A64MapCode.emitLookup(a, dev.prism.runtime.maps.HashLayout.of(program.maps().get(index), 1), options.lse());
            });
            lpmLookups.forEach((index, label) -> {
                MapDef m = program.maps().get(index);
                a.bind(label);
                A64LpmCode.emitLookup(a, m.keySize() - 4, (m.valueSize() + 7) & ~7);
            });
            leavesEnd = a.position();
            // The shared exits (Linux's arm64 JIT has one epilogue too): every BPF exit is one b.
            if (usesAnyExit) {
                // The entry function also runs above the entry frame (a local call to pc 0, a
                // tail call from a subprogram): the depth picks the epilogue.
                a.bind(anyExit);
                a.ldr(64, TMP1, CONTEXT, RunContext.DEPTH);
                a.cbz(64, TMP1, mainExit);
            }
            if (usesAnyExit || usesSubExit) {
                a.bind(subExit);
                subEpilogue();
            }
            if (usesMapMismatch) {
                a.bind(mapMismatch);
                a.movImm(64, TMP1, RunContext.STATUS_MAP_MISMATCH);
                a.str(64, TMP1, CONTEXT, RunContext.STATUS);
                a.b(zeroExit);
            }
            a.bind(depthError);
            // The ninth frame: report the return address of its call, unwind to the entry.
            a.str(64, A64Reg.LR, CONTEXT, RunContext.TRAP_INFO);
            a.movImm(64, TMP1, RunContext.STATUS_CALL_DEPTH);
            a.str(64, TMP1, CONTEXT, RunContext.STATUS);
            // Traps, and (RFC 9669 5.5) a legacy packet load outside the packet: r0 = 0, from any depth.
            a.bind(zeroExit);
            a.mov(64, R0, A64Reg.XZR);
            a.bind(mainExit);
            mainEpilogue();
        }

        /** AAPCS64 entry: a frame record, callee-saved registers, the run context, the entry frame (see the class comment). */
        private void prologue() {
            a.stp(64, A64Reg.FP, A64Reg.LR, A64Reg.SP, -16, A64Index.PRE);
            a.mov(64, A64Reg.FP, A64Reg.SP);
            a.stp(64, A64Reg.X19, A64Reg.X20, A64Reg.SP, -16, A64Index.PRE);
            a.stp(64, A64Reg.X21, A64Reg.X22, A64Reg.SP, -16, A64Index.PRE);
            a.stp(64, A64Reg.X25, A64Reg.X26, A64Reg.SP, -16, A64Index.PRE);
            a.mov(64, CONTEXT, A64Reg.X2);
            a.str(64, A64Reg.XZR, CONTEXT, RunContext.DEPTH);
            if (tailCallable) {
                a.str(64, A64Reg.XZR, CONTEXT, RunContext.TAIL_CALLS);
            }
            a.mov(64, R10, A64Reg.SP);
            a.str(64, R10, CONTEXT, RunContext.ENTRY_SP);
            a.sub(64, A64Reg.SP, A64Reg.SP, FRAME_SIZE);
            if (verified == null) {
                // Unverified code (tests of the lowering) may read registers it never wrote: r0
                // and r3-r9 start at 0, as in the interpreter. The verifier proves no such read.
                for (Reg r : new Reg[] {Reg.R0, Reg.R3, Reg.R4, Reg.R5, Reg.R6, Reg.R7, Reg.R8, Reg.R9}) {
                    a.mov(64, A64Registers.of(r), A64Reg.XZR);
                }
            }
        }

        /** The entry's return, from any depth: sp back to the saved registers below the frame record. */
        private void mainEpilogue() {
            a.sub(64, A64Reg.SP, A64Reg.FP, SAVED_BELOW_FP);
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
            a.ldr(64, TMP1, CONTEXT, RunContext.DEPTH);
            a.add(64, TMP1, TMP1, 1);
            a.cmp(64, TMP1, MAX_FRAMES);
            exitBranch(A64Cond.HS, depthError);
            a.str(64, TMP1, CONTEXT, RunContext.DEPTH);
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
            a.ldr(64, TMP1, CONTEXT, RunContext.DEPTH);
            a.sub(64, TMP1, TMP1, 1);
            a.str(64, TMP1, CONTEXT, RunContext.DEPTH);
            a.ret();
        }

        private void lower(int pc, Insn insn) {
            switch (insn) {
                case Insn.Alu alu -> alu(pc, alu);
                case Insn.Neg g -> a.neg(bits(g.width()), reg(g.dst()), reg(g.dst()));
                case Insn.MovSx m -> movsx(m);
                case Insn.Endian e -> endian(e);
                case Insn.LoadImm64 l -> loadImm64(pc, l);
                case Insn.Load l -> load(l);
                case Insn.Store s -> store(s);
                case Insn.Atomic at -> atomic(at);
                case Insn.Ja j -> a.b(labels[(int) targetOf(pc, j.offset())]);
                case Insn.Jump j -> condJump(pc, j);
                case Insn.Call c when c.kind() == CallKind.LOCAL -> {
                    int t = (int) targetOf(pc, c.imm());
                    if (inlineable(t)) {
                        inline(t);
                    } else {
                        a.bl(stubs[t]);
                    }
                }
                case Insn.Call c when c.kind() == CallKind.HELPER_BTF -> callHelper(pc, dev.prism.runtime.Kfuncs.byId(c.imm()).orElseThrow().slot());
                case Insn.Call c -> helper(pc, c.imm());
                case Insn.CallX x -> a.blr(reg(x.dst()));
                case Insn.Exit x -> exit(pc);
                case Insn.PacketLoad l -> packetLoad(l);
            }
        }

        /**
         * {@return whether a call of the function at {@code t} is lowered as a copy of its body}
         * ({@link A64Inline}): only with the verifier's bound on the frames, and as on x86-64 not
         * where tail calls or callx make the frames dynamic
         */
        private boolean inlineable(int t) {
            if (inlines == null) {
                boolean callx = false;
                for (int pc = 0; pc < n; pc++) {
                    callx |= program.at(pc) instanceof Insn.CallX;
                }
                inlines = verified != null && !tailCallable && !callx;
            }
            return inlines && A64Inline.inlineable(program, t, functionEnd(t));
        }

        /** {@return one past the last slot of the function starting at {@code t}} */
        private int functionEnd(int t) {
            Integer next = functionStarts.higher(t);
            return next == null ? n : next;
        }

        /**
         * A copy of the bare leaf at {@code t} in place of its {@code bl}: its slots get fresh
         * labels, each exit but a final one branches past the copy. Nothing of the call stub or
         * the callee epilogue is needed ({@link A64Inline}); r1-r5 are dead after a call. Its
         * own code stays for callbacks (bpf_loop takes its stub's address). The verifier's facts
         * at a slot hold on every path through it, so from every call site. Its conditional jumps
         * take the short form only when {@link #small()}, as {@link #near} says.
         */
        private void inline(int t) {
            int end = functionEnd(t);
            int last = end - 1;
            while (program.at(last) == null) {
                last--;
            }
            Label[] outer = labels;
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
                            a.b(done);
                        }
                    } else {
                        lower(pc, insn);
                    }
                }
            } finally {
                labels = outer;
                inlining = false;
            }
            a.bind(done);
        }

        /**
         * Exit of the function holding {@code pc}: a branch to the shared epilogue. When local
         * calls target pc 0, or a tail call may enter this program from a subprogram, the entry
         * function's code also runs above the entry frame: its exits then go where the depth says.
         */
        private void exit(int pc) {
            if (functionStarts.floor(pc) != 0) {
                usesSubExit = true;
                a.b(subExit);
            } else if (stubs[0] == null && !tailCallable) {
                a.b(mainExit);
            } else {
                usesAnyExit = true;
                a.b(anyExit);
            }
        }

        /**
         * {@return whether a b.cond or cbnz anywhere reaches anywhere}: the previous pass's code
         * fit b.cond's range, and code only shrinks
         */
        private boolean small() {
            return prevSize >= 0 && prevSize <= options.condBranchRange();
        }

        /** A conditional branch to a shared exit: b.cond when {@link #small()}, else b.!cond over a b. */
        private void exitBranch(A64Cond cc, Label target) {
            if (small()) {
                a.b(cc, target);
            } else {
                Label skip = new Label();
                a.b(cc.invert(), skip);
                a.b(target);
                a.bind(skip);
            }
        }

        /** cbnz to a shared exit: itself when {@link #small()}, else cbz over a b. */
        private void exitIfNonZero(A64Reg r, Label target) {
            if (small()) {
                a.cbnz(64, r, target);
            } else {
                Label skip = new Label();
                a.cbz(64, r, skip);
                a.b(target);
                a.bind(skip);
            }
        }

        private void loadImm64(int pc, Insn.LoadImm64 l) {
            A64Reg d = reg(l.dst());
            switch (l.kind()) {
                case IMM64 -> a.movImm(64, d, l.value());
                case MAP_BY_IDX -> access(Access.LDR_X, d, CONTEXT, RunContext.mapSlot(l.imm()));
                case MAP_VALUE_BY_IDX -> {
                    // ARRAY only (the verifier's rule): element 0 is the handle itself.
                    access(Access.LDR_X, d, CONTEXT, RunContext.mapSlot(l.imm()));
                    addConst(64, d, d, l.nextImm());
                }
                case CODE_ADDR -> a.adr(d, stubs[(int) targetOf(pc, l.imm())]);
                case MAP_BY_FD, MAP_VALUE_BY_FD, VARIABLE_ADDR -> throw new IllegalStateException("refused by check()");
            }
        }

        /** {@return the map the verifier pinned in {@code r} at {@code pc}, or null} */
        private MapDef pinnedMap(int pc, Reg r) {
            Facts f = facts(pc);
            if (f == null) {
                return null;
            }
            Facts.Register v = f.registers().get(r.n());
            return v.kind() == Facts.Kind.MAP && v.map() >= 0 ? program.maps().get(v.map()) : null;
        }

        private int pinnedIndex(int pc, Reg r) {
            return facts(pc).registers().get(r.n()).map();
        }

        private Facts facts(int pc) {
            return verified == null ? null : verified.facts(pc);
        }

        private void helper(int pc, int id) {
            MapDef map = pinnedMap(pc, id == Helpers.TAIL_CALL ? Reg.R2 : Reg.R1);
            if (id == Helpers.TAIL_CALL) {
                tailCall(pc, map);
            } else if (id == Helpers.LOOP) {
                bpfLoop();
            } else if (id == Helpers.FOR_EACH_MAP_ELEM) {
                forEachMapElem(pc);
            } else if (id == Helpers.CSUM_DIFF) {
                csumDiff();
            } else if (id == Helpers.MAP_LOOKUP_ELEM && map != null
                    && (map.type() == MapType.ARRAY || map.type() == MapType.PERCPU_ARRAY)) {
                arrayLookup(pc, pinnedIndex(pc, Reg.R1), map);
            } else if (id == Helpers.MAP_LOOKUP_ELEM && map != null && map.type() == MapType.ARRAY_OF_MAPS) {
                arrayOfMapsLookup(pc, pinnedIndex(pc, Reg.R1), map);
            } else if (id == Helpers.MAP_LOOKUP_ELEM && map != null && (map.type() == MapType.HASH
                    || map.type() == MapType.LRU_HASH || map.type() == MapType.PERCPU_HASH)) {
                generatedLookup(pc, pinnedIndex(pc, Reg.R1), hashLookups, true);
            } else if (id == Helpers.MAP_LOOKUP_ELEM && map != null && map.type() == MapType.LPM_TRIE
                    && map.keySize() - 4 <= LpmTrieMap.NATIVE_MAX_DATA && map.maxEntries() <= LpmTrieMap.NATIVE_MAX_ENTRIES) {
                generatedLookup(pc, pinnedIndex(pc, Reg.R1), lpmLookups, false);
            } else {
                callHelper(pc, id);
            }
        }

        /**
         * bpf_map_lookup_elem on a hash map or an LPM_TRIE (data of at most 8 bytes) the verifier
         * pinned: a {@code bl} to the map's generated lookup ({@link A64MapCode},
         * {@link A64LpmCode}, emitted once per map after the call stubs), which takes the map in
         * x0 and the key in x1, where r1 and r2 already are; the hash lookup also takes CPU 0 in
         * x2. The handle is compared with the pinned map's first, as for arrays.
         */
        private void generatedLookup(int pc, int index, java.util.Map<Integer, Label> functions, boolean cpuArgument) {
            Label other = new Label();
            Label done = new Label();
            access(Access.LDR_X, TMP3, CONTEXT, RunContext.mapSlot(index));
            a.cmp(64, A64Registers.of(Reg.R1), TMP3);
            a.b(A64Cond.NE, other);
            if (cpuArgument) {
                a.mov(64, A64Reg.X2, A64Reg.XZR);
            }
            a.bl(functions.computeIfAbsent(index, k -> new Label()));
            a.mov(64, R0, A64Reg.X0);
            a.b(done);
            a.bind(other);
            mismatch(pc);
            a.bind(done);
        }

        /**
         * A helper through its table slot, its pc recorded for a trap message; r0 is x0 after it;
         * a nonzero status afterwards (a Java helper failed) ends the run.
         */
        private void callHelper(int pc, int id) {
            upcalls.add(id);
            a.movImm(64, TMP1, pc);
            a.str(64, TMP1, CONTEXT, RunContext.TRAP_INFO);
            a.ldr(64, TMP1, CONTEXT, RunContext.helperSlot(id));
            a.mov(64, A64Reg.X5, CONTEXT); // sixth argument: how an upcall stub finds its instance
            a.blr(TMP1);
            a.mov(64, R0, A64Reg.X0);
            a.ldr(64, TMP1, CONTEXT, RunContext.STATUS);
            exitIfNonZero(TMP1, zeroExit);
        }

        /**
         * bpf_map_lookup_elem on an ARRAY the verifier pinned: {@code i = *(u32 *)key;
         * r0 = i < max_entries ? element0 + i * stride : 0}. The handle is compared first, a
         * cheap check of the IR's claim; another map traps.
         */
        private void arrayLookup(int pc, int index, MapDef map) {
            Label other = new Label();
            Label none = new Label();
            Label done = new Label();
            A64Reg r1 = A64Registers.of(Reg.R1);
            A64Reg r2 = A64Registers.of(Reg.R2);
            access(Access.LDR_X, TMP3, CONTEXT, RunContext.mapSlot(index));
            a.cmp(64, r1, TMP3);
            a.b(A64Cond.NE, other);
            Long key = facts(pc).key();
            if (key != null) {
                // the same key on every path (Facts.key): the element's address, or null, is known now
                long offset = (long) ((map.valueSize() + 7) & ~7) * key;
                if (Long.compareUnsigned(key, map.maxEntries() & 0xffff_ffffL) >= 0) {
                    a.mov(64, R0, A64Reg.XZR);
                } else {
                    a.movImm(64, R0, offset);
                    a.add(64, R0, TMP3, R0);
                }
                a.b(done);
                a.bind(other);
                mismatch(pc);
                a.bind(done);
                return;
            }
            a.ldr(32, R0, r2, 0);
            compareImm(32, R0, map.maxEntries() & 0xffff_ffffL);
            a.b(A64Cond.HS, none);
            int stride = (map.valueSize() + 7) & ~7;
            if (Integer.bitCount(stride) == 1) {
                a.add(64, R0, TMP3, R0, A64Shift.LSL, Integer.numberOfTrailingZeros(stride));
            } else {
                a.movImm(64, TMP2, stride);
                a.madd(64, R0, R0, TMP2, TMP3);
            }
            a.b(done);
            a.bind(none);
            a.mov(64, R0, A64Reg.XZR);
            a.b(done);
            a.bind(other);
            mismatch(pc);
            a.bind(done);
        }

        /**
         * bpf_map_lookup_elem on an ARRAY_OF_MAPS the verifier pinned, as Linux's
         * array_of_map_gen_lookup: the slot's address as for an array (the handles are 8 bytes
         * apart, MapOfMaps), then the inner map's handle loaded from it, 0 for an empty slot.
         */
        private void arrayOfMapsLookup(int pc, int index, MapDef map) {
            Label none = new Label();
            arrayLookup(pc, index, map);
            a.cbz(64, R0, none);
            a.ldr(64, R0, R0, 0);
            a.bind(none);
        }

        /** Records {@code pc} and traps: the map in r1 is not the one the verifier pinned. */
        private void mismatch(int pc) {
            usesMapMismatch = true;
            a.movImm(64, TMP1, pc);
            a.str(64, TMP1, CONTEXT, RunContext.TRAP_INFO);
            a.b(mapMismatch);
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
            A64Reg r2 = A64Registers.of(Reg.R2);
            A64Reg r3 = A64Registers.of(Reg.R3);
            access(Access.LDR_X, TMP3, CONTEXT, RunContext.mapSlot(pinnedIndex(pc, Reg.R2)));
            a.cmp(64, r2, TMP3);
            a.b(A64Cond.NE, fail);
            a.mov(32, TMP2, r3);
            compareImm(64, TMP2, map.maxEntries() & 0xffff_ffffL);
            a.b(A64Cond.HS, fail);
            a.ldr(64, TMP4, CONTEXT, RunContext.TAIL_CALLS);
            a.cmp(64, TMP4, MAX_TAIL_CALLS);
            a.b(A64Cond.HS, fail);
            a.ldr(64, TMP3, TMP3, TMP2, true);
            a.cbz(64, TMP3, fail);
            a.add(64, TMP4, TMP4, 1);
            a.str(64, TMP4, CONTEXT, RunContext.TAIL_CALLS);
            a.sub(64, A64Reg.SP, R10, FRAME_SIZE);
            a.br(TMP3);
            a.bind(fail);
            a.movImm(64, R0, ENOENT);
            a.bind(done);
        }

        /**
         * bpf_loop(nr, callback, ctx, flags): flags must be 0 (-EINVAL), nr at most 2^23
         * (-E2BIG); the callback is called as a function (i, ctx) until it returns nonzero or nr
         * calls were made; r0 = the number of calls made. The loop state lives in callee-saved
         * registers no BPF register maps to (x23 i, x24 nr, x27 the callback, x28 ctx), which
         * callbacks and helpers preserve; their values are saved in four words below sp around
         * the loop (sp stays 16-byte aligned), so an iteration makes no memory round trip.
         */
        private void bpfLoop() {
            A64Reg nr = A64Registers.of(Reg.R1);
            A64Reg callback = A64Registers.of(Reg.R2);
            A64Reg ctx = A64Registers.of(Reg.R3);
            A64Reg flags = A64Registers.of(Reg.R4);
            A64Reg i = A64Reg.X23;
            A64Reg count = A64Reg.X24;
            A64Reg fn = A64Reg.X27;
            A64Reg arg = A64Reg.X28;
            Label flagsOk = new Label();
            Label countOk = new Label();
            Label loop = new Label();
            Label out = new Label();
            Label done = new Label();
            a.cbz(64, flags, flagsOk);
            a.movImm(64, R0, EINVAL);
            a.b(done);
            a.bind(flagsOk);
            a.mov(32, nr, nr);
            a.movImm(64, TMP1, MAX_LOOPS);
            a.cmp(64, nr, TMP1);
            a.b(A64Cond.LS, countOk);
            a.movImm(64, R0, E2BIG);
            a.b(done);
            a.bind(countOk);
            a.stp(64, i, count, A64Reg.SP, -32, A64Index.PRE);
            a.stp(64, fn, arg, A64Reg.SP, 16, A64Index.OFFSET);
            a.mov(64, count, nr);
            a.mov(64, fn, callback);
            a.mov(64, arg, ctx);
            a.mov(64, i, A64Reg.XZR);
            a.bind(loop);
            a.mov(64, R0, i);
            a.cmp(64, i, count);
            a.b(A64Cond.HS, out); // nr calls made: r0 = i = nr
            a.mov(64, A64Registers.of(Reg.R1), i);
            a.mov(64, A64Registers.of(Reg.R2), arg);
            a.blr(fn);
            a.add(64, i, i, 1);
            a.cbz(64, R0, loop);
            a.mov(64, R0, i);
            a.bind(out);
            a.ldp(64, fn, arg, A64Reg.SP, 16, A64Index.OFFSET);
            a.ldp(64, i, count, A64Reg.SP, 32, A64Index.POST);
            a.bind(done);
        }

        /**
         * bpf_for_each_map_elem(map, callback, ctx, flags), as x86-64 lowers it: flags must be
         * 0 (-EINVAL); the step upcall ({@link RunContext#FOR_EACH_STEP}) copies element i's key
         * into the key buffer and gives its value (0: no more elements); the callback is called
         * as a function (map, key, value, ctx) until it returns nonzero; r0 = the calls made.
         * <pre>
         *   [sp]       i (calls made)      [sp + 16]  callback
         *   [sp + 8]   ctx                 [sp + 24]  map
         *   [sp + 32]  key buffer, FOR_EACH_KEY_BYTES (sp stays 16-byte aligned)
         * </pre>
         */
        private void forEachMapElem(int pc) {
            int frame = 32 + RunContext.FOR_EACH_KEY_BYTES;
            Label flagsOk = new Label();
            Label loop = new Label();
            Label out = new Label();
            Label done = new Label();
            a.cbz(64, A64Registers.of(Reg.R4), flagsOk);
            a.movImm(64, R0, EINVAL);
            a.b(done);
            a.bind(flagsOk);
            a.sub(64, A64Reg.SP, A64Reg.SP, frame);
            a.stp(64, A64Reg.XZR, A64Registers.of(Reg.R3), A64Reg.SP, 0, A64Index.OFFSET);
            a.stp(64, A64Registers.of(Reg.R2), A64Registers.of(Reg.R1), A64Reg.SP, 16, A64Index.OFFSET);
            a.bind(loop);
            a.ldr(64, A64Registers.of(Reg.R1), A64Reg.SP, 24);
            a.ldr(64, A64Registers.of(Reg.R2), A64Reg.SP, 0);
            a.add(64, A64Registers.of(Reg.R3), A64Reg.SP, 32);
            callHelper(pc, RunContext.FOR_EACH_STEP);
            a.cbz(64, R0, out);
            a.mov(64, A64Registers.of(Reg.R3), R0);
            a.ldr(64, A64Registers.of(Reg.R1), A64Reg.SP, 24);
            a.add(64, A64Registers.of(Reg.R2), A64Reg.SP, 32);
            a.ldr(64, A64Registers.of(Reg.R4), A64Reg.SP, 8);
            a.ldr(64, TMP1, A64Reg.SP, 16);
            a.blr(TMP1);
            a.ldr(64, TMP1, A64Reg.SP, 0);
            a.add(64, TMP1, TMP1, 1);
            a.str(64, TMP1, A64Reg.SP, 0);
            a.cbz(64, R0, loop);
            a.bind(out);
            a.ldr(64, R0, A64Reg.SP, 0);
            a.add(64, A64Reg.SP, A64Reg.SP, frame);
            a.bind(done);
        }

        /**
         * bpf_csum_diff(from, from_size, to, to_size, seed) inline, as x86-64 has it: sizes
         * multiples of 4 and together at most 512 bytes (else -EINVAL); the sum of seed, the
         * complement of each 32-bit word of from and each word of to, folded to 16 bits as Linux
         * 6.x on x86-64 returns it. The verifier proved both buffers readable for their sizes.
         */
        private void csumDiff() {
            A64Reg from = A64Registers.of(Reg.R1);
            A64Reg fromSize = A64Registers.of(Reg.R2);
            A64Reg to = A64Registers.of(Reg.R3);
            A64Reg toSize = A64Registers.of(Reg.R4);
            A64Reg seed = A64Registers.of(Reg.R5);
            Label invalid = new Label();
            Label fromLoop = new Label();
            Label toPart = new Label();
            Label toLoop = new Label();
            Label fold = new Label();
            Label done = new Label();
            a.mov(32, fromSize, fromSize);
            a.mov(32, toSize, toSize);
            a.orr(64, TMP1, fromSize, toSize);
            a.tst(64, TMP1, 3);
            a.b(A64Cond.NE, invalid);
            a.add(64, TMP1, fromSize, toSize);
            a.cmp(64, TMP1, 512);
            a.b(A64Cond.HI, invalid);
            a.mov(32, R0, seed);
            a.cbz(64, fromSize, toPart);
            a.bind(fromLoop);
            a.ldr(32, TMP1, from, 0);
            a.mvn(32, TMP1, TMP1);
            a.add(64, R0, R0, TMP1);
            a.add(64, from, from, 4);
            a.subs(64, fromSize, fromSize, 4, false);
            a.b(A64Cond.NE, fromLoop);
            a.bind(toPart);
            a.cbz(64, toSize, fold);
            a.bind(toLoop);
            a.ldr(32, TMP1, to, 0);
            a.add(64, R0, R0, TMP1);
            a.add(64, to, to, 4);
            a.subs(64, toSize, toSize, 4, false);
            a.b(A64Cond.NE, toLoop);
            a.bind(fold);
            a.lsr(64, TMP1, R0, 16);
            a.cbz(64, TMP1, done);
            a.and(64, R0, R0, 0xffffL);
            a.add(64, R0, R0, TMP1);
            a.b(fold);
            a.bind(invalid);
            a.movImm(64, R0, EINVAL);
            a.bind(done);
        }

        /**
         * Legacy packet loads (RFC 9669 5.5): a big-endian load at {@code imm} (abs) or
         * {@code (s32)(src + imm)} (ind) from the packet the context records; outside it the
         * program ends with r0 = 0.
         */
        private void packetLoad(Insn.PacketLoad p) {
            int size = p.size().bytes();
            if (p.indirect()) {
                a.mov(32, TMP3, reg(p.src()));
                addConst(32, TMP3, TMP3, p.imm() & 0xffff_ffffL);
                a.sxtw(TMP3, TMP3);
            } else {
                a.movImm(64, TMP3, p.imm());
            }
            a.cmp(64, TMP3, 0);
            exitBranch(A64Cond.LT, zeroExit);
            a.ldr(64, TMP1, CONTEXT, RunContext.PKT_START);
            a.ldr(64, TMP2, CONTEXT, RunContext.PKT_END);
            a.sub(64, TMP2, TMP2, TMP1);
            a.subs(64, TMP2, TMP2, size, false);
            exitBranch(A64Cond.LT, zeroExit);           // the packet is shorter than one load
            a.cmp(64, TMP3, TMP2);
            exitBranch(A64Cond.GT, zeroExit);           // off + size > len
            switch (p.size()) {
                case B -> a.ldrb(R0, TMP1, TMP3);
                case H -> {
                    a.ldrh(R0, TMP1, TMP3, false);
                    a.rev16(32, R0, R0);
                }
                case W -> {
                    a.ldr(32, R0, TMP1, TMP3, false);
                    a.rev(32, R0, R0);
                }
                case DW -> throw new IllegalStateException("no legacy double-word packet load");
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

        private void alu(int pc, Insn.Alu alu) {
            int size = bits(alu.width());
            A64Reg d = reg(alu.dst());
            if (alu.op() == AluOp.DIV || alu.op() == AluOp.MOD) {
                Long divisor = switch (alu.src()) {
                    case Imm imm -> (long) imm.value();
                    case Reg r -> facts(pc) == null ? null : facts(pc).divisor();
                };
                if (divisor != null && divideByConstant(alu.op(), size, d, divisor)) {
                    return;
                }
            }
            switch (alu.src()) {
                case Imm imm -> aluImm(alu.op(), size, d, imm.value());
                case Reg r -> aluReg(alu.op(), size, d, reg(r));
            }
        }

        /**
         * Unsigned division and modulo by a power of two known at compile time (an immediate, or
         * a register the verifier proved constant) as a shift or a mask. {@return whether it
         * emitted the operation}
         */
        private boolean divideByConstant(AluOp op, int size, A64Reg d, long divisor) {
            long v = divisor & mask(size);
            if (v == 0 || Long.bitCount(v) != 1) {
                return false;
            }
            int k = Long.numberOfTrailingZeros(v);
            if (op == AluOp.DIV) {
                shiftImm(AluOp.RSH, size, d, k);
            } else {
                logicalImm(AluOp.AND, size, d, v - 1);
            }
            return true;
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
            Facts f = facts(pc);
            Boolean decided = f == null ? null : f.branch() != null ? f.branch() : f.nullTest(j);
            if (decided != null) {
                // The verifier decided it (or proved the pointer tested against 0 non-null):
                // every path takes it, or none does.
                if (decided) {
                    a.b(labels[(int) targetOf(pc, j.offset())]);
                }
                return;
            }
            int size = bits(j.width());
            A64Reg d = reg(j.dst());
            if (j.src() instanceof Imm imm && imm.value() == 0 && (j.op() == JumpOp.JEQ || j.op() == JumpOp.JNE)) {
                compareZero(j.op() == JumpOp.JEQ, size, d, pc, (int) targetOf(pc, j.offset()));
                return;
            }
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

        /** A jump on d == 0 ({@code zero}) or d != 0: cbz/cbnz when the previous pass's offsets allow, else the opposite over a b. */
        private void compareZero(boolean zero, int size, A64Reg d, int pc, int target) {
            if (near(pc, target)) {
                if (zero) {
                    a.cbz(size, d, labels[target]);
                } else {
                    a.cbnz(size, d, labels[target]);
                }
            } else {
                Label skip = new Label();
                if (zero) {
                    a.cbnz(size, d, skip);
                } else {
                    a.cbz(size, d, skip);
                }
                a.b(labels[target]);
                a.bind(skip);
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
         * In an inlined copy neither place was recorded (start and prevStart hold the callee's
         * own code): there, as for the shared exits, only when the previous pass's whole code fit.
         */
        private boolean near(int pc, int target) {
            if (inlining) {
                return small();
            }
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
