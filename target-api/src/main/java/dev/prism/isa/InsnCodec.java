package dev.prism.isa;

import dev.prism.error.MalformedProgramException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The only place that knows BPF's bit layout (RFC 9669 section 3, "Instruction encoding"):
 * <pre>
 *   byte 0      byte 1           bytes 2-3        bytes 4-7
 *   opcode  |  src:4 | dst:4  |  offset (s16)  |  imm (s32)        all little-endian
 * </pre>
 * Decoding is strict: every field the registry marks reserved must be zero, registers must be
 * r0..r10, lddw must have its second slot, and every jump or local-call target must land on an
 * instruction inside the program (not on the second half of an lddw). Failures are
 * {@link MalformedProgramException}s naming the slot index and the field.
 */
public final class InsnCodec {
    /** Bytes per instruction slot. */
    public static final int SLOT = 8;

    private InsnCodec() {
    }

    // ---------------------------------------------------------------------------------------
    // Decoding

    /**
     * Decodes a whole program.
     *
     * @param code little-endian instruction bytes, a multiple of 8
     * @return one entry per 8-byte slot; the second slot of an lddw holds {@code null}
     * @throws MalformedProgramException for any encoding error, naming the slot index
     */
    public static Insn[] decode(byte[] code) {
        if (code.length % SLOT != 0) {
            throw new MalformedProgramException(code.length / SLOT,
                    "program length " + code.length + " bytes is not a multiple of 8");
        }
        ByteBuffer buf = ByteBuffer.wrap(code).order(ByteOrder.LITTLE_ENDIAN);
        int n = code.length / SLOT;
        Insn[] out = new Insn[n];
        for (int pc = 0; pc < n; pc++) {
            long word = buf.getLong(pc * SLOT);
            long next;
            if (isLddw(word)) {
                if (pc + 1 >= n) {
                    throw new MalformedProgramException(pc, "lddw is missing its second slot (truncated program)");
                }
                next = buf.getLong((pc + 1) * SLOT);
            } else {
                next = 0;
            }
            out[pc] = decodeOne(pc, word, next);
            if (out[pc] instanceof Insn.LoadImm64) {
                pc++;
            }
        }
        checkTargets(out);
        return out;
    }

    private static boolean isLddw(long word) {
        return (word & 0xff) == 0x18;
    }

    /** Field accessors over a raw little-endian instruction word. */
    private static int opcode(long w) {
        return (int) (w & 0xff);
    }

    private static int dst(long w) {
        return (int) ((w >>> 8) & 0x0f);
    }

    private static int src(long w) {
        return (int) ((w >>> 12) & 0x0f);
    }

    private static short off(long w) {
        return (short) (w >>> 16);
    }

    private static int imm(long w) {
        return (int) (w >>> 32);
    }

    private static Insn decodeOne(int pc, long w, long next) {
        int op = opcode(w);
        return switch (InsnClass.of(op)) {
            case ALU, ALU64 -> decodeAlu(pc, w);
            case JMP, JMP32 -> decodeJump(pc, w);
            case LDX -> decodeLoad(pc, w);
            case ST, STX -> decodeStore(pc, w);
            case LD -> decodeLd(pc, w, next);
        };
    }

