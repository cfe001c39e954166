package dev.prism.arm64;

import static dev.prism.arm64.A64Reg.SP;
import static dev.prism.arm64.A64Reg.X0;
import static dev.prism.arm64.A64Reg.X1;
import static dev.prism.arm64.A64Reg.X15;
import static dev.prism.arm64.A64Reg.X29;
import static dev.prism.arm64.A64Reg.X30;
import static dev.prism.arm64.A64Reg.XZR;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every encoder, byte-exact against llvm-mc-19: a generated table of (assembly text, emitter)
 * cases over registers x0, x1, x15, x29, x30 and sp/xzr where the slot takes them, with
 * immediates at their limits. All cases go through one llvm-mc run; each case is one dynamic
 * test named after its assembly text.
 */
class A64AssemblerLlvmTest {

    /** One instruction: the text llvm-mc assembles and the call that should encode the same. */
    record Case(String asm, Consumer<A64Assembler> emit) {
    }

    private static final A64Reg[] REGS = {X0, X1, X15, X29, X30};
    private static final int[] SIZES = {32, 64};

    private final List<Case> cases = new ArrayList<>();

    private void c(String asm, Consumer<A64Assembler> emit) {
        cases.add(new Case(asm, emit));
    }

    private static String n(A64Reg r, int size) {
        return r.name(size);
    }

