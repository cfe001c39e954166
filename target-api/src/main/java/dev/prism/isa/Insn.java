package dev.prism.isa;

/**
 * One BPF instruction, as meaning rather than bits. Only {@link InsnCodec} knows the encoding.
 * Consumers switch over this hierarchy exhaustively and without {@code default}, so that adding
 * an instruction breaks the compile of every backend that forgot it.
 *
 * <p>Offsets of jumps and local calls count 8-byte slots relative to the next instruction, as
 * in the encoding; {@code lddw} occupies two slots.
 */
public sealed interface Insn {

    /** {@return how many 8-byte slots the instruction occupies: 2 for lddw, else 1} */
    default int slots() {
        return 1;
    }

    /** {@code dst = dst op src}, 32-bit results zero-extended to 64 bits. */
    record Alu(AluOp op, Width width, Reg dst, Operand src) implements Insn {
    }

    /** {@code dst = -dst}. */
    record Neg(Width width, Reg dst) implements Insn {
    }

    /** {@code dst = (s<fromBits>) src}, sign-extended to the width (v4). fromBits is 8, 16 or 32. */
    record MovSx(Width width, int fromBits, Reg dst, Reg src) implements Insn {
        public MovSx {
            if (fromBits != 8 && fromBits != 16 && !(fromBits == 32 && width == Width.W64)) {
                throw new IllegalArgumentException("movsx from " + fromBits + " bits to " + width);
            }
        }
    }

    /** Byte swap of the low {@code bits} (16, 32, 64) of dst, upper bits cleared. */
    record Endian(EndianOp op, int bits, Reg dst) implements Insn {
        public Endian {
            if (bits != 16 && bits != 32 && bits != 64) {
                throw new IllegalArgumentException("byte swap width " + bits);
            }
        }
    }

    /** {@code lddw}: a 64-bit immediate or a pseudo value (map, map value, variable, code address). */
    record LoadImm64(LoadImm64Kind kind, Reg dst, int imm, int nextImm) implements Insn {
        @Override
        public int slots() {
            return 2;
        }

        /** {@return the 64-bit immediate (next_imm &lt;&lt; 32 | imm), meaningful for IMM64} */
        public long value() {
            return ((long) nextImm << 32) | (imm & 0xffff_ffffL);
        }

        public static LoadImm64 of(Reg dst, long value) {
            return new LoadImm64(LoadImm64Kind.IMM64, dst, (int) value, (int) (value >>> 32));
        }
    }

    /** {@code dst = *(size *)(src + offset)}; with {@code signExtend} the MEMSX form (v4). */
    record Load(Size size, boolean signExtend, Reg dst, Reg src, short offset) implements Insn {
        public Load {
            if (signExtend && size == Size.DW) {
                throw new IllegalArgumentException("no sign-extending double-word load");
            }
        }
    }

    /** {@code *(size *)(dst + offset) = src}; an immediate source is the ST form, a register STX. */
    record Store(Size size, Reg dst, short offset, Operand src) implements Insn {
    }

    /** Atomic read-modify-write on {@code *(size *)(dst + offset)} with {@code src}; size is W or DW. */
    record Atomic(AtomicOp op, Size size, Reg dst, Reg src, short offset) implements Insn {
        public Atomic {
            if (size != Size.W && size != Size.DW) {
                throw new IllegalArgumentException("atomic operations are 32 or 64 bit, not " + size);
            }
        }
    }

    /** Unconditional jump: offset in the offset field (JMP), or in imm for ja32/gotol (JMP32, v4). */
    record Ja(int offset, boolean wide) implements Insn {
        public Ja {
            if (!wide && (offset < Short.MIN_VALUE || offset > Short.MAX_VALUE)) {
                throw new IllegalArgumentException("ja offset " + offset + " needs ja32");
            }
        }
    }

    /** Conditional jump: {@code if (dst op src) goto +offset}. */
    record Jump(JumpOp op, Width width, Reg dst, Operand src, short offset) implements Insn {
    }

    /** {@code call imm}: a helper by id, a local function by relative offset, or a helper by BTF id. */
    record Call(CallKind kind, int imm) implements Insn {
    }

    /** {@code callx dst}: call the code address held in dst. */
    record CallX(Reg dst) implements Insn {
    }

    /** Return r0 to the caller (or end the program). */
    record Exit() implements Insn {
    }

    /**
     * Legacy packet load (RFC 9669 section 5.5): r0 = ntoh(*(size *)(packet + imm [+ src])).
     * Absolute when {@code src} is null, indirect otherwise. Size is B, H or W.
     */
    record PacketLoad(Size size, Reg src, int imm) implements Insn {
        public PacketLoad {
            if (size == Size.DW) {
                throw new IllegalArgumentException("legacy packet loads are 1, 2 or 4 bytes");
            }
        }

        public boolean indirect() {
            return src != null;
        }
    }
}