    private static Insn decodeAlu(int pc, long w) {
        int op = opcode(w);
        Width width = InsnClass.of(op) == InsnClass.ALU ? Width.W32 : Width.W64;
        boolean x = (op & 0x08) != 0;
        int code = op & 0xf0;
        Reg dst = reg(pc, "dst", dst(w));
        if (code == Opcodes.OP_NEG) {
            requireZero(pc, op, "src", src(w));
            requireZero(pc, op, "offset", off(w));
            requireZero(pc, op, "imm", imm(w));
            if (x) {
                throw unknown(pc, op);
            }
            return new Insn.Neg(width, dst);
        }
        if (code == Opcodes.OP_END) {
            requireZero(pc, op, "src", src(w));
            requireZero(pc, op, "offset", off(w));
            int bits = imm(w);
            if (bits != 16 && bits != 32 && bits != 64) {
                throw new MalformedProgramException(pc, String.format(
                        "byte swap width imm is %d, must be 16, 32 or 64 (opcode 0x%02x)", bits, op));
            }
            EndianOp e;
            if (width == Width.W32) {
                e = x ? EndianOp.BE : EndianOp.LE;
            } else if (!x) {
                e = EndianOp.BSWAP;
            } else {
                throw unknown(pc, op);
            }
            return new Insn.Endian(e, bits, dst);
        }
        AluOp aluOp = aluOp(code, off(w));
        if (aluOp == null) {
            if (code == AluOp.MOV.code() && x) {
                int from = off(w);
                if (from == 8 || from == 16 || (from == 32 && width == Width.W64)) {
                    requireZero(pc, op, "imm", imm(w));
                    return new Insn.MovSx(width, from, dst, reg(pc, "src", src(w)));
                }
                throw new MalformedProgramException(pc, String.format(
                        "offset is %d, must be 0 (mov) or %s (movsx) (opcode 0x%02x)", from,
                        width == Width.W64 ? "8, 16, 32" : "8, 16", op));
            }
            if (code == 0xd0 || code == 0xe0 || code == 0xf0) {
                throw unknown(pc, op);
            }
            boolean divMod = code == AluOp.DIV.code() || code == AluOp.MOD.code();
            throw new MalformedProgramException(pc, String.format("offset is %d, must be 0%s (opcode 0x%02x)",
                    off(w), divMod ? " or 1 (signed)" : "", op));
        }
        Operand src;
        if (x) {
            requireZero(pc, op, "imm", imm(w));
            src = reg(pc, "src", src(w));
        } else {
            requireZero(pc, op, "src", src(w));
            src = new Imm(imm(w));
        }
        return new Insn.Alu(aluOp, width, dst, src);
    }

    private static AluOp aluOp(int code, int offset) {
        for (AluOp a : AluOp.values()) {
            if (a.code() == code && a.offset() == offset) {
                return a;
            }
        }
        return null;
    }

    private static Insn decodeJump(int pc, long w) {
        int op = opcode(w);
        boolean jmp32 = InsnClass.of(op) == InsnClass.JMP32;
        int code = op & 0xf0;
        boolean x = (op & 0x08) != 0;
        switch (code) {
            case Opcodes.OP_JA -> {
                if (x) {
                    throw unknown(pc, op);
                }
                requireZero(pc, op, "dst", dst(w));
                requireZero(pc, op, "src", src(w));
                if (jmp32) {
                    requireZero(pc, op, "offset", off(w));
                    return new Insn.Ja(imm(w), true);
                }
                requireZero(pc, op, "imm", imm(w));
                return new Insn.Ja(off(w), false);
            }
            case Opcodes.OP_CALL -> {
                if (jmp32) {
                    throw unknown(pc, op);
                }
                requireZero(pc, op, "offset", off(w));
                if (x) {
                    requireZero(pc, op, "src", src(w));
                    requireZero(pc, op, "imm", imm(w));
                    return new Insn.CallX(reg(pc, "dst", dst(w)));
                }
                requireZero(pc, op, "dst", dst(w));
                int s = src(w);
                if (s > 2) {
                    throw new MalformedProgramException(pc, String.format(
                            "call src is %d, must be 0 (helper), 1 (local) or 2 (helper by BTF id) (opcode 0x%02x)", s, op));
                }
                return new Insn.Call(CallKind.values()[s], imm(w));
            }
            case Opcodes.OP_EXIT -> {
                if (jmp32 || x) {
                    throw unknown(pc, op);
                }
                requireZero(pc, op, "dst", dst(w));
                requireZero(pc, op, "src", src(w));
                requireZero(pc, op, "offset", off(w));
                requireZero(pc, op, "imm", imm(w));
                return new Insn.Exit();
            }
            default -> {
                JumpOp j = null;
                for (JumpOp candidate : JumpOp.values()) {
                    if (candidate.code() == code) {
                        j = candidate;
                    }
                }
                if (j == null) {
                    throw unknown(pc, op);
                }
                Reg dst = reg(pc, "dst", dst(w));
                Operand src;
                if (x) {
                    requireZero(pc, op, "imm", imm(w));
                    src = reg(pc, "src", src(w));
                } else {
                    requireZero(pc, op, "src", src(w));
                    src = new Imm(imm(w));
                }
                return new Insn.Jump(j, jmp32 ? Width.W32 : Width.W64, dst, src, off(w));
            }
        }
    }

