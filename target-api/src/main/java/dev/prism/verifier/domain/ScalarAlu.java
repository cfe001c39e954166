package dev.prism.verifier.domain;

import dev.prism.isa.AluOp;
import dev.prism.isa.EndianOp;
import dev.prism.isa.Semantics;
import dev.prism.isa.Width;

/**
 * Transfer functions of the ALU instructions over {@link Scalar}s: for every x in dst and y in
 * src, {@link Semantics#alu} of x and y lies in {@link #alu} of dst and src. Tested against
 * {@link Semantics} by brute force (ScalarAluSoundnessTest).
 *
 * <p>Each operation is worked out once, on 64-bit values ({@link #full}). A 32-bit operation
 * is the same 64-bit operation on the operands' low halves, zero-extended (for the unsigned
 * operations) or sign-extended (for the signed ones), followed by truncation to 32 bits; where
 * both extensions give the right low half (add, sub, mul, the bitwise operations, lsh) both are
 * computed and intersected, since one keeps the unsigned ranges and the other the signed ones.
 * Conversely, where a 64-bit result's low half is the 32-bit result (add, sub, mul, the bitwise
 * operations), the 32-bit result bounds the 64-bit result's low half.
 */
public final class ScalarAlu {
    private ScalarAlu() {
    }

    /** {@return the values dst op src can take at the given width (RFC 9669 4.1)} */
    public static Scalar alu(AluOp op, Width width, Scalar dst, Scalar src) {
        if (dst.isEmpty() || src.isEmpty()) {
            return Scalar.EMPTY;
        }
        if (dst.isConstant() && src.isConstant()) {
            return Scalar.constant(Semantics.alu(op, width, dst.constantValue(), src.constantValue()));
        }
        int slot = (int) ((Normalizer.hash(dst) * 31 + Normalizer.hash(src) + op.ordinal() * 2 + width.ordinal())
                * 0x9E37_79B9_7F4A_7C15L >>> 54);
        Memo m = MEMO[slot];
        if (m != null && m.op == op && m.width == width && m.dst.equals(dst) && m.src.equals(src)) {
            return m.out;
        }
        Scalar out = width == Width.W64 ? alu64(op, dst, src) : alu32(op, dst, src);
        MEMO[slot] = new Memo(op, width, dst, src, out);
        return out;
    }

    /**
     * The results of the last operations computed, by a hash of the operation and operands: a
     * transfer function depends on nothing else, and an analysis repeats the same ones along
     * many paths (see Normalizer's table for the sharing between threads).
     */
    private record Memo(AluOp op, Width width, Scalar dst, Scalar src, Scalar out) {
    }

    private static final Memo[] MEMO = new Memo[1 << 10];

    /** {@return the values -dst can take at the given width} */
    public static Scalar neg(Width width, Scalar dst) {
        return alu(AluOp.SUB, width, Scalar.constant(0), dst);
    }

    /**
     * {@return the values of src sign-extended from its low fromBits bits, then truncated to the
     * width} (RFC 9669 4.1, MOVSX)
     *
     * @param fromBits 8, 16 or 32
     */
    public static Scalar movsx(Width width, int fromBits, Scalar src) {
        if (fromBits != 8 && fromBits != 16 && fromBits != 32) {
            throw new IllegalArgumentException("movsx from " + fromBits + " bits");
        }
        Scalar extended = src.signExtendLow(fromBits);
        return width == Width.W64 ? extended : extended.zeroExtendLow(32);
    }

    /**
     * {@return the values a byte swap instruction can produce} (RFC 9669 4.2; see
     * {@link Semantics#endian}). Swapping bytes moves each bit to one place, so the known bits
     * move exactly; the ranges are whatever those known bits allow.
     *
     * @param bits 16, 32 or 64
     */
    public static Scalar endian(EndianOp op, int bits, Scalar v) {
        if (bits != 16 && bits != 32 && bits != 64) {
            throw new IllegalArgumentException("byte swap of " + bits + " bits");
        }
        if (v.isEmpty()) {
            return Scalar.EMPTY;
        }
        if (op == EndianOp.LE) {
            return v.zeroExtendLow(bits);
        }
        Tnum t = v.bits();
        Tnum swapped = switch (bits) {
            case 16 -> new Tnum(Short.reverseBytes((short) t.value()) & 0xffffL,
                    Short.reverseBytes((short) t.mask()) & 0xffffL);
            case 32 -> new Tnum(Integer.reverseBytes((int) t.value()) & 0xffff_ffffL,
                    Integer.reverseBytes((int) t.mask()) & 0xffff_ffffL);
            default -> new Tnum(Long.reverseBytes(t.value()), Long.reverseBytes(t.mask()));
        };
        return Scalar.of(swapped);
    }

