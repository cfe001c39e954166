package dev.prism.arm64;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * AArch64 instruction encoder: one method per instruction, named after the mnemonic, with an
 * explicit operand size (32 or 64) where the instruction has both forms. Section numbers refer
 * to the Arm Architecture Reference Manual for A-profile (ARM ARM, DDI 0487), chapter C6.2, cited by the instruction's heading there (section numbers shift between
 * revisions).
 * Every range check always runs and throws {@link IllegalArgumentException} naming the value.
 * Branch methods taking an {@code int} offset take it in bytes relative to the branch itself.
 * Knows nothing about BPF.
 */
public final class A64Assembler {

    // ---- Fixed opcode bits, one per instruction (or per family with the variable bits clear).

    private static final int ADD_IMM = 0x11000000;
    private static final int ADDS_IMM = 0x31000000;
    private static final int SUB_IMM = 0x51000000;
    private static final int SUBS_IMM = 0x71000000;
    private static final int ADD_REG = 0x0B000000;
    private static final int ADDS_REG = 0x2B000000;
    private static final int SUB_REG = 0x4B000000;
    private static final int SUBS_REG = 0x6B000000;
    private static final int AND_REG = 0x0A000000;
    private static final int ORR_REG = 0x2A000000;
    private static final int ORN_REG = 0x2A200000;
    private static final int EOR_REG = 0x4A000000;
    private static final int ANDS_REG = 0x6A000000;
    private static final int AND_IMM = 0x12000000;
    private static final int ORR_IMM = 0x32000000;
    private static final int EOR_IMM = 0x52000000;
    private static final int ANDS_IMM = 0x72000000;
    private static final int MOVN = 0x12800000;
    private static final int MOVZ = 0x52800000;
    private static final int MOVK = 0x72800000;
    private static final int MADD = 0x1B000000;
    private static final int MSUB = 0x1B008000;
    private static final int UDIV = 0x1AC00800;
    private static final int SDIV = 0x1AC00C00;
    private static final int LSLV = 0x1AC02000;
    private static final int LSRV = 0x1AC02400;
    private static final int ASRV = 0x1AC02800;
    private static final int SBFM = 0x13000000;
    private static final int UBFM = 0x53000000;
    private static final int REV16 = 0x5AC00400;
    private static final int REV_W = 0x5AC00800;
    private static final int REV32_X = 0xDAC00800;
    private static final int REV_X = 0xDAC00C00;
    private static final int CLZ = 0x5AC01000;
    private static final int CSEL = 0x1A800000;
    private static final int CSINC = 0x1A800400;

    // Loads and stores, unsigned scaled 12-bit offset form (C6.2, LDR/STR (immediate)).
    private static final int STRB = 0x39000000;
    private static final int LDRB = 0x39400000;
    private static final int LDRSB_X = 0x39800000;
    private static final int LDRSB_W = 0x39C00000;
    private static final int STRH = 0x79000000;
    private static final int LDRH = 0x79400000;
    private static final int LDRSH_X = 0x79800000;
    private static final int LDRSH_W = 0x79C00000;
    private static final int STR_W = 0xB9000000;
    private static final int LDR_W = 0xB9400000;
    private static final int LDRSW = 0xB9800000;
    private static final int STR_X = 0xF9000000;
    private static final int LDR_X = 0xF9400000;
    /** Bit 24 separates the unsigned-offset form from the unscaled and register forms. */
    private static final int UNSIGNED_OFFSET = 1 << 24;
    /** Register offset: bit 21, option=011 (LSL), bits 11:10 = 10. */
    private static final int REG_OFFSET = (1 << 21) | (0b011 << 13) | (0b10 << 10);

    // LDP/STP, signed-offset form: bits 24:23 = 10 (pre-index 11, post-index 01).
    private static final int STP_W = 0x29000000;
    private static final int LDP_W = 0x29400000;
    private static final int STP_X = 0xA9000000;
    private static final int LDP_X = 0xA9400000;

    private static final int LSE_ATOMIC = 0x38200000;
    private static final int CAS = 0x08A07C00;
    private static final int LDAXR = 0x085FFC00;
    private static final int LDAR = 0x08DFFC00;
    private static final int STLR = 0x089FFC00;
    private static final int STXR = 0x08007C00;
    private static final int STLXR = 0x0800FC00;

    private static final int ADR = 0x10000000;
    private static final int B = 0x14000000;
    private static final int BL = 0x94000000;
    private static final int B_COND = 0x54000000;
    private static final int CBZ = 0x34000000;
    private static final int CBNZ = 0x35000000;
    private static final int TBZ = 0x36000000;
    private static final int TBNZ = 0x37000000;
    private static final int BR = 0xD61F0000;
    private static final int BLR = 0xD63F0000;
    private static final int RET = 0xD65F0000;
    private static final int NOP = 0xD503201F;

    private int[] code = new int[64];
    private int count;

    /** {@return the byte offset of the next instruction} */
    public int position() {
        return count * 4;
    }

    /** {@return a copy of the emitted instruction words} */
    public int[] words() {
        return Arrays.copyOf(code, count);
    }

    /** {@return the emitted code as little-endian bytes} */
    public byte[] bytes() {
        byte[] out = new byte[count * 4];
        for (int i = 0; i < count; i++) {
            int w = code[i];
            out[4 * i] = (byte) w;
            out[4 * i + 1] = (byte) (w >>> 8);
            out[4 * i + 2] = (byte) (w >>> 16);
            out[4 * i + 3] = (byte) (w >>> 24);
        }
        return out;
    }

    /** Appends one raw instruction word. */
    public void emit(int word) {
        if (count == code.length) {
            code = Arrays.copyOf(code, count * 2);
        }
        code[count++] = word;
    }

    // ---- Labels.

    /** A branch target; branches to an unbound label are patched by {@link #bind}. */
    public static final class Label {
        private int position = -1;
        private final List<Fixup> pending = new ArrayList<>();

        /** {@return whether the label has been bound} */
        public boolean isBound() {
            return position >= 0;
        }

        /** {@return the bound byte offset} */
        public int position() {
            if (position < 0) {
                throw new IllegalStateException("label not bound");
            }
            return position;
        }
    }

    /** A branch at byte offset {@code at} whose {@code reloc} field waits for a label. */
    private record Fixup(int at, Reloc reloc) {
    }

    /**
     * The PC-relative offset fields: width in bits and shift of the word-count field; ADR21 is
     * ADR's byte offset, split into immlo (bits 30:29, the low two bits) and immhi (bits 23:5).
     */
    private enum Reloc {
        IMM26(26, 0), IMM19(19, 5), IMM14(14, 5), ADR21(21, 5);