    private static Insn decodeLoad(int pc, long w) {
        int op = opcode(w);
        int mode = op & 0xe0;
        Size size = Size.fromOpcodeBits(op);
        if (mode != Opcodes.MODE_MEM && !(mode == Opcodes.MODE_MEMSX && size != Size.DW)) {
            throw unknown(pc, op);
        }
        requireZero(pc, op, "imm", imm(w));
        return new Insn.Load(size, mode == Opcodes.MODE_MEMSX, reg(pc, "dst", dst(w)), reg(pc, "src", src(w)), off(w));
    }

    private static Insn decodeStore(int pc, long w) {
        int op = opcode(w);
        int mode = op & 0xe0;
        Size size = Size.fromOpcodeBits(op);
        Reg dst = reg(pc, "dst", dst(w));
        boolean stx = InsnClass.of(op) == InsnClass.STX;
        if (mode == Opcodes.MODE_MEM) {
            if (stx) {
                requireZero(pc, op, "imm", imm(w));
                return new Insn.Store(size, dst, off(w), reg(pc, "src", src(w)));
            }
            requireZero(pc, op, "src", src(w));
            return new Insn.Store(size, dst, off(w), new Imm(imm(w)));
        }
        if (mode == Opcodes.MODE_ATOMIC && stx && (size == Size.W || size == Size.DW)) {
            AtomicOp a = AtomicOp.ofImm(imm(w));
            if (a == null) {
                throw new MalformedProgramException(pc, String.format(
                        "atomic operation imm 0x%x is not defined (opcode 0x%02x)", imm(w), op));
            }
            return new Insn.Atomic(a, size, dst, reg(pc, "src", src(w)), off(w));
        }
        throw unknown(pc, op);
    }

    private static Insn decodeLd(int pc, long w, long next) {
        int op = opcode(w);
        int mode = op & 0xe0;
        Size size = Size.fromOpcodeBits(op);
        if (op == 0x18) {
            requireZero(pc, op, "offset", off(w));
            int s = src(w);
            if (s > 6) {
                throw new MalformedProgramException(pc, String.format("lddw src is %d, must be 0..6 (opcode 0x18)", s));
            }
            if (opcode(next) != 0 || dst(next) != 0 || src(next) != 0 || off(next) != 0) {
                throw new MalformedProgramException(pc + 1, String.format(
                        "second slot of lddw must have opcode, dst, src and offset zero (found opcode 0x%02x, dst %d, src %d, offset %d)",
                        opcode(next), dst(next), src(next), off(next)));
            }
            LoadImm64Kind kind = LoadImm64Kind.ofSrc(s);
            if (!kind.usesNextImm() && imm(next) != 0) {
                throw new MalformedProgramException(pc + 1, String.format(
                        "second slot imm of lddw src %d (%s) is reserved, must be 0 (found %d)", s, kind.keyword(), imm(next)));
            }
            return new Insn.LoadImm64(kind, reg(pc, "dst", dst(w)), imm(w), imm(next));
        }
        if ((mode == Opcodes.MODE_ABS || mode == Opcodes.MODE_IND) && size != Size.DW) {
            requireZero(pc, op, "dst", dst(w));
            requireZero(pc, op, "offset", off(w));
            if (mode == Opcodes.MODE_ABS) {
                requireZero(pc, op, "src", src(w));
                return new Insn.PacketLoad(size, null, imm(w));
            }
            return new Insn.PacketLoad(size, reg(pc, "src", src(w)), imm(w));
        }
        throw unknown(pc, op);
    }

