package dev.prism.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Byte-exact check of every {@link X86Assembler} encoder against {@code llvm-mc-19}: a table
 * of generated cases (method × registers × boundary immediates and displacements) is
 * assembled once by llvm-mc, then each case is one dynamic test comparing the bytes.
 */
class X86AssemblerLlvmTest {
    /** rax/rcx (plain), rsp/r12 (SIB), rbp/r13 (disp8 0), rsi (REX for sil), r15 (REX.B/R). */
    private static final X86Reg[] REGS = {
        X86Reg.RAX, X86Reg.RCX, X86Reg.RSP, X86Reg.RBP, X86Reg.RSI, X86Reg.R12, X86Reg.R13, X86Reg.R15,
    };
    private static final long[] BOUNDARIES = {0, 1, 127, 128, -128, -129, 0x7fffffff, -0x80000000L};
    private static final int[] SIZES = {32, 64};

    private record Case(String asm, Consumer<X86Assembler> emit) {
    }

    @TestFactory
    Stream<DynamicTest> encodingsMatchLlvmMc() throws Exception {
        LlvmMc.require();
        List<Case> cases = cases();
        List<String> expected = LlvmMc.encode(cases.stream().map(Case::asm).toList());
        assertTrue(cases.size() > 5000, "case table shrank to " + cases.size());
        return IntStream.range(0, cases.size()).mapToObj(i -> {
            Case c = cases.get(i);
            return DynamicTest.dynamicTest(c.asm(), () -> {
                X86Assembler a = new X86Assembler();
                c.emit().accept(a);
                assertEquals(expected.get(i), LlvmMc.hex(a.toByteArray()), c.asm());
            });
        });
    }

    static List<Case> cases() {
        List<Case> cs = new ArrayList<>();
        moves(cs);
        memory(cs);
        arithmetic(cs);
        shifts(cs);
        atomics(cs);
        control(cs);
        return cs;
    }

    private static void moves(List<Case> cs) {
        for (int s : SIZES) {
            for (X86Reg d : REGS) {
                for (X86Reg r : REGS) {
                    cs.add(new Case("mov " + reg(d, s) + ", " + reg(r, s), a -> a.mov(s, d, r)));
                    for (Condition cc : Condition.values()) {
                        if (d == X86Reg.RAX || d == X86Reg.R13) {
                            cs.add(new Case("cmov" + cc.name().toLowerCase(Locale.ROOT) + " " + reg(d, s) + ", "
                                    + reg(r, s), a -> a.cmov(s, cc, d, r)));
                        }
                    }
                }
                for (long imm : BOUNDARIES) {
                    cs.add(new Case("mov " + reg(d, s) + ", " + imm, a -> a.mov(s, d, imm)));
                }
            }
        }
        for (X86Reg d : REGS) {
            cs.add(new Case("mov " + reg(d, 32) + ", 4294967295", a -> a.mov(32, d, 0xFFFF_FFFFL)));
            for (long imm : new long[] {0, 1, -1, 0x7fffffff, -0x80000000L, 0x80000000L,
                0x123456789abcdef0L, Long.MIN_VALUE, Long.MAX_VALUE}) {
                cs.add(new Case("movabs " + reg(d, 64) + ", " + imm, a -> a.movabs(d, imm)));
            }
            for (X86Reg r : REGS) {
                for (int src : new int[] {8, 16}) {
                    cs.add(new Case("movzx " + reg(d, 32) + ", " + reg(r, src), a -> a.movzx(src, d, r)));
                    for (int s : SIZES) {
                        cs.add(new Case("movsx " + reg(d, s) + ", " + reg(r, src), a -> a.movsx(s, src, d, r)));
                    }
                }
                cs.add(new Case("movsxd " + reg(d, 64) + ", " + reg(r, 32), a -> a.movsx(64, 32, d, r)));
            }
        }
    }