        final int bits;
        final int shift;

        Reloc(int bits, int shift) {
            this.bits = bits;
            this.shift = shift;
        }

        /** Encodes a byte offset into the field; throws when it is misaligned or too far. */
        int field(int byteOffset) {
            if (this == ADR21) {
                if (byteOffset < -(1 << 20) || byteOffset >= 1 << 20) {
                    throw new IllegalArgumentException("branch offset out of 21-bit range (±1048576 bytes): " + byteOffset);
                }
                return ((byteOffset & 3) << 29) | (((byteOffset >> 2) & 0x7FFFF) << 5);
            }
            if ((byteOffset & 3) != 0) {
                throw new IllegalArgumentException("branch offset not a multiple of 4: " + byteOffset);
            }
            int words = byteOffset >> 2;
            int limit = 1 << (bits - 1);
            if (words < -limit || words >= limit) {
                throw new IllegalArgumentException("branch offset out of " + bits + "-bit range (±"
                        + (limit * 4L) + " bytes): " + byteOffset);
            }
            return (words & ((1 << bits) - 1)) << shift;
        }

        int mask() {
            if (this == ADR21) {
                return (3 << 29) | (0x7FFFF << 5);
            }
            return ((1 << bits) - 1) << shift;
        }
    }

    /** Binds {@code label} to the current position and patches the branches waiting on it. */
    public void bind(Label label) {
        if (label.isBound()) {
            throw new IllegalStateException("label already bound at " + label.position);
        }
        label.position = position();
        for (Fixup f : label.pending) {
            int i = f.at() / 4;
            code[i] = (code[i] & ~f.reloc().mask()) | f.reloc().field(label.position - f.at());
        }
        label.pending.clear();
    }

    /** {@return the offset field for a branch at the current position to {@code label}} */
    private int target(Label label, Reloc reloc) {
        if (label.isBound()) {
            return reloc.field(label.position - position());
        }
        label.pending.add(new Fixup(position(), reloc));
        return 0;
    }

    // ---- Field helpers: each returns the operand placed at its bit position.

    private static int sf(int size) {
        return switch (size) {
            case 32 -> 0;
            case 64 -> 1 << 31;
            default -> throw new IllegalArgumentException("operand size not 32 or 64: " + size);
        };
    }

    /** Register number of an operand that reads 31 as SP; rejects XZR. */
    private static int spReg(A64Reg r, String role) {
        if (r == A64Reg.XZR) {
            throw new IllegalArgumentException(role + " cannot be the zero register here: " + r);
        }
        return r.number();
    }

    /** Register number of an operand that reads 31 as ZR; rejects SP. */
    private static int zrReg(A64Reg r, String role) {
        if (r == A64Reg.SP) {
            throw new IllegalArgumentException(role + " cannot be sp here: " + r);
        }
        return r.number();
    }

    private static int rd(int n) {
        return n;
    }

    private static int rt(int n) {
        return n;
    }

    private static int rn(int n) {
        return n << 5;
    }

    private static int rm(int n) {
        return n << 16;
    }

    private static int rs(int n) {
        return n << 16;
    }

    private static int ra(int n) {
        return n << 10;
    }

    private static int rt2(int n) {
        return n << 10;
    }

    private static int imm12(int v) {
        return unsigned(v, 12, "imm12") << 10;
    }

    private static int imm16(int v) {
        return unsigned(v, 16, "imm16") << 5;
    }

    private static int imm9(int v) {
        return (signed(v, 9, "imm9") & 0x1FF) << 12;
    }

    private static int imm7(int v) {
        return (signed(v, 7, "imm7") & 0x7F) << 15;
    }

    private static int imm6(int size, int v) {
        return unsigned(v, size == 32 ? 5 : 6, "shift amount") << 10;
    }

    private static int immr(int size, int v) {
        return unsigned(v, size == 32 ? 5 : 6, "immr") << 16;
    }

    private static int imms(int size, int v) {
        return unsigned(v, size == 32 ? 5 : 6, "imms") << 10;
    }

    /** N bit of the bitfield instructions, equal to sf. */
    private static int bitfieldN(int size) {
        return size == 64 ? 1 << 22 : 0;
    }

    private static int shiftType(A64Shift s) {
        return s.code() << 22;
    }

    private static int cond(A64Cond c) {
        return c.code << 12;
    }

    private static int unsigned(int v, int bits, String what) {
        if (v < 0 || v >= (1 << bits)) {
            throw new IllegalArgumentException(what + " out of range 0.." + ((1 << bits) - 1) + ": " + v);
        }
        return v;
    }

    private static int signed(int v, int bits, String what) {
        int lim = 1 << (bits - 1);
        if (v < -lim || v >= lim) {
            throw new IllegalArgumentException(what + " out of range " + -lim + ".." + (lim - 1) + ": " + v);
        }
        return v;
    }

    /**
     * The byte offset divided by the access size, checked to fit {@code bits} bits (signed or
     * not); throws naming the byte offset when it is misaligned or out of range.
     */
    private static int scaled(int offset, int scale, int bits, boolean signed, String what) {
        if (offset % scale != 0) {
            throw new IllegalArgumentException(what + " not a multiple of " + scale + ": " + offset);
        }
        long lo = signed ? -(1L << (bits - 1)) * scale : 0;
        long hi = ((signed ? 1L << (bits - 1) : 1L << bits) - 1) * scale;
        if (offset < lo || offset > hi) {
            throw new IllegalArgumentException(what + " out of range " + lo + ".." + hi + ": " + offset);
        }
        return offset / scale;
    }

    // ---- Add / subtract.

    /** ADD (immediate), C6.2. @param size 32 or 64; rd and rn may be SP */
    public void add(int size, A64Reg rd, A64Reg rn, int imm12) {
        addSubImm(ADD_IMM, size, spReg(rd, "rd"), rn, imm12, false);
    }

    /** ADD (immediate) with the immediate shifted left by 12 when {@code lsl12}, C6.2. */
    public void add(int size, A64Reg rd, A64Reg rn, int imm12, boolean lsl12) {
        addSubImm(ADD_IMM, size, spReg(rd, "rd"), rn, imm12, lsl12);
    }

    /** SUB (immediate), C6.2. @param size 32 or 64; rd and rn may be SP */
    public void sub(int size, A64Reg rd, A64Reg rn, int imm12) {
        addSubImm(SUB_IMM, size, spReg(rd, "rd"), rn, imm12, false);
    }

