package dev.prism.testing;

import dev.prism.isa.AluOp;
import dev.prism.isa.AtomicOp;
import dev.prism.isa.CallKind;
import dev.prism.isa.EndianOp;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.JumpOp;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.isa.Operand;
import dev.prism.isa.Reg;
import dev.prism.isa.Size;
import dev.prism.isa.Width;
import java.util.Random;

/**
 * Random valid instructions of every family, with field values biased towards the edges
 * (0, -1, INT_MIN, INT_MAX, small numbers). Jump and call offsets are 0 (valid in any program
 * with an instruction after them) unless a caller rewrites them.
 */
public final class RandomInsns {
    private final Random rnd;

    public RandomInsns(Random rnd) {
        this.rnd = rnd;
    }

    public Reg reg() {
        return Reg.of(rnd.nextInt(11));
    }

    public int imm() {
        return switch (rnd.nextInt(6)) {
            case 0 -> 0;
            case 1 -> -1;
            case 2 -> Integer.MIN_VALUE;
            case 3 -> Integer.MAX_VALUE;
            case 4 -> rnd.nextInt(64) - 32;
            default -> rnd.nextInt();
        };
    }

    public short off() {
        return switch (rnd.nextInt(4)) {
            case 0 -> 0;
            case 1 -> Short.MIN_VALUE;
            case 2 -> (short) (rnd.nextInt(64) - 32);
            default -> (short) rnd.nextInt();
        };
    }

    private Operand operand() {
        return rnd.nextBoolean() ? reg() : new Imm(imm());
    }

    private <E extends Enum<E>> E pick(E[] values) {
        return values[rnd.nextInt(values.length)];
    }

    private Width width() {
        return rnd.nextBoolean() ? Width.W32 : Width.W64;
    }

    /** {@return a random instruction; jump-like ones have offset 0 when {@code zeroOffsets}} */
    public Insn next(boolean zeroOffsets) {
        return switch (rnd.nextInt(14)) {
            case 0, 1, 2 -> new Insn.Alu(pick(AluOp.values()), width(), reg(), operand());
            case 3 -> new Insn.Neg(width(), reg());
            case 4 -> {
                Width w = width();
                int[] from = w == Width.W64 ? new int[] {8, 16, 32} : new int[] {8, 16};
                yield new Insn.MovSx(w, from[rnd.nextInt(from.length)], reg(), reg());
            }
            case 5 -> new Insn.Endian(pick(EndianOp.values()), new int[] {16, 32, 64}[rnd.nextInt(3)], reg());
            case 6 -> {
                LoadImm64Kind k = pick(LoadImm64Kind.values());
                int imm = k == LoadImm64Kind.CODE_ADDR ? 2 : imm();
                yield new Insn.LoadImm64(k, reg(), imm, k.usesNextImm() ? imm() : 0);
            }
            case 7 -> {
                Size s = pick(Size.values());
                yield new Insn.Load(s, s != Size.DW && rnd.nextBoolean(), reg(), reg(), off());
            }
            case 8 -> new Insn.Store(pick(Size.values()), reg(), off(), operand());
            case 9 -> new Insn.Atomic(pick(AtomicOp.values()), rnd.nextBoolean() ? Size.W : Size.DW, reg(), reg(), off());
            case 10 -> rnd.nextBoolean() ? new Insn.Ja(0, rnd.nextBoolean())
                    : new Insn.Jump(pick(JumpOp.values()), width(), reg(), operand(), (short) 0);
            case 11 -> switch (rnd.nextInt(4)) {
                case 0 -> new Insn.Call(CallKind.HELPER, imm());
                case 1 -> new Insn.Call(CallKind.LOCAL, 0);
                case 2 -> new Insn.Call(CallKind.HELPER_BTF, imm());
                default -> new Insn.CallX(reg());
            };
            case 12 -> new Insn.Exit();
            default -> {
                Size s = new Size[] {Size.B, Size.H, Size.W}[rnd.nextInt(3)];
                yield new Insn.PacketLoad(s, rnd.nextBoolean() ? reg() : null, imm());
            }
        };
    }
}
