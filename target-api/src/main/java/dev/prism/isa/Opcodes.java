package dev.prism.isa;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The complete instruction registry of RFC 9669 (IANA "BPF Instruction Set"), built once from
 * the instruction families so that no row can be forgotten, and the mapping from an {@link Insn}
 * to its row. Group assignment follows the registry: 32-bit ALU and JMP32 are base32, ALU64 and
 * the 64-bit conditional jumps are base64, double-word memory access and lddw are base64,
 * division and modulo are divmul32/divmul64, atomics atomic32/atomic64, legacy packet loads
 * packet, callx its own group.
 */
public final class Opcodes {
    private static final List<Opcode> REGISTRY;
    private static final Map<Long, Opcode> BY_KEY = new HashMap<>();

    static final int K = 0x00;
    static final int X = 0x08;
    static final int MODE_IMM = 0x00;
    static final int MODE_ABS = 0x20;
    static final int MODE_IND = 0x40;
    static final int MODE_MEM = 0x60;
    static final int MODE_MEMSX = 0x80;
    static final int MODE_ATOMIC = 0xc0;
    static final int OP_NEG = 0x80;
    static final int OP_END = 0xd0;
    static final int OP_JA = 0x00;
    static final int OP_CALL = 0x80;
    static final int OP_EXIT = 0x90;

    private Opcodes() {
    }