    /**
     * {@return the values a load of an unknown sizeBytes-byte quantity can put in a register}
     * (u8 gives 0..255, s8 -128..127, and so on)
     *
     * @param sizeBytes  1, 2, 4 or 8
     * @param signExtend whether the load is a sign-extending one (MEMSX)
     */
    public static Scalar load(int sizeBytes, boolean signExtend) {
        if (sizeBytes != 1 && sizeBytes != 2 && sizeBytes != 4 && sizeBytes != 8) {
            throw new IllegalArgumentException("load of " + sizeBytes + " bytes");
        }
        return signExtend
                ? Scalar.top().signExtendLow(8 * sizeBytes)
                : Scalar.top().zeroExtendLow(8 * sizeBytes);
    }

    private static Scalar alu64(AluOp op, Scalar a, Scalar b) {
        Scalar r = full(op, a, b, 63);
        if (lowHalfFromLowHalves(op)) {
            r = r.meetLowHalf(alu32(op, a, b));
        }
        return r.sync();
    }

    /**
     * The 32-bit operation on the extended low halves, truncated. sdiv, smod and arsh read the
     * low halves signed and div, mod and rsh unsigned, so each gets only its extension; for the
     * others both give the same low half.
     */
    private static Scalar alu32(AluOp op, Scalar a, Scalar b) {
        Scalar r = Scalar.top();
        if (op != AluOp.SDIV && op != AluOp.SMOD && op != AluOp.ARSH) {
            r = full(op, a.zeroExtendLow(32), b.zeroExtendLow(32), 31).zeroExtendLow(32);
        }
        if (op != AluOp.DIV && op != AluOp.MOD && op != AluOp.RSH) {
            r = r.meet(full(op, a.signExtendLow(32), b.signExtendLow(32), 31).zeroExtendLow(32));
        }
        return r;
    }

    /**
     * {@return whether the low 32 bits of a op b are the 32-bit a op b} Not for lsh: its amount
     * is masked to 63, not 31, and an amount of 32 or more leaves a zero low half.
     */
    private static boolean lowHalfFromLowHalves(AluOp op) {
        return switch (op) {
            case ADD, SUB, MUL, OR, AND, XOR, MOV -> true;
            case DIV, SDIV, MOD, SMOD, LSH, RSH, ARSH -> false;
        };
    }

    /**
     * {@return a 64-bit result of a op b; not necessarily normalised}
     *
     * @param shiftMask 63, or 31 when the operands are extended 32-bit ones (a shift amount is
     *                  masked to the operation's width, RFC 9669 4.1)
     */
    private static Scalar full(AluOp op, Scalar a, Scalar b, int shiftMask) {
        if (a.isEmpty() || b.isEmpty()) {
            return Scalar.EMPTY;
        }
        return switch (op) {
            case ADD -> Arithmetic.add(a, b);
            case SUB -> Arithmetic.sub(a, b);
            case MUL -> Arithmetic.mul(a, b);
            case DIV -> Division.udiv(a, b);
            case SDIV -> Division.sdiv(a, b);
            case MOD -> Division.umod(a, b);
            case SMOD -> Division.smod(a, b);
            case OR -> Bitwise.or(a, b);
            case AND -> Bitwise.and(a, b);
            case XOR -> Bitwise.xor(a, b);
            case MOV -> b;
            case LSH, RSH, ARSH -> Bitwise.shift(op, a, Bitwise.and(b, Scalar.constant(shiftMask)).sync());
        };
    }
}