    /** SUB (immediate) with optional LSL #12, C6.2. */
    public void sub(int size, A64Reg rd, A64Reg rn, int imm12, boolean lsl12) {
        addSubImm(SUB_IMM, size, spReg(rd, "rd"), rn, imm12, lsl12);
    }

    /** ADDS (immediate), C6.2. @param size 32 or 64; rd may be ZR, rn may be SP */
    public void adds(int size, A64Reg rd, A64Reg rn, int imm12, boolean lsl12) {
        addSubImm(ADDS_IMM, size, zrReg(rd, "rd"), rn, imm12, lsl12);
    }

    /** SUBS (immediate), C6.2. @param size 32 or 64; rd may be ZR, rn may be SP */
    public void subs(int size, A64Reg rd, A64Reg rn, int imm12, boolean lsl12) {
        addSubImm(SUBS_IMM, size, zrReg(rd, "rd"), rn, imm12, lsl12);
    }

    /** CMP (immediate), alias of SUBS with rd = ZR, C6.2. */
    public void cmp(int size, A64Reg rn, int imm12) {
        subs(size, A64Reg.XZR, rn, imm12, false);
    }

    /** CMN (immediate), alias of ADDS with rd = ZR, C6.2. */
    public void cmn(int size, A64Reg rn, int imm12) {
        adds(size, A64Reg.XZR, rn, imm12, false);
    }

    private void addSubImm(int op, int size, int rdNum, A64Reg rn, int imm12, boolean lsl12) {
        emit(sf(size) | (lsl12 ? 1 << 22 : 0) | imm12(imm12) | rn(spReg(rn, "rn")) | rd(rdNum) | op);
    }

    /** ADD (shifted register), C6.2, with no shift. Register 31 is ZR in every slot. */
    public void add(int size, A64Reg rd, A64Reg rn, A64Reg rm) {
        add(size, rd, rn, rm, A64Shift.LSL, 0);
    }

    /** ADD (shifted register), C6.2. @param shift LSL, LSR or ASR; amount below size */
    public void add(int size, A64Reg rd, A64Reg rn, A64Reg rm, A64Shift shift, int amount) {
        addSubReg(ADD_REG, size, rd, rn, rm, shift, amount);
    }

    /** SUB (shifted register), C6.2. */
    public void sub(int size, A64Reg rd, A64Reg rn, A64Reg rm) {
        sub(size, rd, rn, rm, A64Shift.LSL, 0);
    }

    /** SUB (shifted register), C6.2. @param shift LSL, LSR or ASR */
    public void sub(int size, A64Reg rd, A64Reg rn, A64Reg rm, A64Shift shift, int amount) {
        addSubReg(SUB_REG, size, rd, rn, rm, shift, amount);
    }

    /** ADDS (shifted register), C6.2. */
    public void adds(int size, A64Reg rd, A64Reg rn, A64Reg rm, A64Shift shift, int amount) {
        addSubReg(ADDS_REG, size, rd, rn, rm, shift, amount);
    }

    /** SUBS (shifted register), C6.2. */
    public void subs(int size, A64Reg rd, A64Reg rn, A64Reg rm, A64Shift shift, int amount) {
        addSubReg(SUBS_REG, size, rd, rn, rm, shift, amount);
    }

    /** CMP (shifted register), alias of SUBS with rd = ZR, C6.2. */
    public void cmp(int size, A64Reg rn, A64Reg rm) {
        subs(size, A64Reg.XZR, rn, rm, A64Shift.LSL, 0);
    }

    /** CMN (shifted register), alias of ADDS with rd = ZR, C6.2. */
    public void cmn(int size, A64Reg rn, A64Reg rm) {
        adds(size, A64Reg.XZR, rn, rm, A64Shift.LSL, 0);
    }

    /** NEG (shifted register), alias of SUB rd, ZR, rm, C6.2. */
    public void neg(int size, A64Reg rd, A64Reg rm) {
        sub(size, rd, A64Reg.XZR, rm);
    }

    private void addSubReg(int op, int size, A64Reg rd, A64Reg rn, A64Reg rm, A64Shift shift, int amount) {
        if (shift == A64Shift.ROR) {
            throw new IllegalArgumentException("add/sub cannot use shift ROR");
        }
        emit(sf(size) | shiftType(shift) | rm(zrReg(rm, "rm")) | imm6(size, amount)
                | rn(zrReg(rn, "rn")) | rd(zrReg(rd, "rd")) | op);
    }

    // ---- Logical.

    /** AND (shifted register), C6.2, no shift. */
    public void and(int size, A64Reg rd, A64Reg rn, A64Reg rm) {
        and(size, rd, rn, rm, A64Shift.LSL, 0);
    }

    /** AND (shifted register), C6.2. */
    public void and(int size, A64Reg rd, A64Reg rn, A64Reg rm, A64Shift shift, int amount) {
        logicalReg(AND_REG, size, rd, rn, rm, shift, amount);
    }

    /** ORR (shifted register), C6.2, no shift. */
    public void orr(int size, A64Reg rd, A64Reg rn, A64Reg rm) {
        orr(size, rd, rn, rm, A64Shift.LSL, 0);
    }

    /** ORR (shifted register), C6.2. */
    public void orr(int size, A64Reg rd, A64Reg rn, A64Reg rm, A64Shift shift, int amount) {
        logicalReg(ORR_REG, size, rd, rn, rm, shift, amount);
    }

    /** EOR (shifted register), C6.2, no shift. */
    public void eor(int size, A64Reg rd, A64Reg rn, A64Reg rm) {
        eor(size, rd, rn, rm, A64Shift.LSL, 0);
    }

    /** EOR (shifted register), C6.2. */
    public void eor(int size, A64Reg rd, A64Reg rn, A64Reg rm, A64Shift shift, int amount) {
        logicalReg(EOR_REG, size, rd, rn, rm, shift, amount);
    }

    /** ORN (shifted register), C6.2, no shift: rd = rn | ~rm. */
    public void orn(int size, A64Reg rd, A64Reg rn, A64Reg rm) {
        orn(size, rd, rn, rm, A64Shift.LSL, 0);
    }

    /** ORN (shifted register), C6.2: rd = rn | ~(rm shifted). */
    public void orn(int size, A64Reg rd, A64Reg rn, A64Reg rm, A64Shift shift, int amount) {
        logicalReg(ORN_REG, size, rd, rn, rm, shift, amount);
    }

    /** MVN, alias of ORN rd, ZR, rm, C6.2: rd = ~rm. */
    public void mvn(int size, A64Reg rd, A64Reg rm) {
        orn(size, rd, A64Reg.XZR, rm);
    }