    private static void memory(List<Case> cs) {
        for (X86Reg base : REGS) {
            for (long dl : BOUNDARIES) {
                X86Address m = X86Address.of(base, (int) dl);
                for (X86Reg r : REGS) {
                    for (int s : SIZES) {
                        cs.add(new Case("mov " + reg(r, s) + ", " + mem(s, m), a -> a.mov(s, r, m)));
                        cs.add(new Case("lea " + reg(r, s) + ", " + mem(0, m), a -> a.lea(s, r, m)));
                    }
                    for (int s : new int[] {8, 16, 32, 64}) {
                        cs.add(new Case("mov " + mem(s, m) + ", " + reg(r, s), a -> a.mov(s, m, r)));
                    }
                    for (int src : new int[] {8, 16}) {
                        cs.add(new Case("movzx " + reg(r, 32) + ", " + mem(src, m), a -> a.movzx(src, r, m)));
                        for (int s : SIZES) {
                            cs.add(new Case("movsx " + reg(r, s) + ", " + mem(src, m),
                                    a -> a.movsx(s, src, r, m)));
                        }
                    }
                    cs.add(new Case("movsxd " + reg(r, 64) + ", " + mem(32, m), a -> a.movsx(64, 32, r, m)));
                }
                for (long imm : BOUNDARIES) {
                    for (int s : new int[] {8, 16, 32, 64}) {
                        if (s == 8 && (imm < -128 || imm > 255) || s == 16 && (imm < -32768 || imm > 65535)) {
                            continue;
                        }
                        cs.add(new Case("mov " + mem(s, m) + ", " + imm, a -> a.mov(s, m, imm)));
                    }
                }
                cs.add(new Case("mov " + mem(8, m) + ", 255", a -> a.mov(8, m, 255)));
                cs.add(new Case("mov " + mem(16, m) + ", 65535", a -> a.mov(16, m, 65535)));
                cs.add(new Case("mov " + mem(32, m) + ", 4294967295", a -> a.mov(32, m, 0xFFFF_FFFFL)));
            }
        }
    }

    private interface RegReg {
        void emit(X86Assembler a, int size, X86Reg d, X86Reg s);
    }

    private interface RegImm {
        void emit(X86Assembler a, int size, X86Reg d, long imm);
    }

    private interface OneReg {
        void emit(X86Assembler a, int size, X86Reg r);
    }

    private static void arithmetic(List<Case> cs) {
        Object[][] binary = {
            {"add", (RegReg) X86Assembler::add, (RegImm) X86Assembler::add},
            {"sub", (RegReg) X86Assembler::sub, (RegImm) X86Assembler::sub},
            {"and", (RegReg) X86Assembler::and, (RegImm) X86Assembler::and},
            {"or", (RegReg) X86Assembler::or, (RegImm) X86Assembler::or},
            {"xor", (RegReg) X86Assembler::xor, (RegImm) X86Assembler::xor},
            {"cmp", (RegReg) X86Assembler::cmp, (RegImm) X86Assembler::cmp},
            {"test", (RegReg) X86Assembler::test, (RegImm) X86Assembler::test},
            {"imul", (RegReg) X86Assembler::imul, null},
            {"bsr", (RegReg) X86Assembler::bsr, null},
        };
        for (Object[] op : binary) {
            String name = (String) op[0];
            RegReg rr = (RegReg) op[1];
            RegImm ri = (RegImm) op[2];
            for (int s : SIZES) {
                for (X86Reg d : REGS) {
                    for (X86Reg r : REGS) {
                        cs.add(new Case(name + " " + reg(d, s) + ", " + reg(r, s), a -> rr.emit(a, s, d, r)));
                    }
                    if (ri == null) {
                        continue;
                    }
                    for (long imm : BOUNDARIES) {
                        cs.add(new Case(name + " " + reg(d, s) + ", " + imm, a -> ri.emit(a, s, d, imm)));
                    }
                    if (s == 32) {
                        cs.add(new Case(name + " " + reg(d, s) + ", 4294967295",
                                a -> ri.emit(a, s, d, 0xFFFF_FFFFL)));
                    }
                }
            }
        }
        Object[][] unary = {
            {"neg", (OneReg) X86Assembler::neg},
            {"div", (OneReg) X86Assembler::div},
            {"idiv", (OneReg) X86Assembler::idiv},
            {"bswap", (OneReg) X86Assembler::bswap},
        };
        for (Object[] op : unary) {
            OneReg o = (OneReg) op[1];
            for (int s : SIZES) {
                for (X86Reg r : REGS) {
                    cs.add(new Case(op[0] + " " + reg(r, s), a -> o.emit(a, s, r)));
                }
            }
        }
        for (int s : SIZES) {
            for (X86Reg d : REGS) {
                for (X86Reg r : REGS) {
                    for (long imm : new long[] {-128, 127, 3, -129, 128, 0x7fffffffL, -0x80000000L}) {
                        cs.add(new Case("imul " + reg(d, s) + ", " + reg(r, s) + ", " + imm, a -> a.imul(s, d, r, imm)));
                    }
                }
            }
        }
        cs.add(new Case("cqo", X86Assembler::cqo));
        cs.add(new Case("cdq", X86Assembler::cdq));
    }

    private interface ShiftImm {
        void emit(X86Assembler a, int size, X86Reg r, int count);
    }

