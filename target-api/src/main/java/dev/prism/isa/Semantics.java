package dev.prism.isa;

/**
 * The arithmetic meaning of BPF instructions, once (RFC 9669 sections 4.1-4.3). The reference
 * interpreter, constant folding in the verifier and the tests of every backend call these, so a
 * disagreement about, say, {@code INT_MIN sdiv -1} can only live in one place.
 *
 * <p>Values are 64-bit registers as Java {@code long}s. 32-bit operations read the low 32 bits
 * of their operands and return the 32-bit result zero-extended.
 */
public final class Semantics {
    private Semantics() {
    }

    /** {@return low 32 bits of v, zero-extended} */
    public static long zext32(long v) {
        return v & 0xffff_ffffL;
    }

    /**
     * {@return dst op src for a binary ALU operation}
     *
     * @param src the source operand as the instruction sees it: a register's value, or for the K
     *            form the imm sign-extended to 64 bits (RFC 9669 4.1: "imm is sign extended")
     */
    public static long alu(AluOp op, Width width, long dst, long src) {
        return width == Width.W64 ? alu64(op, dst, src) : alu32(op, (int) dst, (int) src);
    }

    /** {@return the 64-bit ALU result} */
    public static long alu64(AluOp op, long a, long b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            // Division by zero yields 0; modulo by zero leaves dst unchanged (RFC 9669 4.1).
            case DIV -> b == 0 ? 0 : Long.divideUnsigned(a, b);
            case MOD -> b == 0 ? a : Long.remainderUnsigned(a, b);
            // Java's / and % truncate toward zero, give the remainder the dividend's sign and
            // wrap Long.MIN_VALUE / -1 to Long.MIN_VALUE (remainder 0): exactly RFC 9669's sdiv/smod.
            case SDIV -> b == 0 ? 0 : a / b;
            case SMOD -> b == 0 ? a : a % b;
            case OR -> a | b;
            case AND -> a & b;
            case XOR -> a ^ b;
            case MOV -> b;
            // Java masks long shift counts to 6 bits, as RFC 9669 requires (shift & 63).
            case LSH -> a << b;
            case RSH -> a >>> b;
            case ARSH -> a >> b;
        };
    }

    /** {@return the 32-bit ALU result, zero-extended to 64 bits} */
    public static long alu32(AluOp op, int a, int b) {
        int r = switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> b == 0 ? 0 : Integer.divideUnsigned(a, b);
            case MOD -> b == 0 ? a : Integer.remainderUnsigned(a, b);
            case SDIV -> b == 0 ? 0 : a / b;
            case SMOD -> b == 0 ? a : a % b;
            case OR -> a | b;
            case AND -> a & b;
            case XOR -> a ^ b;
            case MOV -> b;
            // Java masks int shift counts to 5 bits (shift & 31).
            case LSH -> a << b;
            case RSH -> a >>> b;
            case ARSH -> a >> b;
        };
        return zext32(r);
    }

    /** {@return -dst at the given width} */
    public static long neg(Width width, long dst) {
        return width == Width.W64 ? -dst : zext32(-(int) dst);
    }

    /** {@return src sign-extended from {@code fromBits}, then truncated to the width} */
    public static long movsx(Width width, int fromBits, long src) {
        long v = switch (fromBits) {
            case 8 -> (byte) src;
            case 16 -> (short) src;
            case 32 -> (int) src;
            default -> throw new IllegalArgumentException("movsx from " + fromBits);
        };
        return width == Width.W64 ? v : zext32(v);
    }

    /**
     * {@return the byte swap result} BPF is little-endian on every host Prism supports, so "to
     * little endian" only truncates and "to big endian" swaps (RFC 9669 4.2).
     */
    public static long endian(EndianOp op, int bits, long v) {
        if (op == EndianOp.LE) {
            return switch (bits) {
                case 16 -> v & 0xffff;
                case 32 -> zext32(v);
                default -> v;
            };
        }
        return switch (bits) {
            case 16 -> Short.reverseBytes((short) v) & 0xffffL;
            case 32 -> zext32(Integer.reverseBytes((int) v));
            default -> Long.reverseBytes(v);
        };
    }

    /** {@return whether a conditional jump is taken} */
    public static boolean condition(JumpOp op, Width width, long a, long b) {
        if (width == Width.W32) {
            int x = (int) a;
            int y = (int) b;
            return switch (op) {
                case JEQ -> x == y;
                case JNE -> x != y;
                case JSET -> (x & y) != 0;
                case JGT -> Integer.compareUnsigned(x, y) > 0;
                case JGE -> Integer.compareUnsigned(x, y) >= 0;
                case JLT -> Integer.compareUnsigned(x, y) < 0;
                case JLE -> Integer.compareUnsigned(x, y) <= 0;
                case JSGT -> x > y;
                case JSGE -> x >= y;
                case JSLT -> x < y;
                case JSLE -> x <= y;
            };
        }
        return switch (op) {
            case JEQ -> a == b;
            case JNE -> a != b;
            case JSET -> (a & b) != 0;
            case JGT -> Long.compareUnsigned(a, b) > 0;
            case JGE -> Long.compareUnsigned(a, b) >= 0;
            case JLT -> Long.compareUnsigned(a, b) < 0;
            case JLE -> Long.compareUnsigned(a, b) <= 0;
            case JSGT -> a > b;
            case JSGE -> a >= b;
            case JSLT -> a < b;
            case JSLE -> a <= b;
        };
    }

    /**
     * {@return the new memory value of an atomic read-modify-write} (CMPXCHG is handled by the
     * caller: it stores src only when memory equals r0).
     */
    public static long atomicUpdate(AtomicOp op, long old, long src) {
        return switch (op) {
            case ADD, FETCH_ADD -> old + src;
            case OR, FETCH_OR -> old | src;
            case AND, FETCH_AND -> old & src;
            case XOR, FETCH_XOR -> old ^ src;
            case XCHG, CMPXCHG -> src;
        };
    }

    /**
     * {@return the value a K-form operand contributes}: the 32-bit imm sign-extended to 64 bits
     * (RFC 9669 4.1 and 4.3; 32-bit operations then use its low half).
     */
    public static long imm(Imm imm) {
        return imm.value();
    }
}