    /** ANDS (shifted register), C6.2. */
    public void ands(int size, A64Reg rd, A64Reg rn, A64Reg rm, A64Shift shift, int amount) {
        logicalReg(ANDS_REG, size, rd, rn, rm, shift, amount);
    }

    /** TST (shifted register), alias of ANDS with rd = ZR, C6.2. */
    public void tst(int size, A64Reg rn, A64Reg rm) {
        ands(size, A64Reg.XZR, rn, rm, A64Shift.LSL, 0);
    }

    /**
     * MOV (register), C6.2 (alias of ORR rd, ZR, rm); when either operand is SP it is
     * MOV (to/from SP), C6.2, the alias of ADD rd, rn, #0.
     */
    public void mov(int size, A64Reg rd, A64Reg rm) {
        if (rd == A64Reg.SP || rm == A64Reg.SP) {
            add(size, rd, rm, 0);
        } else {
            orr(size, rd, A64Reg.XZR, rm);
        }
    }

    private void logicalReg(int op, int size, A64Reg rd, A64Reg rn, A64Reg rm, A64Shift shift, int amount) {
        emit(sf(size) | shiftType(shift) | rm(zrReg(rm, "rm")) | imm6(size, amount)
                | rn(zrReg(rn, "rn")) | rd(zrReg(rd, "rd")) | op);
    }

    /** AND (immediate), C6.2. @param imm a logical immediate of {@code size} bits; rd may be SP */
    public void and(int size, A64Reg rd, A64Reg rn, long imm) {
        emit(sf(size) | bitmask(size, imm) | rn(zrReg(rn, "rn")) | rd(spReg(rd, "rd")) | AND_IMM);
    }

    /** ORR (immediate), C6.2. @param imm a logical immediate of {@code size} bits; rd may be SP */
    public void orr(int size, A64Reg rd, A64Reg rn, long imm) {
        emit(sf(size) | bitmask(size, imm) | rn(zrReg(rn, "rn")) | rd(spReg(rd, "rd")) | ORR_IMM);
    }

    /** EOR (immediate), C6.2. @param imm a logical immediate of {@code size} bits; rd may be SP */
    public void eor(int size, A64Reg rd, A64Reg rn, long imm) {
        emit(sf(size) | bitmask(size, imm) | rn(zrReg(rn, "rn")) | rd(spReg(rd, "rd")) | EOR_IMM);
    }

    /** ANDS (immediate), C6.2. @param imm a logical immediate of {@code size} bits */
    public void ands(int size, A64Reg rd, A64Reg rn, long imm) {
        emit(sf(size) | bitmask(size, imm) | rn(zrReg(rn, "rn")) | rd(zrReg(rd, "rd")) | ANDS_IMM);
    }

    /** TST (immediate), alias of ANDS with rd = ZR, C6.2. */
    public void tst(int size, A64Reg rn, long imm) {
        ands(size, A64Reg.XZR, rn, imm);
    }