    private static void shifts(List<Case> cs) {
        Object[][] ops = {
            {"shl", (OneReg) X86Assembler::shl, (ShiftImm) X86Assembler::shl},
            {"shr", (OneReg) X86Assembler::shr, (ShiftImm) X86Assembler::shr},
            {"sar", (OneReg) X86Assembler::sar, (ShiftImm) X86Assembler::sar},
            {"rol", null, (ShiftImm) X86Assembler::rol},
        };
        for (Object[] op : ops) {
            OneReg byCl = (OneReg) op[1];
            ShiftImm byImm = (ShiftImm) op[2];
            for (int s : new int[] {16, 32, 64}) {
                for (X86Reg r : REGS) {
                    if (byCl != null) {
                        cs.add(new Case(op[0] + " " + reg(r, s) + ", cl", a -> byCl.emit(a, s, r)));
                    }
                    for (int n : new int[] {0, 1, 2, 7, 8, 15, 16, 31, 32, 63}) {
                        if (n < s) {
                            cs.add(new Case(op[0] + " " + reg(r, s) + ", " + n, a -> byImm.emit(a, s, r, n)));
                        }
                    }
                }
            }
        }
    }

    private interface MemReg {
        void emit(X86Assembler a, int size, X86Address m, X86Reg r);
    }

    private static void atomics(List<Case> cs) {
        Object[][] ops = {
            {"lock add", (MemReg) X86Assembler::add},
            {"lock and", (MemReg) X86Assembler::and},
            {"lock or", (MemReg) X86Assembler::or},
            {"lock xor", (MemReg) X86Assembler::xor},
            {"lock xadd", (MemReg) X86Assembler::xadd},
            {"lock cmpxchg", (MemReg) X86Assembler::cmpxchg},
            {"xchg", (MemReg) X86Assembler::xchg},
        };
        for (Object[] op : ops) {
            String name = (String) op[0];
            MemReg o = (MemReg) op[1];
            boolean locked = name.startsWith("lock ");
            for (int s : SIZES) {
                for (X86Reg base : REGS) {
                    for (long d : BOUNDARIES) {
                        X86Address m = X86Address.of(base, (int) d);
                        for (X86Reg r : new X86Reg[] {X86Reg.RAX, X86Reg.RSP, X86Reg.R13, X86Reg.R15}) {
                            cs.add(new Case(name + " " + mem(s, m) + ", " + reg(r, s), a -> {
                                if (locked) {
                                    a.lock();
                                }
                                o.emit(a, s, m, r);
                            }));
                        }
                    }
                }
            }
        }
    }

    private static void control(List<Case> cs) {
        for (X86Reg r : X86Reg.values()) {
            cs.add(new Case("call " + reg(r, 64), a -> a.call(r)));
            cs.add(new Case("jmp " + reg(r, 64), a -> a.jmp(r)));
            cs.add(new Case("push " + reg(r, 64), a -> a.push(r)));
            cs.add(new Case("pop " + reg(r, 64), a -> a.pop(r)));
        }
        for (X86Reg base : REGS) {
            for (long d : BOUNDARIES) {
                X86Address m = X86Address.of(base, (int) d);
                cs.add(new Case("call " + mem(64, m), a -> a.call(m)));
                for (int s : new int[] {32, 64}) {
                    for (long imm : new long[] {0, 1, -1, 127, -128, 128, -129, 0x7fff_ffff, -0x8000_0000L}) {
                        cs.add(new Case("cmp " + mem(s, m) + ", " + imm, a -> a.cmp(s, m, imm)));
                        cs.add(new Case("add " + mem(s, m) + ", " + imm, a -> a.add(s, m, imm)));
                    }
                }
            }
        }
        cs.add(new Case("ret", X86Assembler::ret));
        cs.add(new Case("nop", X86Assembler::nop));
    }

    private static final String[] NAMES64 = {
        "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    };
    private static final String[] NAMES32 = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    private static final String[] NAMES16 = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di"};
    private static final String[] NAMES8 = {"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil"};

    /** The Intel name of {@code r} at {@code size} bits. */
    static String reg(X86Reg r, int size) {
        int n = r.encoding;
        if (n >= 8) {
            return "r" + n + switch (size) {
                case 8 -> "b";
                case 16 -> "w";
                case 32 -> "d";
                default -> "";
            };
        }
        return switch (size) {
            case 8 -> NAMES8[n];
            case 16 -> NAMES16[n];
            case 32 -> NAMES32[n];
            default -> NAMES64[n];
        };
    }

    /** {@code qword ptr [base + disp]}; size 0 gives no size keyword (lea). */
    static String mem(int size, X86Address m) {
        String ptr = switch (size) {
            case 0 -> "";
            case 8 -> "byte ptr ";
            case 16 -> "word ptr ";
            case 32 -> "dword ptr ";
            default -> "qword ptr ";
        };
        long d = m.disp();
        String disp = d == 0 ? "" : d > 0 ? " + " + d : " - " + (-d);
        return ptr + "[" + reg(m.base(), 64) + disp + "]";
    }
}