    static {
        List<Opcode> rows = new ArrayList<>();
        // 4.1 Arithmetic instructions
        for (Width w : Width.values()) {
            InsnClass cls = w == Width.W32 ? InsnClass.ALU : InsnClass.ALU64;
            for (AluOp op : AluOp.values()) {
                Group g = op.isDivMod() ? (w == Width.W32 ? Group.DIVMUL32 : Group.DIVMUL64)
                        : (w == Width.W32 ? Group.BASE32 : Group.BASE64);
                CpuVersion v = op == AluOp.SDIV || op == AluOp.SMOD ? CpuVersion.V4 : CpuVersion.V1;
                int disc = op == AluOp.DIV || op == AluOp.SDIV || op == AluOp.MOD || op == AluOp.SMOD ? op.offset() : -1;
                String m = op.mnemonic() + w.suffix();
                rows.add(new Opcode(op.code() | K | cls.code(), disc, m + " dst, imm", g, v));
                rows.add(new Opcode(op.code() | X | cls.code(), disc, m + " dst, src", g, v));
            }
            rows.add(new Opcode(OP_NEG | cls.code(), -1, "neg" + w.suffix() + " dst",
                    w == Width.W32 ? Group.BASE32 : Group.BASE64, CpuVersion.V1));
        }
        // MOV with offset 8/16/32: MOVSX (v4); the plain MOV rows above carry discriminator -1,
        // so MOV X is keyed with offset 0 below to keep the two apart.
        for (int bits : new int[] {8, 16}) {
            rows.add(new Opcode(AluOp.MOV.code() | X | InsnClass.ALU.code(), bits, "movsx" + bits + "32 dst, src", Group.BASE32, CpuVersion.V4));
        }
        for (int bits : new int[] {8, 16, 32}) {
            rows.add(new Opcode(AluOp.MOV.code() | X | InsnClass.ALU64.code(), bits, "movsx" + bits + "64 dst, src", Group.BASE64, CpuVersion.V4));
        }
        // 4.2 Byte swap instructions
        for (EndianOp op : EndianOp.values()) {
            int code = switch (op) {
                case LE -> OP_END | K | InsnClass.ALU.code();
                case BE -> OP_END | X | InsnClass.ALU.code();
                case BSWAP -> OP_END | K | InsnClass.ALU64.code();
            };
            for (int bits : new int[] {16, 32, 64}) {
                rows.add(new Opcode(code, bits, op.mnemonic() + bits + " dst",
                        bits == 64 ? Group.BASE64 : Group.BASE32, op == EndianOp.BSWAP ? CpuVersion.V4 : CpuVersion.V1));
            }
        }
        // 4.3 Jump instructions
        rows.add(new Opcode(OP_JA | InsnClass.JMP.code(), -1, "ja +offset", Group.BASE32, CpuVersion.V1));
        rows.add(new Opcode(OP_JA | InsnClass.JMP32.code(), -1, "ja32 +imm", Group.BASE32, CpuVersion.V4));
        for (JumpOp op : JumpOp.values()) {
            for (int src : new int[] {K, X}) {
                String operand = src == K ? "imm" : "src";
                rows.add(new Opcode(op.code() | src | InsnClass.JMP.code(), -1,
                        op.mnemonic() + " dst, " + operand + ", +offset", Group.BASE64, op.version()));
                rows.add(new Opcode(op.code() | src | InsnClass.JMP32.code(), -1,
                        op.mnemonic() + "32 dst, " + operand + ", +offset", Group.BASE32, CpuVersion.V3));
            }
        }
        rows.add(new Opcode(OP_CALL | K | InsnClass.JMP.code(), CallKind.HELPER.src(), "call imm (helper by id)", Group.BASE32, CpuVersion.V1));
        rows.add(new Opcode(OP_CALL | K | InsnClass.JMP.code(), CallKind.LOCAL.src(), "call local +imm", Group.BASE32, CpuVersion.V1));
        rows.add(new Opcode(OP_CALL | K | InsnClass.JMP.code(), CallKind.HELPER_BTF.src(), "call btf imm (helper by BTF id)", Group.BASE32, CpuVersion.V1));
        rows.add(new Opcode(OP_CALL | X | InsnClass.JMP.code(), -1, "callx dst", Group.CALLX, CpuVersion.V1));
        rows.add(new Opcode(OP_EXIT | InsnClass.JMP.code(), -1, "exit", Group.BASE32, CpuVersion.V1));
        // 5.1 Regular load and store, 5.2 sign-extension loads
        for (Size s : Size.values()) {
            Group g = s == Size.DW ? Group.BASE64 : Group.BASE32;
            rows.add(new Opcode(MODE_MEM | s.opcodeBits() | InsnClass.LDX.code(), -1, "ldx" + s.suffix() + " dst, [src+off]", g, CpuVersion.V1));
            rows.add(new Opcode(MODE_MEM | s.opcodeBits() | InsnClass.ST.code(), -1, "st" + s.suffix() + " [dst+off], imm", g, CpuVersion.V1));
            rows.add(new Opcode(MODE_MEM | s.opcodeBits() | InsnClass.STX.code(), -1, "stx" + s.suffix() + " [dst+off], src", g, CpuVersion.V1));
            if (s != Size.DW) {
                rows.add(new Opcode(MODE_MEMSX | s.opcodeBits() | InsnClass.LDX.code(), -1, "ldxs" + s.suffix() + " dst, [src+off]",
                        s == Size.W ? Group.BASE64 : Group.BASE32, CpuVersion.V4));
            }
        }
        // 5.3 Atomic operations
        for (Size s : new Size[] {Size.W, Size.DW}) {
            Group g = s == Size.W ? Group.ATOMIC32 : Group.ATOMIC64;
            for (AtomicOp op : AtomicOp.values()) {
                CpuVersion v = op == AtomicOp.ADD ? CpuVersion.V1 : CpuVersion.V3;
                rows.add(new Opcode(MODE_ATOMIC | s.opcodeBits() | InsnClass.STX.code(), op.imm(),
                        "lock " + op.mnemonic() + (s == Size.W ? "32" : "") + " [dst+off], src", g, v));
            }
        }
        // 5.4 64-bit immediate instructions
        for (LoadImm64Kind k : LoadImm64Kind.values()) {
            rows.add(new Opcode(MODE_IMM | Size.DW.opcodeBits() | InsnClass.LD.code(), k.src(),
                    "lddw dst, " + (k == LoadImm64Kind.IMM64 ? "imm64" : k.keyword() + " imm"), Group.BASE64, CpuVersion.V1));
        }
        // 5.5 Legacy BPF packet access instructions
        for (Size s : new Size[] {Size.W, Size.H, Size.B}) {
            rows.add(new Opcode(MODE_ABS | s.opcodeBits() | InsnClass.LD.code(), -1, "ldabs" + s.suffix() + " imm", Group.PACKET, CpuVersion.V1));
            rows.add(new Opcode(MODE_IND | s.opcodeBits() | InsnClass.LD.code(), -1, "ldind" + s.suffix() + " src, imm", Group.PACKET, CpuVersion.V1));
        }
        for (Opcode row : rows) {
            // The plain MOV X rows share their byte with movsx; key them by offset 0.
            long key = keyOf(row.code(), row.discriminator() < 0 && isMovX(row.code()) ? 0 : row.discriminator());
            if (BY_KEY.put(key, row) != null) {
                throw new AssertionError("duplicate registry row " + row);
            }
        }
        REGISTRY = Collections.unmodifiableList(rows);
    }

    private static boolean isMovX(int code) {
        return code == (AluOp.MOV.code() | X | InsnClass.ALU.code()) || code == (AluOp.MOV.code() | X | InsnClass.ALU64.code());
    }

    private static long keyOf(int code, int discriminator) {
        return ((long) code << 32) | (discriminator & 0xffff_ffffL);
    }

    /** {@return every row of the registry, in RFC section order} */
    public static List<Opcode> all() {
        return REGISTRY;
    }

    /** {@return the registry row an instruction belongs to} */
    public static Opcode of(Insn insn) {
        int code = InsnCodec.opcodeByte(insn);
        int disc = switch (insn) {
            case Insn.Alu a when a.op().isDivMod() -> a.op().offset();
            case Insn.Alu a when a.op() == AluOp.MOV && a.src() instanceof Reg -> 0;
            case Insn.MovSx m -> m.fromBits();
            case Insn.Endian e -> e.bits();
            case Insn.Atomic a -> a.op().imm();
            case Insn.LoadImm64 l -> l.kind().src();
            case Insn.Call c -> c.kind().src();
            default -> -1;
        };
        Opcode row = BY_KEY.get(keyOf(code, disc));
        if (row == null) {
            throw new IllegalStateException("no registry row for " + insn);
        }
        return row;
    }
}