    /** {@return whether {@code imm} is encodable as a logical immediate of {@code size} bits} */
    public static boolean isLogicalImmediate(int size, long imm) {
        try {
            bitmask(size, imm);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * The N:immr:imms fields (bits 22, 21:16, 15:10) for a logical immediate, inverting
     * DecodeBitMasks (ARM ARM J1, shared/functions/bitmasks): the value must be a 2, 4, .., 64
     * bit element, replicated, whose bits are a rotated run of 1 to e-1 ones. A 32-bit value
     * may be given zero- or sign-extended; it is replicated to 64 bits, which forces e <= 32
     * and so N = 0 as the 32-bit form requires.
     */
    static int bitmask(int size, long imm) {
        sf(size);
        long v = imm;
        if (size == 32) {
            if (imm != (int) imm && imm != (imm & 0xFFFFFFFFL)) {
                throw new IllegalArgumentException("not a logical immediate (wider than 32 bits): 0x"
                        + Long.toHexString(imm));
            }
            v = (imm & 0xFFFFFFFFL) | (imm << 32);
        }
        if (v == 0 || v == -1) {
            throw new IllegalArgumentException("not a logical immediate: 0x" + Long.toHexString(imm));
        }
        int e = 64;
        while (e > 2) {
            int half = e / 2;
            long mask = (1L << half) - 1;
            if (((v >>> half) & mask) != (v & mask)) {
                break;
            }
            e = half;
        }
        long emask = e == 64 ? -1L : (1L << e) - 1;
        long elem = v & emask;
        int ones = Long.bitCount(elem);
        long run = (1L << ones) - 1;
        for (int r = 0; r < e; r++) {
            long rotated = r == 0 ? run : ((run >>> r) | (run << (e - r))) & emask;
            if (rotated == elem) {
                int n = e == 64 ? 1 : 0;
                int s = ((-e << 1) & 0x3F) | (ones - 1);
                return (n << 22) | (r << 16) | (s << 10);
            }
        }
        throw new IllegalArgumentException("not a logical immediate: 0x" + Long.toHexString(imm));
    }

    // ---- Move wide.

    /** MOVZ, C6.2. @param shift 0 or 16 (32-bit); 0, 16, 32 or 48 (64-bit) */
    public void movz(int size, A64Reg rd, int imm16, int shift) {
        moveWide(MOVZ, size, rd, imm16, shift);
    }

    /** MOVK, C6.2. @param shift 0 or 16 (32-bit); 0, 16, 32 or 48 (64-bit) */
    public void movk(int size, A64Reg rd, int imm16, int shift) {
        moveWide(MOVK, size, rd, imm16, shift);
    }

    /** MOVN, C6.2. @param shift 0 or 16 (32-bit); 0, 16, 32 or 48 (64-bit) */
    public void movn(int size, A64Reg rd, int imm16, int shift) {
        moveWide(MOVN, size, rd, imm16, shift);
    }

    private void moveWide(int op, int size, A64Reg rd, int imm16, int shift) {
        if (shift % 16 != 0 || shift < 0 || shift >= size) {
            throw new IllegalArgumentException("move-wide shift not 0.." + (size - 16) + " in steps of 16: " + shift);
        }
        emit(sf(size) | ((shift / 16) << 21) | imm16(imm16) | rd(zrReg(rd, "rd")) | op);
    }

    /**
     * Loads any constant of {@code size} bits into {@code rd} with one MOVZ or MOVN followed by a
     * MOVK per remaining halfword; MOVN is chosen when more halfwords are 0xffff than 0. A 32-bit
     * value may be given zero- or sign-extended.
     */
    public void movImm(int size, A64Reg rd, long value) {
        sf(size);
        int halves = size / 16;
        if (size == 32) {
            if (value != (int) value && value != (value & 0xFFFFFFFFL)) {
                throw new IllegalArgumentException("constant wider than 32 bits: 0x" + Long.toHexString(value));
            }
        }
        int zeros = 0;
        int ffffs = 0;
        for (int i = 0; i < halves; i++) {
            int h = (int) (value >>> (16 * i)) & 0xFFFF;
            zeros += h == 0 ? 1 : 0;
            ffffs += h == 0xFFFF ? 1 : 0;
        }
        boolean inverted = ffffs > zeros;
        int skip = inverted ? 0xFFFF : 0;
        boolean first = true;
        for (int i = 0; i < halves; i++) {
            int h = (int) (value >>> (16 * i)) & 0xFFFF;
            if (h == skip) {
                continue;
            }
            if (first) {
                if (inverted) {
                    movn(size, rd, ~h & 0xFFFF, 16 * i);
                } else {
                    movz(size, rd, h, 16 * i);
                }
                first = false;
            } else {
                movk(size, rd, h, 16 * i);
            }
        }
        if (first) {
            // Every halfword equals the skipped one: the value is 0 or all ones.
            if (inverted) {
                movn(size, rd, 0, 0);
            } else {
                movz(size, rd, 0, 0);
            }
        }
    }

    // ---- Multiply and divide.

    /** MADD, C6.2: rd = ra + rn * rm. */
    public void madd(int size, A64Reg rd, A64Reg rn, A64Reg rm, A64Reg ra) {
        emit(sf(size) | rm(zrReg(rm, "rm")) | ra(zrReg(ra, "ra")) | rn(zrReg(rn, "rn")) | rd(zrReg(rd, "rd")) | MADD);
    }

    /** MSUB, C6.2: rd = ra - rn * rm (with UDIV/SDIV, the remainder). */
    public void msub(int size, A64Reg rd, A64Reg rn, A64Reg rm, A64Reg ra) {
        emit(sf(size) | rm(zrReg(rm, "rm")) | ra(zrReg(ra, "ra")) | rn(zrReg(rn, "rn")) | rd(zrReg(rd, "rd")) | MSUB);
    }

    /** MUL, alias of MADD with ra = ZR, C6.2. */
    public void mul(int size, A64Reg rd, A64Reg rn, A64Reg rm) {
        madd(size, rd, rn, rm, A64Reg.XZR);
    }

    /** UDIV, C6.2. Division by zero yields 0. */
    public void udiv(int size, A64Reg rd, A64Reg rn, A64Reg rm) {
        dataProc2(UDIV, size, rd, rn, rm);
    }

    /** SDIV, C6.2. Division by zero yields 0; MIN / -1 yields MIN. */
    public void sdiv(int size, A64Reg rd, A64Reg rn, A64Reg rm) {
        dataProc2(SDIV, size, rd, rn, rm);
    }

    /** LSLV, C6.2: shift by rm modulo size. */
    public void lslv(int size, A64Reg rd, A64Reg rn, A64Reg rm) {
        dataProc2(LSLV, size, rd, rn, rm);
    }

    /** LSRV, C6.2. */
    public void lsrv(int size, A64Reg rd, A64Reg rn, A64Reg rm) {
        dataProc2(LSRV, size, rd, rn, rm);
    }

    /** ASRV, C6.2. */
    public void asrv(int size, A64Reg rd, A64Reg rn, A64Reg rm) {
        dataProc2(ASRV, size, rd, rn, rm);
    }

    private void dataProc2(int op, int size, A64Reg rd, A64Reg rn, A64Reg rm) {
        emit(sf(size) | rm(zrReg(rm, "rm")) | rn(zrReg(rn, "rn")) | rd(zrReg(rd, "rd")) | op);
    }

    // ---- Bitfield moves and their aliases.

    /** UBFM, C6.2. @param immr,imms 0..size-1 */
    public void ubfm(int size, A64Reg rd, A64Reg rn, int immr, int imms) {
        emit(sf(size) | bitfieldN(size) | immr(size, immr) | imms(size, imms)
                | rn(zrReg(rn, "rn")) | rd(zrReg(rd, "rd")) | UBFM);
    }

    /** SBFM, C6.2. @param immr,imms 0..size-1 */
    public void sbfm(int size, A64Reg rd, A64Reg rn, int immr, int imms) {
        emit(sf(size) | bitfieldN(size) | immr(size, immr) | imms(size, imms)
                | rn(zrReg(rn, "rn")) | rd(zrReg(rd, "rd")) | SBFM);
    }

    /** LSL (immediate), alias of UBFM, C6.2. @param shift 0..size-1 */
    public void lsl(int size, A64Reg rd, A64Reg rn, int shift) {
        int s = unsigned(shift, size == 64 ? 6 : 5, "shift amount");
        ubfm(size, rd, rn, (size - s) % size, size - 1 - s);
    }

    /** LSR (immediate), alias of UBFM, C6.2. @param shift 0..size-1 */
    public void lsr(int size, A64Reg rd, A64Reg rn, int shift) {
        ubfm(size, rd, rn, unsigned(shift, size == 64 ? 6 : 5, "shift amount"), size - 1);
    }

    /** ASR (immediate), alias of SBFM, C6.2. @param shift 0..size-1 */
    public void asr(int size, A64Reg rd, A64Reg rn, int shift) {
        sbfm(size, rd, rn, unsigned(shift, size == 64 ? 6 : 5, "shift amount"), size - 1);
    }

    /** UXTB, alias of UBFM Wd, Wn, #0, #7, C6.2 (32-bit only; writing Wd clears the upper half). */
    public void uxtb(A64Reg rd, A64Reg rn) {
        ubfm(32, rd, rn, 0, 7);
    }

    /** UXTH, alias of UBFM Wd, Wn, #0, #15, C6.2 (32-bit only). */
    public void uxth(A64Reg rd, A64Reg rn) {
        ubfm(32, rd, rn, 0, 15);
    }

    /** SXTB, alias of SBFM rd, rn, #0, #7, C6.2. @param size of rd; the source is Wn */
    public void sxtb(int size, A64Reg rd, A64Reg rn) {
        sbfm(size, rd, rn, 0, 7);
    }

    /** SXTH, alias of SBFM rd, rn, #0, #15, C6.2. @param size of rd; the source is Wn */
    public void sxth(int size, A64Reg rd, A64Reg rn) {
        sbfm(size, rd, rn, 0, 15);
    }

    /** SXTW, alias of SBFM Xd, Xn, #0, #31, C6.2. */
    public void sxtw(A64Reg rd, A64Reg rn) {
        sbfm(64, rd, rn, 0, 31);
    }

    // ---- Byte reversal.

    /** REV16, C6.2: swaps the bytes of each halfword. */
    public void rev16(int size, A64Reg rd, A64Reg rn) {
        emit(sf(size) | rn(zrReg(rn, "rn")) | rd(zrReg(rd, "rd")) | REV16);
    }

    /** REV32, C6.2 (64-bit only): swaps the bytes of each word. */
    public void rev32(A64Reg rd, A64Reg rn) {
        emit(rn(zrReg(rn, "rn")) | rd(zrReg(rd, "rd")) | REV32_X);
    }

    /** REV, C6.2: reverses the bytes of the whole register. */
    public void rev(int size, A64Reg rd, A64Reg rn) {
        int op = sf(size) == 0 ? REV_W : REV_X;
        emit(rn(zrReg(rn, "rn")) | rd(zrReg(rd, "rd")) | op);
    }

    /** CLZ, C6.2: the number of leading zero bits of rn (the size for 0). */
    public void clz(int size, A64Reg rd, A64Reg rn) {
        emit(sf(size) | rn(zrReg(rn, "rn")) | rd(zrReg(rd, "rd")) | CLZ);
    }

    // ---- Conditional select.

    /** CSEL, C6.2: rd = cond ? rn : rm. */
    public void csel(int size, A64Reg rd, A64Reg rn, A64Reg rm, A64Cond c) {
        emit(sf(size) | rm(zrReg(rm, "rm")) | cond(c) | rn(zrReg(rn, "rn")) | rd(zrReg(rd, "rd")) | CSEL);
    }

    /** CSINC, C6.2: rd = cond ? rn : rm + 1. */
    public void csinc(int size, A64Reg rd, A64Reg rn, A64Reg rm, A64Cond c) {
        emit(sf(size) | rm(zrReg(rm, "rm")) | cond(c) | rn(zrReg(rn, "rn")) | rd(zrReg(rd, "rd")) | CSINC);
    }

    /** CSET, alias of CSINC rd, ZR, ZR, invert(cond), C6.2: rd = cond ? 1 : 0. Not AL/NV. */
    public void cset(int size, A64Reg rd, A64Cond c) {
        csinc(size, rd, A64Reg.XZR, A64Reg.XZR, c.invert());
    }

    // ---- Loads and stores. rn (the base) may be SP; rt is ZR at 31.

    /** LDRB (immediate, unsigned offset), C6.2. @param offset 0..4095 */
    public void ldrb(A64Reg rt, A64Reg rn, int offset) {
        memUnsigned(LDRB, 1, rt, rn, offset);
    }

    /** LDRH (immediate, unsigned offset), C6.2. @param offset 0..8190, even */
    public void ldrh(A64Reg rt, A64Reg rn, int offset) {
        memUnsigned(LDRH, 2, rt, rn, offset);
    }

    /** LDR (immediate, unsigned offset), C6.2. @param size 32 or 64; offset a multiple of size/8 up to 4095*size/8 */
    public void ldr(int size, A64Reg rt, A64Reg rn, int offset) {
        memUnsigned(sf(size) == 0 ? LDR_W : LDR_X, size / 8, rt, rn, offset);
    }

    /** STRB (immediate, unsigned offset), C6.2. */
    public void strb(A64Reg rt, A64Reg rn, int offset) {
        memUnsigned(STRB, 1, rt, rn, offset);
    }

    /** STRH (immediate, unsigned offset), C6.2. */
    public void strh(A64Reg rt, A64Reg rn, int offset) {
        memUnsigned(STRH, 2, rt, rn, offset);
    }

    /** STR (immediate, unsigned offset), C6.2. @param size 32 or 64 */
    public void str(int size, A64Reg rt, A64Reg rn, int offset) {
        memUnsigned(sf(size) == 0 ? STR_W : STR_X, size / 8, rt, rn, offset);
    }

    /** LDRSB (immediate, unsigned offset), C6.2. @param size of rt */
    public void ldrsb(int size, A64Reg rt, A64Reg rn, int offset) {
        memUnsigned(sf(size) == 0 ? LDRSB_W : LDRSB_X, 1, rt, rn, offset);
    }

    /** LDRSH (immediate, unsigned offset), C6.2. @param size of rt */
    public void ldrsh(int size, A64Reg rt, A64Reg rn, int offset) {
        memUnsigned(sf(size) == 0 ? LDRSH_W : LDRSH_X, 2, rt, rn, offset);
    }

    /** LDRSW (immediate, unsigned offset), C6.2. */
    public void ldrsw(A64Reg rt, A64Reg rn, int offset) {
        memUnsigned(LDRSW, 4, rt, rn, offset);
    }

    private void memUnsigned(int op, int scale, A64Reg rt, A64Reg rn, int offset) {
        emit(imm12(scaled(offset, scale, 12, false, "offset")) | rn(spReg(rn, "rn")) | rt(zrReg(rt, "rt")) | op);
    }

    /** LDRB (register), C6.2: address rn + rm. */
    public void ldrb(A64Reg rt, A64Reg rn, A64Reg rm) {
        memRegister(LDRB, rt, rn, rm, false);
    }

    /** LDRH (register), C6.2. @param scaled whether rm is shifted left by 1 */
    public void ldrh(A64Reg rt, A64Reg rn, A64Reg rm, boolean scaled) {
        memRegister(LDRH, rt, rn, rm, scaled);
    }

    /** LDR (register), C6.2. @param scaled whether rm is shifted left by log2(size/8) */
    public void ldr(int size, A64Reg rt, A64Reg rn, A64Reg rm, boolean scaled) {
        memRegister(sf(size) == 0 ? LDR_W : LDR_X, rt, rn, rm, scaled);
    }

    /** STRB (register), C6.2. */
    public void strb(A64Reg rt, A64Reg rn, A64Reg rm) {
        memRegister(STRB, rt, rn, rm, false);
    }

    /** STRH (register), C6.2. */
    public void strh(A64Reg rt, A64Reg rn, A64Reg rm, boolean scaled) {
        memRegister(STRH, rt, rn, rm, scaled);
    }

    /** STR (register), C6.2. */
    public void str(int size, A64Reg rt, A64Reg rn, A64Reg rm, boolean scaled) {
        memRegister(sf(size) == 0 ? STR_W : STR_X, rt, rn, rm, scaled);
    }

    /** LDRSB (register), C6.2. @param size of rt */
    public void ldrsb(int size, A64Reg rt, A64Reg rn, A64Reg rm) {
        memRegister(sf(size) == 0 ? LDRSB_W : LDRSB_X, rt, rn, rm, false);
    }

    /** LDRSH (register), C6.2. */
    public void ldrsh(int size, A64Reg rt, A64Reg rn, A64Reg rm, boolean scaled) {
        memRegister(sf(size) == 0 ? LDRSH_W : LDRSH_X, rt, rn, rm, scaled);
    }

    /** LDRSW (register), C6.2. */
    public void ldrsw(A64Reg rt, A64Reg rn, A64Reg rm, boolean scaled) {
        memRegister(LDRSW, rt, rn, rm, scaled);
    }

    private void memRegister(int op, A64Reg rt, A64Reg rn, A64Reg rm, boolean scaled) {
        emit((op & ~UNSIGNED_OFFSET) | REG_OFFSET | (scaled ? 1 << 12 : 0) | rm(zrReg(rm, "rm"))
                | rn(spReg(rn, "rn")) | rt(zrReg(rt, "rt")));
    }

    /** LDURB, C6.2. @param offset -256..255 bytes */
    public void ldurb(A64Reg rt, A64Reg rn, int offset) {
        memUnscaled(LDRB, rt, rn, offset);
    }

    /** LDURH, C6.2. */
    public void ldurh(A64Reg rt, A64Reg rn, int offset) {
        memUnscaled(LDRH, rt, rn, offset);
    }

    /** LDUR, C6.2. @param size 32 or 64 */
    public void ldur(int size, A64Reg rt, A64Reg rn, int offset) {
        memUnscaled(sf(size) == 0 ? LDR_W : LDR_X, rt, rn, offset);
    }

    /** STURB, C6.2. */
    public void sturb(A64Reg rt, A64Reg rn, int offset) {
        memUnscaled(STRB, rt, rn, offset);
    }

    /** STURH, C6.2. */
    public void sturh(A64Reg rt, A64Reg rn, int offset) {
        memUnscaled(STRH, rt, rn, offset);
    }

    /** STUR, C6.2. @param size 32 or 64 */
    public void stur(int size, A64Reg rt, A64Reg rn, int offset) {
        memUnscaled(sf(size) == 0 ? STR_W : STR_X, rt, rn, offset);
    }

    /** LDURSB, C6.2. @param size of rt */
    public void ldursb(int size, A64Reg rt, A64Reg rn, int offset) {
        memUnscaled(sf(size) == 0 ? LDRSB_W : LDRSB_X, rt, rn, offset);
    }

    /** LDURSH, C6.2. @param size of rt */
    public void ldursh(int size, A64Reg rt, A64Reg rn, int offset) {
        memUnscaled(sf(size) == 0 ? LDRSH_W : LDRSH_X, rt, rn, offset);
    }

    /** LDURSW, C6.2. */
    public void ldursw(A64Reg rt, A64Reg rn, int offset) {
        memUnscaled(LDRSW, rt, rn, offset);
    }

    private void memUnscaled(int op, A64Reg rt, A64Reg rn, int offset) {
        emit((op & ~UNSIGNED_OFFSET) | imm9(offset) | rn(spReg(rn, "rn")) | rt(zrReg(rt, "rt")));
    }

    /** STP, C6.2. @param offset a multiple of size/8 in -64..63 times that */
    public void stp(int size, A64Reg rt, A64Reg rt2, A64Reg rn, int offset, A64Index index) {
        pair(sf(size) == 0 ? STP_W : STP_X, size, rt, rt2, rn, offset, index);
    }

    /** LDP, C6.2. @param offset a multiple of size/8 in -64..63 times that */
    public void ldp(int size, A64Reg rt, A64Reg rt2, A64Reg rn, int offset, A64Index index) {
        pair(sf(size) == 0 ? LDP_W : LDP_X, size, rt, rt2, rn, offset, index);
    }

    private void pair(int op, int size, A64Reg rt, A64Reg rt2, A64Reg rn, int offset, A64Index index) {
        int mode = switch (index) {
            case OFFSET -> 0b10;
            case PRE -> 0b11;
            case POST -> 0b01;
        } << 23;
        emit((op & ~(0b11 << 23)) | mode | imm7(scaled(offset, size / 8, 7, true, "pair offset"))
                | rt2(zrReg(rt2, "rt2")) | rn(spReg(rn, "rn")) | rt(zrReg(rt, "rt")));
    }

    // ---- Atomics (FEAT_LSE) and exclusives.

    /** LDADD{A,L,AL}, C6.2: rt = [rn]; [rn] += rs. */
    public void ldadd(int size, A64MemOrder order, A64Reg rs, A64Reg rt, A64Reg rn) {
        lse(0, 0b000, size, order, rs, rt, rn);
    }

    /** LDCLR{A,L,AL}, C6.2: rt = [rn]; [rn] &= ~rs. */
    public void ldclr(int size, A64MemOrder order, A64Reg rs, A64Reg rt, A64Reg rn) {
        lse(0, 0b001, size, order, rs, rt, rn);
    }

    /** LDEOR{A,L,AL}, C6.2: rt = [rn]; [rn] ^= rs. */
    public void ldeor(int size, A64MemOrder order, A64Reg rs, A64Reg rt, A64Reg rn) {
        lse(0, 0b010, size, order, rs, rt, rn);
    }

    /** LDSET{A,L,AL}, C6.2: rt = [rn]; [rn] |= rs. */
    public void ldset(int size, A64MemOrder order, A64Reg rs, A64Reg rt, A64Reg rn) {
        lse(0, 0b011, size, order, rs, rt, rn);
    }

    /** SWP{A,L,AL}, C6.2: rt = [rn]; [rn] = rs. */
    public void swp(int size, A64MemOrder order, A64Reg rs, A64Reg rt, A64Reg rn) {
        lse(1, 0b000, size, order, rs, rt, rn);
    }

    private void lse(int o3, int opc, int size, A64MemOrder order, A64Reg rs, A64Reg rt, A64Reg rn) {
        emit(memSize(size) | (order.acquire ? 1 << 23 : 0) | (order.release ? 1 << 22 : 0) | rs(zrReg(rs, "rs"))
                | (o3 << 15) | (opc << 12) | rn(spReg(rn, "rn")) | rt(zrReg(rt, "rt")) | LSE_ATOMIC);
    }

    /** CAS{A,L,AL}, C6.2: if [rn] == rs then [rn] = rt; rs = old [rn]. */
    public void cas(int size, A64MemOrder order, A64Reg rs, A64Reg rt, A64Reg rn) {
        emit(memSize(size) | (order.acquire ? 1 << 22 : 0) | (order.release ? 1 << 15 : 0) | rs(zrReg(rs, "rs"))
                | rn(spReg(rn, "rn")) | rt(zrReg(rt, "rt")) | CAS);
    }

    /** LDAXR, C6.2: load-acquire exclusive. */
    public void ldaxr(int size, A64Reg rt, A64Reg rn) {
        emit(memSize(size) | rn(spReg(rn, "rn")) | rt(zrReg(rt, "rt")) | LDAXR);
    }

    /** STLXR, C6.2: store-release exclusive; ws (a W register) = 0 on success, 1 on failure. */
    public void stlxr(int size, A64Reg ws, A64Reg rt, A64Reg rn) {
        emit(memSize(size) | rs(zrReg(ws, "ws")) | rn(spReg(rn, "rn")) | rt(zrReg(rt, "rt")) | STLXR);
    }

    /** LDAR, C6.2: load-acquire: no later load or store is observed before it. */
    public void ldar(int size, A64Reg rt, A64Reg rn) {
        emit(memSize(size) | rn(spReg(rn, "rn")) | rt(zrReg(rt, "rt")) | LDAR);
    }

    /** STLR, C6.2: store-release: no earlier load or store is observed after it. */
    public void stlr(int size, A64Reg rt, A64Reg rn) {
        emit(memSize(size) | rn(spReg(rn, "rn")) | rt(zrReg(rt, "rt")) | STLR);
    }

    /** STXR, C6.2: store exclusive (no release order); ws (a W register) = 0 on success, 1 on failure. */
    public void stxr(int size, A64Reg ws, A64Reg rt, A64Reg rn) {
        emit(memSize(size) | rs(zrReg(ws, "ws")) | rn(spReg(rn, "rn")) | rt(zrReg(rt, "rt")) | STXR);
    }

    /** The size field (bits 31:30) of a 32- or 64-bit memory access. */
    private static int memSize(int size) {
        return switch (size) {
            case 32 -> 0b10 << 30;
            case 64 -> 0b11 << 30;
            default -> throw new IllegalArgumentException("access size not 32 or 64: " + size);
        };
    }

    // ---- PC-relative addresses.

    /** ADR, C6.2: rd = the address of {@code target} (±1 MiB). */
    public void adr(A64Reg rd, Label target) {
        emit(target(target, Reloc.ADR21) | rd(zrReg(rd, "rd")) | ADR);
    }

    /** ADR, C6.2. @param offset bytes from this instruction, ±1 MiB */
    public void adr(A64Reg rd, int offset) {
        emit(Reloc.ADR21.field(offset) | rd(zrReg(rd, "rd")) | ADR);
    }

    // ---- Branches.

    /** B, C6.2. */
    public void b(Label target) {
        emit(target(target, Reloc.IMM26) | B);
    }

    /** B, C6.2. @param offset bytes from this instruction, ±128 MiB */
    public void b(int offset) {
        emit(Reloc.IMM26.field(offset) | B);
    }

    /** BL, C6.2. */
    public void bl(Label target) {
        emit(target(target, Reloc.IMM26) | BL);
    }

    /** BL, C6.2. @param offset bytes from this instruction, ±128 MiB */
    public void bl(int offset) {
        emit(Reloc.IMM26.field(offset) | BL);
    }

    /** B.cond, C6.2. */
    public void b(A64Cond c, Label target) {
        emit(target(target, Reloc.IMM19) | c.code | B_COND);
    }

    /** B.cond, C6.2. @param offset bytes, ±1 MiB */
    public void b(A64Cond c, int offset) {
        emit(Reloc.IMM19.field(offset) | c.code | B_COND);
    }

    /** CBZ, C6.2. */
    public void cbz(int size, A64Reg rt, Label target) {
        emit(sf(size) | target(target, Reloc.IMM19) | rt(zrReg(rt, "rt")) | CBZ);
    }

    /** CBZ, C6.2. @param offset bytes, ±1 MiB */
    public void cbz(int size, A64Reg rt, int offset) {
        emit(sf(size) | Reloc.IMM19.field(offset) | rt(zrReg(rt, "rt")) | CBZ);
    }

    /** CBNZ, C6.2. */
    public void cbnz(int size, A64Reg rt, Label target) {
        emit(sf(size) | target(target, Reloc.IMM19) | rt(zrReg(rt, "rt")) | CBNZ);
    }

    /** CBNZ, C6.2. @param offset bytes, ±1 MiB */
    public void cbnz(int size, A64Reg rt, int offset) {
        emit(sf(size) | Reloc.IMM19.field(offset) | rt(zrReg(rt, "rt")) | CBNZ);
    }

    /** TBZ, C6.2: branch if bit {@code bit} (0..63) of rt is 0. */
    public void tbz(A64Reg rt, int bit, Label target) {
        emit(testBit(bit) | target(target, Reloc.IMM14) | rt(zrReg(rt, "rt")) | TBZ);
    }

    /** TBZ, C6.2. @param offset bytes, ±32 KiB */
    public void tbz(A64Reg rt, int bit, int offset) {
        emit(testBit(bit) | Reloc.IMM14.field(offset) | rt(zrReg(rt, "rt")) | TBZ);
    }

    /** TBNZ, C6.2: branch if bit {@code bit} (0..63) of rt is 1. */
    public void tbnz(A64Reg rt, int bit, Label target) {
        emit(testBit(bit) | target(target, Reloc.IMM14) | rt(zrReg(rt, "rt")) | TBNZ);
    }

    /** TBNZ, C6.2. @param offset bytes, ±32 KiB */
    public void tbnz(A64Reg rt, int bit, int offset) {
        emit(testBit(bit) | Reloc.IMM14.field(offset) | rt(zrReg(rt, "rt")) | TBNZ);
    }

    /** b5 (bit 31) and b40 (bits 23:19) of TBZ/TBNZ. */
    private static int testBit(int bit) {
        unsigned(bit, 6, "test bit");
        return ((bit >> 5) << 31) | ((bit & 0x1F) << 19);
    }

    /** BR, C6.2. */
    public void br(A64Reg rn) {
        emit(rn(zrReg(rn, "rn")) | BR);
    }

    /** BLR, C6.2. */
    public void blr(A64Reg rn) {
        emit(rn(zrReg(rn, "rn")) | BLR);
    }

    /** RET, C6.2, to x30. */
    public void ret() {
        ret(A64Reg.X30);
    }

    /** RET, C6.2. */
    public void ret(A64Reg rn) {
        emit(rn(zrReg(rn, "rn")) | RET);
    }

    /** NOP, C6.2. */
    public void nop() {
        emit(NOP);
    }
}