    private static A64Reg reg(int i) {
        return REGS[Math.floorMod(i, REGS.length)];
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    @TestFactory
    Stream<DynamicTest> encodesLikeLlvmMc() throws Exception {
        buildCases();
        LlvmMc.require();
        List<Integer> expected = LlvmMc.encode(cases.stream().map(Case::asm).toList());
        return IntStream.range(0, cases.size()).mapToObj(i -> {
            Case k = cases.get(i);
            return DynamicTest.dynamicTest(k.asm(), () -> {
                A64Assembler a = new A64Assembler();
                k.emit().accept(a);
                int[] words = a.words();
                assertEquals(1, words.length, "one word for " + k.asm());
                assertEquals(String.format("%08x", expected.get(i)), String.format("%08x", words[0]), k.asm());
            });
        });
    }

    /** Fills the case table; {@return the number of llvm-mc-checked cases} */
    int buildCases() {
        cases.clear();
        addSub();
        logical();
        moveWide();
        multiplyDivide();
        bitfield();
        select();
        loadStore();
        pairs();
        atomics();
        branches();
        everyLogicalImmediate();
        return cases.size();
    }

    private void addSub() {
        for (int s : SIZES) {
            for (int i = 0; i < REGS.length; i++) {
                A64Reg d = reg(i), a = reg(i + 1), m = reg(i + 2);
                for (int imm : new int[] {0, 1, 4095}) {
                    for (boolean hi : new boolean[] {false, true}) {
                        String t = ", #" + imm + (hi ? ", lsl #12" : "");
                        c("add " + n(d, s) + ", " + n(a, s) + t, x -> x.add(s, d, a, imm, hi));
                        c("sub " + n(d, s) + ", " + n(a, s) + t, x -> x.sub(s, d, a, imm, hi));
                        c("adds " + n(d, s) + ", " + n(a, s) + t, x -> x.adds(s, d, a, imm, hi));
                        c("subs " + n(d, s) + ", " + n(a, s) + t, x -> x.subs(s, d, a, imm, hi));
                    }
                }
                c("cmp " + n(a, s) + ", #4095", x -> x.cmp(s, a, 4095));
                c("cmn " + n(a, s) + ", #4095", x -> x.cmn(s, a, 4095));
                for (A64Shift sh : new A64Shift[] {A64Shift.LSL, A64Shift.LSR, A64Shift.ASR}) {
                    for (int amt : new int[] {0, 1, s - 1}) {
                        String t = ", " + sh.name().toLowerCase(Locale.ROOT) + " #" + amt;
                        c("add " + n(d, s) + ", " + n(a, s) + ", " + n(m, s) + t, x -> x.add(s, d, a, m, sh, amt));
                        c("sub " + n(d, s) + ", " + n(a, s) + ", " + n(m, s) + t, x -> x.sub(s, d, a, m, sh, amt));
                        c("adds " + n(d, s) + ", " + n(a, s) + ", " + n(m, s) + t, x -> x.adds(s, d, a, m, sh, amt));
                        c("subs " + n(d, s) + ", " + n(a, s) + ", " + n(m, s) + t, x -> x.subs(s, d, a, m, sh, amt));
                    }
                }
                c("add " + n(d, s) + ", " + n(a, s) + ", " + n(m, s), x -> x.add(s, d, a, m));
                c("sub " + n(d, s) + ", " + n(a, s) + ", " + n(m, s), x -> x.sub(s, d, a, m));
                c("cmp " + n(a, s) + ", " + n(m, s), x -> x.cmp(s, a, m));
                c("cmn " + n(a, s) + ", " + n(m, s), x -> x.cmn(s, a, m));
                c("neg " + n(d, s) + ", " + n(m, s), x -> x.neg(s, d, m));
            }
            // SP in the immediate form; ZR in the register form and as the flag-setting rd.
            c("add " + n(SP, s) + ", " + n(SP, s) + ", #16", x -> x.add(s, SP, SP, 16));
            c("sub " + n(SP, s) + ", " + n(SP, s) + ", #4095, lsl #12", x -> x.sub(s, SP, SP, 4095, true));
            c("add " + n(X0, s) + ", " + n(SP, s) + ", #4095", x -> x.add(s, X0, SP, 4095));
            c("sub " + n(X0, s) + ", " + n(SP, s) + ", #0", x -> x.sub(s, X0, SP, 0));
            c("subs " + n(X30, s) + ", " + n(SP, s) + ", #1", x -> x.subs(s, X30, SP, 1, false));
            c("adds " + n(XZR, s) + ", " + n(X1, s) + ", #1", x -> x.adds(s, XZR, X1, 1, false));
            c("cmp " + n(SP, s) + ", #0", x -> x.cmp(s, SP, 0));
            c("add " + n(XZR, s) + ", " + n(XZR, s) + ", " + n(XZR, s), x -> x.add(s, XZR, XZR, XZR));
            c("sub " + n(X0, s) + ", " + n(XZR, s) + ", " + n(X1, s) + ", asr #3",
                    x -> x.sub(s, X0, XZR, X1, A64Shift.ASR, 3));
            c("neg " + n(XZR, s) + ", " + n(XZR, s), x -> x.neg(s, XZR, XZR));
        }
    }

    private static final long[] LOGICAL_64 = {
        0xffL, 0x5555555555555555L, 0xfffffffffffffffeL, 0x0f0f0f0f0f0f0f0fL, 1L,
        0x8000000000000000L, 0x7fffffffffffffffL, 0x00ff00ff00ff00ffL, 0x3ffcL, 0xffff0000ffff0000L,
        0x0000ffffffffff00L, 0xaaaaaaaaaaaaaaaaL, 0x00000000ffffffffL, 0xc000000000000001L};
    private static final long[] LOGICAL_32 = {
        0xffL, 0x0f0f0f0fL, 0x55555555L, 0xfffffffeL, 1L, 0x80000000L, 0x7fffffffL, 0x0000ffffL,
        0x3ffcL, 0x80000001L, 0xaaaaaaaaL, 0x00ff00ffL};

    private void logical() {
        for (int s : SIZES) {
            long[] values = s == 64 ? LOGICAL_64 : LOGICAL_32;
            for (int i = 0; i < REGS.length; i++) {
                A64Reg d = reg(i), a = reg(i + 1), m = reg(i + 2);
                for (A64Shift sh : A64Shift.values()) {
                    for (int amt : new int[] {0, 1, s - 1}) {
                        String t = ", " + sh.name().toLowerCase(Locale.ROOT) + " #" + amt;
                        String ops = n(d, s) + ", " + n(a, s) + ", " + n(m, s) + t;
                        c("and " + ops, x -> x.and(s, d, a, m, sh, amt));
                        c("orr " + ops, x -> x.orr(s, d, a, m, sh, amt));
                        c("eor " + ops, x -> x.eor(s, d, a, m, sh, amt));
                        c("ands " + ops, x -> x.ands(s, d, a, m, sh, amt));
                        c("orn " + ops, x -> x.orn(s, d, a, m, sh, amt));
                    }
                }
                String ops = n(d, s) + ", " + n(a, s) + ", " + n(m, s);
                c("and " + ops, x -> x.and(s, d, a, m));
                c("orr " + ops, x -> x.orr(s, d, a, m));
                c("eor " + ops, x -> x.eor(s, d, a, m));
                c("orn " + ops, x -> x.orn(s, d, a, m));
                c("mvn " + n(d, s) + ", " + n(m, s), x -> x.mvn(s, d, m));
                c("tst " + n(a, s) + ", " + n(m, s), x -> x.tst(s, a, m));
                c("mov " + n(d, s) + ", " + n(a, s), x -> x.mov(s, d, a));
                for (long v : values) {
                    String io = n(d, s) + ", " + n(a, s) + ", #" + hex(v);
                    c("and " + io, x -> x.and(s, d, a, v));
                    c("orr " + io, x -> x.orr(s, d, a, v));
                    c("eor " + io, x -> x.eor(s, d, a, v));
                    c("ands " + io, x -> x.ands(s, d, a, v));
                    c("tst " + n(a, s) + ", #" + hex(v), x -> x.tst(s, a, v));
                }
            }
            c("and " + n(SP, s) + ", " + n(X1, s) + ", #0xff", x -> x.and(s, SP, X1, 0xff));
            c("orr " + n(SP, s) + ", " + n(XZR, s) + ", #0x1", x -> x.orr(s, SP, XZR, 1));
            c("eor " + n(SP, s) + ", " + n(X30, s) + ", #0x3ffc", x -> x.eor(s, SP, X30, 0x3ffc));
            c("ands " + n(XZR, s) + ", " + n(XZR, s) + ", #0x1", x -> x.ands(s, XZR, XZR, 1));
            c("orr " + n(XZR, s) + ", " + n(XZR, s) + ", " + n(XZR, s), x -> x.orr(s, XZR, XZR, XZR));
            c("mov " + n(SP, s) + ", " + n(X1, s), x -> x.mov(s, SP, X1));
            c("mov " + n(X29, s) + ", " + n(SP, s), x -> x.mov(s, X29, SP));
            c("mov " + n(X0, s) + ", " + n(XZR, s), x -> x.mov(s, X0, XZR));
        }
        // A 32-bit immediate given sign-extended.
        c("and w0, w1, #0xfffffffe", x -> x.and(32, X0, X1, -2L));
    }

    /**
     * Every value DecodeBitMasks (ARM ARM J1, shared/functions/bitmasks) can produce, for both
     * sizes: the encoder must find the same fields llvm-mc does, for each.
     */
    private void everyLogicalImmediate() {
        for (int s : SIZES) {
            for (long v : LogicalImmediates.all(s)) {
                c("orr " + n(X1, s) + ", " + n(X29, s) + ", #" + hex(v), x -> x.orr(s, X1, X29, v));
            }
        }
    }

    private void moveWide() {
        for (int s : SIZES) {
            for (int i = 0; i < REGS.length; i++) {
                A64Reg d = reg(i);
                for (int sh = 0; sh < s; sh += 16) {
                    int shift = sh;
                    for (int imm : new int[] {0, 0x1234, 0xffff}) {
                        String t = n(d, s) + ", #" + imm + ", lsl #" + shift;
                        c("movz " + t, x -> x.movz(s, d, imm, shift));
                        c("movk " + t, x -> x.movk(s, d, imm, shift));
                        c("movn " + t, x -> x.movn(s, d, imm, shift));
                    }
                }
            }
            c("movz " + n(XZR, s) + ", #1", x -> x.movz(s, XZR, 1, 0));
        }
    }

    private void multiplyDivide() {
        for (int s : SIZES) {
            for (int i = 0; i < REGS.length; i++) {
                A64Reg d = reg(i), a = reg(i + 1), m = reg(i + 2), r = reg(i + 3);
                String ops = n(d, s) + ", " + n(a, s) + ", " + n(m, s);
                c("mul " + ops, x -> x.mul(s, d, a, m));
                c("udiv " + ops, x -> x.udiv(s, d, a, m));
                c("sdiv " + ops, x -> x.sdiv(s, d, a, m));
                c("lslv " + ops, x -> x.lslv(s, d, a, m));
                c("lsrv " + ops, x -> x.lsrv(s, d, a, m));
                c("asrv " + ops, x -> x.asrv(s, d, a, m));
                c("madd " + ops + ", " + n(r, s), x -> x.madd(s, d, a, m, r));
                c("msub " + ops + ", " + n(r, s), x -> x.msub(s, d, a, m, r));
            }
            c("msub " + n(X0, s) + ", " + n(X1, s) + ", " + n(X15, s) + ", " + n(XZR, s),
                    x -> x.msub(s, X0, X1, X15, XZR));
            c("udiv " + n(XZR, s) + ", " + n(XZR, s) + ", " + n(XZR, s), x -> x.udiv(s, XZR, XZR, XZR));
        }
    }

    private void bitfield() {
        for (int s : SIZES) {
            for (int i = 0; i < REGS.length; i++) {
                A64Reg d = reg(i), a = reg(i + 1);
                String ops = n(d, s) + ", " + n(a, s);
                for (int sh : new int[] {0, 1, 8, s - 1}) {
                    c("lsl " + ops + ", #" + sh, x -> x.lsl(s, d, a, sh));
                    c("lsr " + ops + ", #" + sh, x -> x.lsr(s, d, a, sh));
                    c("asr " + ops + ", #" + sh, x -> x.asr(s, d, a, sh));
                }
                c("ubfm " + ops + ", #3, #" + (s - 1), x -> x.ubfm(s, d, a, 3, s - 1));
                c("sbfm " + ops + ", #" + (s - 1) + ", #0", x -> x.sbfm(s, d, a, s - 1, 0));
                c("sxtb " + n(d, s) + ", " + n(a, 32), x -> x.sxtb(s, d, a));
                c("sxth " + n(d, s) + ", " + n(a, 32), x -> x.sxth(s, d, a));
                c("rev16 " + ops, x -> x.rev16(s, d, a));
                c("rev " + ops, x -> x.rev(s, d, a));
                c("clz " + ops, x -> x.clz(s, d, a));
                if (s == 64) {
                    c("sxtw " + n(d, 64) + ", " + n(a, 32), x -> x.sxtw(d, a));
                    c("rev32 " + ops, x -> x.rev32(d, a));
                } else {
                    c("uxtb " + ops, x -> x.uxtb(d, a));
                    c("uxth " + ops, x -> x.uxth(d, a));
                }
            }
            c("lsl " + n(XZR, s) + ", " + n(XZR, s) + ", #3", x -> x.lsl(s, XZR, XZR, 3));
            c("rev " + n(XZR, s) + ", " + n(XZR, s), x -> x.rev(s, XZR, XZR));
        }
    }

    private void select() {
        for (int s : SIZES) {
            for (int i = 0; i < REGS.length; i++) {
                A64Reg d = reg(i), a = reg(i + 1), m = reg(i + 2);
                for (A64Cond cc : A64Cond.values()) {
                    String ops = n(d, s) + ", " + n(a, s) + ", " + n(m, s) + ", " + cc.mnemonic();
                    c("csel " + ops, x -> x.csel(s, d, a, m, cc));
                    c("csinc " + ops, x -> x.csinc(s, d, a, m, cc));
                    if (cc != A64Cond.AL && cc != A64Cond.NV) {
                        c("cset " + n(d, s) + ", " + cc.mnemonic(), x -> x.cset(s, d, cc));
                    }
                }
            }
            c("csel " + n(XZR, s) + ", " + n(XZR, s) + ", " + n(XZR, s) + ", eq", x -> x.csel(s, XZR, XZR, XZR, A64Cond.EQ));
        }
    }

    /** A load or store: mnemonic, register view of rt, access bytes, and the three emitters. */
    private record Mem(String op, int rtSize, int scale, Imm imm, Reg reg, Imm unscaled, String uop) {
    }

    @FunctionalInterface
    private interface Imm {
        void emit(A64Assembler a, A64Reg rt, A64Reg rn, int offset);
    }

    @FunctionalInterface
    private interface Reg {
        void emit(A64Assembler a, A64Reg rt, A64Reg rn, A64Reg rm, boolean scaled);
    }

    private static final List<Mem> MEMS = List.of(
            new Mem("ldrb", 32, 1, A64Assembler::ldrb, (a, t, b, m, s) -> a.ldrb(t, b, m), A64Assembler::ldurb, "ldurb"),
            new Mem("strb", 32, 1, A64Assembler::strb, (a, t, b, m, s) -> a.strb(t, b, m), A64Assembler::sturb, "sturb"),
            new Mem("ldrh", 32, 2, A64Assembler::ldrh, A64Assembler::ldrh, A64Assembler::ldurh, "ldurh"),
            new Mem("strh", 32, 2, A64Assembler::strh, A64Assembler::strh, A64Assembler::sturh, "sturh"),
            new Mem("ldr", 32, 4, (a, t, b, o) -> a.ldr(32, t, b, o), (a, t, b, m, s) -> a.ldr(32, t, b, m, s),
                    (a, t, b, o) -> a.ldur(32, t, b, o), "ldur"),
            new Mem("ldr", 64, 8, (a, t, b, o) -> a.ldr(64, t, b, o), (a, t, b, m, s) -> a.ldr(64, t, b, m, s),
                    (a, t, b, o) -> a.ldur(64, t, b, o), "ldur"),
            new Mem("str", 32, 4, (a, t, b, o) -> a.str(32, t, b, o), (a, t, b, m, s) -> a.str(32, t, b, m, s),
                    (a, t, b, o) -> a.stur(32, t, b, o), "stur"),
            new Mem("str", 64, 8, (a, t, b, o) -> a.str(64, t, b, o), (a, t, b, m, s) -> a.str(64, t, b, m, s),
                    (a, t, b, o) -> a.stur(64, t, b, o), "stur"),
            new Mem("ldrsb", 32, 1, (a, t, b, o) -> a.ldrsb(32, t, b, o), (a, t, b, m, s) -> a.ldrsb(32, t, b, m),
                    (a, t, b, o) -> a.ldursb(32, t, b, o), "ldursb"),
            new Mem("ldrsb", 64, 1, (a, t, b, o) -> a.ldrsb(64, t, b, o), (a, t, b, m, s) -> a.ldrsb(64, t, b, m),
                    (a, t, b, o) -> a.ldursb(64, t, b, o), "ldursb"),
            new Mem("ldrsh", 32, 2, (a, t, b, o) -> a.ldrsh(32, t, b, o), (a, t, b, m, s) -> a.ldrsh(32, t, b, m, s),
                    (a, t, b, o) -> a.ldursh(32, t, b, o), "ldursh"),
            new Mem("ldrsh", 64, 2, (a, t, b, o) -> a.ldrsh(64, t, b, o), (a, t, b, m, s) -> a.ldrsh(64, t, b, m, s),
                    (a, t, b, o) -> a.ldursh(64, t, b, o), "ldursh"),
            new Mem("ldrsw", 64, 4, A64Assembler::ldrsw, A64Assembler::ldrsw, A64Assembler::ldursw, "ldursw"));

    private void loadStore() {
        for (Mem mem : MEMS) {
            int s = mem.rtSize();
            int shift = Integer.numberOfTrailingZeros(mem.scale());
            for (int i = 0; i < REGS.length; i++) {
                A64Reg t = reg(i), b = reg(i + 1), m = reg(i + 2);
                for (int off : new int[] {0, mem.scale(), 4095 * mem.scale()}) {
                    c(mem.op() + " " + n(t, s) + ", [" + n(b, 64) + ", #" + off + "]", x -> mem.imm().emit(x, t, b, off));
                }
                for (int off : new int[] {-256, -1, 0, 255}) {
                    c(mem.uop() + " " + n(t, s) + ", [" + n(b, 64) + ", #" + off + "]",
                            x -> mem.unscaled().emit(x, t, b, off));
                }
                c(mem.op() + " " + n(t, s) + ", [" + n(b, 64) + ", " + n(m, 64) + "]",
                        x -> mem.reg().emit(x, t, b, m, false));
                if (mem.scale() > 1) {
                    c(mem.op() + " " + n(t, s) + ", [" + n(b, 64) + ", " + n(m, 64) + ", lsl #" + shift + "]",
                            x -> mem.reg().emit(x, t, b, m, true));
                }
            }
            c(mem.op() + " " + n(XZR, s) + ", [sp, #" + 4095 * mem.scale() + "]", x -> mem.imm().emit(x, XZR, SP, 4095 * mem.scale()));
            c(mem.uop() + " " + n(X0, s) + ", [sp, #-256]", x -> mem.unscaled().emit(x, X0, SP, -256));
            c(mem.op() + " " + n(X1, s) + ", [sp, xzr]", x -> mem.reg().emit(x, X1, SP, XZR, false));
        }
    }

    private void pairs() {
        for (int s : SIZES) {
            int bytes = s / 8;
            for (int i = 0; i < REGS.length; i++) {
                A64Reg t = reg(i), t2 = reg(i + 1), b = reg(i + 2);
                for (int off : new int[] {-64 * bytes, 0, bytes, 63 * bytes}) {
                    for (A64Index ix : A64Index.values()) {
                        String addr = switch (ix) {
                            case OFFSET -> "[" + n(b, 64) + ", #" + off + "]";
                            case PRE -> "[" + n(b, 64) + ", #" + off + "]!";
                            case POST -> "[" + n(b, 64) + "], #" + off;
                        };
                        String ops = n(t, s) + ", " + n(t2, s) + ", " + addr;
                        c("stp " + ops, x -> x.stp(s, t, t2, b, off, ix));
                        c("ldp " + ops, x -> x.ldp(s, t, t2, b, off, ix));
                    }
                }
            }
        }
        c("stp x29, x30, [sp, #-16]!", x -> x.stp(64, X29, X30, SP, -16, A64Index.PRE));
        c("ldp x29, x30, [sp], #16", x -> x.ldp(64, X29, X30, SP, 16, A64Index.POST));
        c("stp xzr, xzr, [sp, #504]", x -> x.stp(64, XZR, XZR, SP, 504, A64Index.OFFSET));
    }

    @FunctionalInterface
    private interface Atomic {
        void emit(A64Assembler a, int size, A64MemOrder order, A64Reg rs, A64Reg rt, A64Reg rn);
    }

    private void atomics() {
        List<Object[]> ops = List.of(
                new Object[] {"ldadd", (Atomic) A64Assembler::ldadd},
                new Object[] {"ldclr", (Atomic) A64Assembler::ldclr},
                new Object[] {"ldeor", (Atomic) A64Assembler::ldeor},
                new Object[] {"ldset", (Atomic) A64Assembler::ldset},
                new Object[] {"swp", (Atomic) A64Assembler::swp},
                new Object[] {"cas", (Atomic) A64Assembler::cas});
        for (Object[] op : ops) {
            Atomic emit = (Atomic) op[1];
            for (int s : SIZES) {
                for (A64MemOrder o : A64MemOrder.values()) {
                    for (int i = 0; i < REGS.length; i++) {
                        A64Reg rs = reg(i), rt = reg(i + 1), rn = reg(i + 2);
                        c(op[0] + o.suffix + " " + n(rs, s) + ", " + n(rt, s) + ", [" + n(rn, 64) + "]",
                                x -> emit.emit(x, s, o, rs, rt, rn));
                    }
                    c(op[0] + o.suffix + " " + n(XZR, s) + ", " + n(X0, s) + ", [sp]", x -> emit.emit(x, s, o, XZR, X0, SP));
                }
            }
        }
        for (int s : SIZES) {
            for (int i = 0; i < REGS.length; i++) {
                A64Reg a = reg(i), b = reg(i + 1), st = reg(i + 2);
                c("ldaxr " + n(a, s) + ", [" + n(b, 64) + "]", x -> x.ldaxr(s, a, b));
                c("stlxr " + n(st, 32) + ", " + n(a, s) + ", [" + n(b, 64) + "]", x -> x.stlxr(s, st, a, b));
            }
            c("ldaxr " + n(X0, s) + ", [sp]", x -> x.ldaxr(s, X0, SP));
            for (A64Reg a : new A64Reg[] {X0, X15, X30, XZR}) {
                for (A64Reg b : new A64Reg[] {X1, A64Reg.X26, SP}) {
                    c("ldar " + n(a, s) + ", [" + n(b, 64) + "]", x -> x.ldar(s, a, b));
                    c("stlr " + n(a, s) + ", [" + n(b, 64) + "]", x -> x.stlr(s, a, b));
                    c("stxr w2, " + n(a, s) + ", [" + n(b, 64) + "]", x -> x.stxr(s, A64Reg.X2, a, b));
                }
            }
            c("stlxr w1, " + n(XZR, s) + ", [sp]", x -> x.stlxr(s, X1, XZR, SP));
        }
    }

    private void branches() {
        for (int off : new int[] {0, 4, -4, 134217724, -134217728}) {
            c("b #" + off, x -> x.b(off));
            c("bl #" + off, x -> x.bl(off));
        }
        for (A64Cond cc : A64Cond.values()) {
            for (int off : new int[] {0, 1048572, -1048576}) {
                c("b." + cc.mnemonic() + " #" + off, x -> x.b(cc, off));
            }
        }
        for (int s : SIZES) {
            for (A64Reg r : new A64Reg[] {X0, X1, X15, X29, X30, XZR}) {
                for (int off : new int[] {4, 1048572, -1048576}) {
                    c("cbz " + n(r, s) + ", #" + off, x -> x.cbz(s, r, off));
                    c("cbnz " + n(r, s) + ", #" + off, x -> x.cbnz(s, r, off));
                }
            }
        }
        for (A64Reg r : new A64Reg[] {X0, X1, X15, X29, X30, XZR}) {
            for (int bit : new int[] {0, 1, 31, 32, 63}) {
                for (int off : new int[] {8, 32764, -32768}) {
                    String t = n(r, bit < 32 ? 32 : 64) + ", #" + bit + ", #" + off;
                    c("tbz " + t, x -> x.tbz(r, bit, off));
                    c("tbnz " + t, x -> x.tbnz(r, bit, off));
                }
            }
            c("br " + n(r, 64), x -> x.br(r));
            c("blr " + n(r, 64), x -> x.blr(r));
            c("ret " + n(r, 64), x -> x.ret(r));
        }
        c("ret", A64Assembler::ret);
        c("nop", A64Assembler::nop);
        for (A64Reg r : new A64Reg[] {X0, X15, X30, XZR}) {
            for (int off : new int[] {0, 1, 2, 3, 4, -1, -4, 1048575, -1048576}) {
                c("adr " + n(r, 64) + ", #" + off, x -> x.adr(r, off));
            }
        }
    }
}