    private static Reg reg(int pc, String field, int n) {
        if (n > 10) {
            throw new MalformedProgramException(pc, field + " register r" + n + " does not exist (registers are r0..r10)");
        }
        return Reg.of(n);
    }

    private static void requireZero(int pc, int op, String field, int value) {
        if (value != 0) {
            throw new MalformedProgramException(pc, String.format(
                    "reserved field %s is %d, must be 0 (opcode 0x%02x)", field, value, op));
        }
    }

    private static MalformedProgramException unknown(int pc, int op) {
        return new MalformedProgramException(pc, String.format("unknown opcode 0x%02x", op));
    }

    /** Checks that every jump and local call lands on an instruction start inside the program. */
    private static void checkTargets(Insn[] slots) {
        for (int pc = 0; pc < slots.length; pc++) {
            Insn insn = slots[pc];
            long offset;
            String what;
            switch (insn) {
                case Insn.Ja ja -> {
                    offset = ja.offset();
                    what = "jump";
                }
                case Insn.Jump j -> {
                    offset = j.offset();
                    what = "jump";
                }
                case Insn.Call c when c.kind() == CallKind.LOCAL -> {
                    offset = c.imm();
                    what = "local call";
                }
                // As in Linux (BPF_PSEUDO_FUNC), a code address counts from the lddw's own
                // index plus one, not from the end of its second slot.
                case Insn.LoadImm64 l when l.kind() == LoadImm64Kind.CODE_ADDR -> {
                    offset = l.imm();
                    what = "code address";
                }
                case null, default -> {
                    continue;
                }
            }
            long target = pc + 1 + offset;
            if (target < 0 || target >= slots.length) {
                throw new MalformedProgramException(pc, what + " offset " + offset + " targets instruction " + target
                        + ", outside the program (0.." + (slots.length - 1) + ")");
            }
            if (slots[(int) target] == null) {
                throw new MalformedProgramException(pc, what + " offset " + offset + " targets instruction " + target
                        + ", the second slot of an lddw");
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Encoding

    /** {@return the opcode byte an instruction encodes to} */
    public static int opcodeByte(Insn insn) {
        return switch (insn) {
            case Insn.Alu a -> a.op().code() | (a.src() instanceof Reg ? Opcodes.X : Opcodes.K) | aluClass(a.width());
            case Insn.Neg n -> Opcodes.OP_NEG | aluClass(n.width());
            case Insn.MovSx m -> AluOp.MOV.code() | Opcodes.X | aluClass(m.width());
            case Insn.Endian e -> switch (e.op()) {
                case LE -> Opcodes.OP_END | Opcodes.K | InsnClass.ALU.code();
                case BE -> Opcodes.OP_END | Opcodes.X | InsnClass.ALU.code();
                case BSWAP -> Opcodes.OP_END | Opcodes.K | InsnClass.ALU64.code();
            };
            case Insn.LoadImm64 l -> 0x18;
            case Insn.Load l -> (l.signExtend() ? Opcodes.MODE_MEMSX : Opcodes.MODE_MEM) | l.size().opcodeBits() | InsnClass.LDX.code();
            case Insn.Store s -> Opcodes.MODE_MEM | s.size().opcodeBits()
                    | (s.src() instanceof Reg ? InsnClass.STX.code() : InsnClass.ST.code());
            case Insn.Atomic a -> Opcodes.MODE_ATOMIC | a.size().opcodeBits() | InsnClass.STX.code();
            case Insn.Ja j -> Opcodes.OP_JA | (j.wide() ? InsnClass.JMP32.code() : InsnClass.JMP.code());
            case Insn.Jump j -> j.op().code() | (j.src() instanceof Reg ? Opcodes.X : Opcodes.K)
                    | (j.width() == Width.W32 ? InsnClass.JMP32.code() : InsnClass.JMP.code());
            case Insn.Call c -> Opcodes.OP_CALL | Opcodes.K | InsnClass.JMP.code();
            case Insn.CallX c -> Opcodes.OP_CALL | Opcodes.X | InsnClass.JMP.code();
            case Insn.Exit e -> Opcodes.OP_EXIT | InsnClass.JMP.code();
            case Insn.PacketLoad p -> (p.indirect() ? Opcodes.MODE_IND : Opcodes.MODE_ABS) | p.size().opcodeBits() | InsnClass.LD.code();
        };
    }

    private static int aluClass(Width w) {
        return w == Width.W32 ? InsnClass.ALU.code() : InsnClass.ALU64.code();
    }

    private static long word(int opcode, int dst, int src, int off, int imm) {
        return (opcode & 0xffL) | ((long) (dst & 0xf) << 8) | ((long) (src & 0xf) << 12)
                | ((long) (off & 0xffff) << 16) | ((long) imm << 32);
    }

    private static int regN(Operand o) {
        return o instanceof Reg r ? r.n() : 0;
    }

    private static int immOf(Operand o) {
        return o instanceof Imm i ? i.value() : 0;
    }

    /** {@return the raw words of one instruction: two for lddw, one otherwise} */
    public static long[] encode(Insn insn) {
        int op = opcodeByte(insn);
        return switch (insn) {
            case Insn.Alu a -> new long[] {word(op, a.dst().n(), regN(a.src()), a.op().offset(), immOf(a.src()))};
            case Insn.Neg n -> new long[] {word(op, n.dst().n(), 0, 0, 0)};
            case Insn.MovSx m -> new long[] {word(op, m.dst().n(), m.src().n(), m.fromBits(), 0)};
            case Insn.Endian e -> new long[] {word(op, e.dst().n(), 0, 0, e.bits())};
            case Insn.LoadImm64 l -> new long[] {word(op, l.dst().n(), l.kind().src(), 0, l.imm()), word(0, 0, 0, 0, l.nextImm())};
            case Insn.Load l -> new long[] {word(op, l.dst().n(), l.src().n(), l.offset(), 0)};
            case Insn.Store s -> new long[] {word(op, s.dst().n(), regN(s.src()), s.offset(), immOf(s.src()))};
            case Insn.Atomic a -> new long[] {word(op, a.dst().n(), a.src().n(), a.offset(), a.op().imm())};
            case Insn.Ja j -> new long[] {j.wide() ? word(op, 0, 0, 0, j.offset()) : word(op, 0, 0, j.offset(), 0)};
            case Insn.Jump j -> new long[] {word(op, j.dst().n(), regN(j.src()), j.offset(), immOf(j.src()))};
            case Insn.Call c -> new long[] {word(op, 0, c.kind().src(), 0, c.imm())};
            case Insn.CallX c -> new long[] {word(op, c.dst().n(), 0, 0, 0)};
            case Insn.Exit e -> new long[] {word(op, 0, 0, 0, 0)};
            case Insn.PacketLoad p -> new long[] {word(op, 0, p.indirect() ? p.src().n() : 0, 0, p.imm())};
        };
    }

    /** {@return the little-endian bytes of a program given as slots (null second halves of lddw are skipped)} */
    public static byte[] encode(Insn[] slots) {
        List<Long> words = new ArrayList<>();
        for (Insn insn : slots) {
            if (insn != null) {
                for (long w : encode(insn)) {
                    words.add(w);
                }
            }
        }
        ByteBuffer buf = ByteBuffer.allocate(words.size() * SLOT).order(ByteOrder.LITTLE_ENDIAN);
        words.forEach(buf::putLong);
        return buf.array();
    }
}
