package dev.prism.isa;

import java.util.function.BinaryOperator;
import java.util.function.IntFunction;
import java.util.function.LongFunction;

/**
 * BPF's ALU operations and jump conditions as C expressions over {@code u64} registers
 * {@code r0}..{@code r10}, with RFC 9669's semantics spelled out: shift amounts masked, 32-bit
 * results zero-extended, division and modulo through the runtime's guarded functions
 * ({@code udiv64}, {@code sdiv32}, ...: 0 for a zero divisor, dst for modulo, INT_MIN / -1 =
 * INT_MIN). One piece for every C-family lowering: firmware C (target-csd) and OpenCL C
 * (target-gpu) differ only in their {@link Dialect}.
 */
public final class CExpressions {
    /**
     * How a C dialect spells what the expressions need.
     *
     * @param u64     unsigned 64-bit type ({@code u64}, {@code ulong})
     * @param u32     unsigned 32-bit type
     * @param s64     signed 64-bit type
     * @param s32     signed 32-bit type
     * @param s16     signed 16-bit type
     * @param s8      signed 8-bit type
     * @param lit64   a 64-bit constant
     * @param lit32   a 32-bit constant
     * @param mask64  the shift-amount mask 63 as a literal of the amount's type
     * @param mask32  the mask 31 likewise
     * @param mask16  the mask 0xffff as a 64-bit literal (a 16-bit {@code le})
     * @param runtime the prefix of the runtime's division and byte-swap functions
     * @param arsh64  arithmetic right shift of (value, masked-or-not amount), 64-bit
     * @param arsh32  the same on the 32-bit operand, giving a 32-bit value
     */
    public record Dialect(String u64, String u32, String s64, String s32, String s16, String s8,
                          LongFunction<String> lit64, IntFunction<String> lit32, String mask64, String mask32,
                          String mask16, String runtime,
                          BinaryOperator<String> arsh64, BinaryOperator<String> arsh32) {
    }

    private final Dialect d;

    public CExpressions(Dialect dialect) {
        this.d = dialect;
    }

    /** {@return the register's variable} */
    public String reg(Reg r) {
        return "r" + r.n();
    }

    /** {@return the operand as a 64-bit value} */
    public String src64(Operand o) {
        return switch (o) {
            case Reg r -> reg(r);
            case Imm imm -> d.lit64().apply(imm.value());
        };
    }

    /** {@return the operand as a 32-bit value: a register's low half} */
    public String src32(Operand o) {
        return switch (o) {
            case Reg r -> low(r);
            case Imm imm -> d.lit32().apply(imm.value());
        };
    }

    private String low(Reg r) {
        return "((" + d.u32() + ") " + reg(r) + ")";
    }

    /** {@return the value {@code a} assigns to its dst register} */
    public String alu(Insn.Alu a) {
        String dst = reg(a.dst());
        if (a.width() == Width.W64) {
            String s = src64(a.src());
            return switch (a.op()) {
                case ADD -> dst + " + " + s;
                case SUB -> dst + " - " + s;
                case MUL -> dst + " * " + s;
                case DIV -> d.runtime() + "udiv64(" + dst + ", " + s + ")";
                case SDIV -> d.runtime() + "sdiv64(" + dst + ", " + s + ")";
                case MOD -> d.runtime() + "umod64(" + dst + ", " + s + ")";
                case SMOD -> d.runtime() + "smod64(" + dst + ", " + s + ")";
                case OR -> dst + " | " + s;
                case AND -> dst + " & " + s;
                case XOR -> dst + " ^ " + s;
                case MOV -> s;
                case LSH -> dst + " << (" + s + " & " + d.mask64() + ")";
                case RSH -> dst + " >> (" + s + " & " + d.mask64() + ")";
                case ARSH -> d.arsh64().apply(dst, s);
            };
        }
        String x = low(a.dst());
        String s = src32(a.src());
        String v = switch (a.op()) {
            case ADD -> x + " + " + s;
            case SUB -> x + " - " + s;
            case MUL -> x + " * " + s;
            case DIV -> d.runtime() + "udiv32(" + x + ", " + s + ")";
            case SDIV -> d.runtime() + "sdiv32(" + x + ", " + s + ")";
            case MOD -> d.runtime() + "umod32(" + x + ", " + s + ")";
            case SMOD -> d.runtime() + "smod32(" + x + ", " + s + ")";
            case OR -> x + " | " + s;
            case AND -> x + " & " + s;
            case XOR -> x + " ^ " + s;
            case MOV -> s;
            case LSH -> x + " << (" + s + " & " + d.mask32() + ")";
            case RSH -> x + " >> (" + s + " & " + d.mask32() + ")";
            case ARSH -> d.arsh32().apply(x, s);
        };
        return "(" + d.u64() + ") (" + d.u32() + ") (" + v + ")";
    }

    /** {@return the value {@code m} assigns: src's low bits sign-extended, then zero-extended for 32 bits} */
    public String movsx(Insn.MovSx m) {
        String t = switch (m.fromBits()) {
            case 8 -> d.s8();
            case 16 -> d.s16();
            default -> d.s32();
        };
        String src = reg(m.src());
        return m.width() == Width.W64 ? "(" + d.u64() + ") (" + d.s64() + ") (" + t + ") " + src
                : "(" + d.u64() + ") (" + d.u32() + ") (" + d.s32() + ") (" + t + ") " + src;
    }

    /** {@return the value {@code e} assigns: le truncates, be and bswap swap through the runtime} */
    public String endian(Insn.Endian e) {
        String dst = reg(e.dst());
        return switch (e.op()) {
            case LE -> e.bits() == 64 ? dst : e.bits() == 32 ? "(" + d.u64() + ") (" + d.u32() + ") " + dst
                    : "(" + dst + " & " + d.mask16() + ")";
            case BE, BSWAP -> d.runtime() + "bswap" + e.bits() + "(" + dst + ")";
        };
    }

    /** {@return the condition under which {@code j} is taken} */
    public String cond(Insn.Jump j) {
        boolean w64 = j.width() == Width.W64;
        String dst = w64 ? reg(j.dst()) : low(j.dst());
        String s = w64 ? src64(j.src()) : src32(j.src());
        String signed = "(" + (w64 ? d.s64() : d.s32()) + ") ";
        String sd = signed + dst;
        String ss = signed + s;
        return switch (j.op()) {
            case JEQ -> dst + " == " + s;
            case JNE -> dst + " != " + s;
            case JGT -> dst + " > " + s;
            case JGE -> dst + " >= " + s;
            case JLT -> dst + " < " + s;
            case JLE -> dst + " <= " + s;
            case JSET -> "(" + dst + " & " + s + ") != 0";
            case JSGT -> sd + " > " + ss;
            case JSGE -> sd + " >= " + ss;
            case JSLT -> sd + " < " + ss;
            case JSLE -> sd + " <= " + ss;
        };
    }
}
