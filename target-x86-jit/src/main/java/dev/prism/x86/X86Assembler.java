package dev.prism.x86;

import java.util.Arrays;


/**
 * An x86-64 instruction encoder in the style of Graal's AMD64Assembler: one method per
 * mnemonic, appending to a growable byte buffer. References are to the Intel 64 and IA-32
 * Architectures Software Developer's Manual (SDM), Vol. 2.
 *
 * <p><b>Operand size.</b> Every method whose instruction exists in several widths takes the
 * width in bits as its first parameter, {@code size}: 8, 16, 32 or 64, of which each method
 * states the ones it accepts. A 32-bit operation on a register zero-extends the result into
 * the upper half (SDM Vol. 1, 3.4.1.1), which a BPF JIT relies on for ALU32.
 *
 * <p><b>Encoding.</b> An instruction is laid out as SDM Vol. 2A, 2.1: legacy prefixes
 * (LOCK 0xF0 via {@link #lock()}, operand size 0x66), REX, opcode, ModRM, SIB, displacement,
 * immediate. REX (2.2.1) is emitted only when a bit in it is set, or for byte registers
 * spl/bpl/sil/dil, which without REX would name ah/ch/dh/bh. Where the SDM offers a shorter
 * equivalent form (imm8 for an immediate in -128..127, the accumulator forms of ALU
 * instructions, the shift-by-one opcode) this encoder picks it, as LLVM's assembler does, so
 * its output is byte-identical to {@code llvm-mc}'s.
 *
 * <p><b>Range checks</b> always run and throw {@link IllegalArgumentException} naming the
 * offending value.
 *
 * <p><b>Jumps</b> to a {@link Label}: to a bound label the rel8 form is chosen when the
 * displacement fits, rel32 otherwise; to an unbound label rel32 is emitted unless the
 * {@code Short} variant is used, whose rel8 is checked when the label is bound.
 */
public final class X86Assembler {
    // Prefixes, SDM 2.1.1 and 2.2.1.
    private static final int LOCK = 0xF0;
    private static final int OPERAND_SIZE = 0x66;
    private static final int REX = 0x40;
    private static final int REX_W = 0x08;
    private static final int REX_R = 0x04;
    private static final int REX_X = 0x02;
    private static final int REX_B = 0x01;

    // ModRM.mod values, SDM 2.1.5, Table 2-2.
    private static final int MOD_NO_DISP = 0b00;
    private static final int MOD_DISP8 = 0b01;
    private static final int MOD_DISP32 = 0b10;
    private static final int MOD_REG = 0b11;
    /** ModRM.rm (or SIB.base) value 100: a SIB byte follows (rsp, r12 as base). */
    private static final int RM_SIB = 0b100;
    /** ModRM.rm value 101 with mod 00 means RIP+disp32, so rbp, r13 need mod 01 disp8 0. */
    private static final int RM_RBP = 0b101;
    /** SIB: scale 1, index 100 (none), base 100 (rsp/r12): {@code [rsp]}. */
    private static final int SIB_NO_INDEX_BASE_RSP = 0x24;

    // Opcodes; a value above 0xFF is the two-byte 0x0F escape form.
    private static final int MOV_RM_R = 0x89;         // MOV r/m, r
    private static final int MOV_R_RM = 0x8B;         // MOV r, r/m
    private static final int MOV_RM8_R8 = 0x88;       // MOV r/m8, r8
    private static final int MOV_R_IMM = 0xB8;        // MOV r32, imm32 / REX.W MOV r64, imm64 (+rd)
    private static final int MOV_RM8_IMM8 = 0xC6;     // MOV r/m8, imm8 /0
    private static final int MOV_RM_IMM = 0xC7;       // MOV r/m, imm16/32 /0
    private static final int MOVZX_BYTE = 0x0FB6;
    private static final int MOVZX_WORD = 0x0FB7;
    private static final int MOVSX_BYTE = 0x0FBE;
    private static final int MOVSX_WORD = 0x0FBF;
    private static final int MOVSXD = 0x63;
    private static final int LEA = 0x8D;
    private static final int ALU_RM_IMM32 = 0x81;     // add..cmp r/m, imm32 /digit
    private static final int ALU_RM_IMM8 = 0x83;      // add..cmp r/m, imm8 /digit
    private static final int TEST_RM_R = 0x85;
    private static final int TEST_EAX_IMM = 0xA9;
    private static final int GROUP3 = 0xF7;           // test /0, not /2, neg /3, div /6, idiv /7
    private static final int GROUP3_TEST = 0;
    private static final int GROUP3_NEG = 3;
    private static final int GROUP3_DIV = 6;
    private static final int GROUP3_IDIV = 7;
    private static final int IMUL_R_RM = 0x0FAF;
    private static final int BSR = 0x0FBD;
    private static final int IMUL_IMM8 = 0x6B;
    private static final int IMUL_IMM32 = 0x69;
    private static final int SHIFT_IMM8 = 0xC1;       // rol /0, shl /4, shr /5, sar /7
    private static final int SHIFT_ONE = 0xD1;
    private static final int SHIFT_CL = 0xD3;
    private static final int SHIFT_ROL = 0;
    private static final int SHIFT_SHL = 4;
    private static final int SHIFT_SHR = 5;
    private static final int SHIFT_SAR = 7;
    private static final int CDQ = 0x99;              // REX.W 99 is CQO
    private static final int BSWAP = 0x0FC8;          // +rd
    private static final int XADD = 0x0FC1;
    private static final int XCHG_RM_R = 0x87;
    private static final int CMPXCHG = 0x0FB1;
    private static final int CMOVCC = 0x0F40;         // +cc
    private static final int JMP_REL8 = 0xEB;
    private static final int JMP_REL32 = 0xE9;
    private static final int JCC_REL8 = 0x70;         // +cc
    private static final int JCC_REL32 = 0x0F80;      // +cc
    private static final int CALL_REL32 = 0xE8;
    private static final int GROUP5 = 0xFF;           // call /2, jmp /4
    private static final int GROUP5_CALL = 2;
    private static final int GROUP5_JMP = 4;
    private static final int RET = 0xC3;
    private static final int PUSH = 0x50;             // +rd
    private static final int POP = 0x58;              // +rd
    private static final int NOP = 0x90;

    /** The ALU group 1 instructions: /digit of 0x81/0x83; digit*8+1 is the r/m, r form. */
    private enum Alu {
        ADD(0), OR(1), AND(4), SUB(5), XOR(6), CMP(7);

        final int digit;

        Alu(int digit) {
            this.digit = digit;
        }

        int rmReg() {
            return digit << 3 | 0x01;
        }

        int accumulatorImm() {
            return digit << 3 | 0x05;
        }
    }

    private byte[] code = new byte[256];
    private int length;

    /** The number of bytes emitted so far; the offset of the next instruction. */
    public int position() {
        return length;
    }

    /** A copy of the emitted code. */
    public byte[] toByteArray() {
        return Arrays.copyOf(code, length);
    }

    // ---------------------------------------------------------------- moves

    /** MOV r/m, r (0x89 /r), SDM MOV. {@code dst = src}. @param size 32 or 64 */
    public void mov(int size, X86Reg dst, X86Reg src) {
        checkSize(size, 32, 64);
        opReg(size, MOV_RM_R, src.encoding, dst, false);
    }

    /**
     * MOV with an immediate, SDM MOV. Size 64: REX.W C7 /0 id, the immediate sign-extended,
     * so it must be in -2^31..2^31-1 (use {@link #movabs} otherwise). Size 32: B8+rd id, the
     * 32-bit result zero-extended into the register; the immediate is taken as 32 bits, so
     * -2^31..2^32-1.
     */
    public void mov(int size, X86Reg dst, long imm) {
        checkSize(size, 32, 64);
        if (size == 64) {
            int imm32 = checkImm32Signed(imm);
            opReg(64, MOV_RM_IMM, 0, dst, false);
            emit32(imm32);
        } else {
            int imm32 = checkImm32(imm);
            rex(false, 0, 0, dst.encoding, false);
            emit(MOV_R_IMM + dst.low3());
            emit32(imm32);
        }
    }

    /** MOV r64, imm64 (REX.W B8+rd io), SDM MOV: always the 10-byte form. */
    public void movabs(X86Reg dst, long imm) {
        rex(true, 0, 0, dst.encoding, false);
        emit(MOV_R_IMM + dst.low3());
        emit64(imm);
    }

    /** MOV r, r/m (0x8B /r), SDM MOV: a load. @param size 32 (zero-extends) or 64 */
    public void mov(int size, X86Reg dst, X86Address src) {
        checkSize(size, 32, 64);
        opMem(size, MOV_R_RM, dst.encoding, false, src);
    }

    /**
     * MOV r/m, r, SDM MOV: a store of the low {@code size} bits of {@code src}. Size 8 is
     * 0x88 (with REX for spl/bpl/sil/dil), 16 is 66 0x89, 32 0x89, 64 REX.W 0x89.
     * @param size 8, 16, 32 or 64
     */
    public void mov(int size, X86Address dst, X86Reg src) {
        checkSize(size, 8, 16, 32, 64);
        opMem(size, size == 8 ? MOV_RM8_R8 : MOV_RM_R, src.encoding, size == 8, dst);
    }

    /**
     * MOV r/m, imm, SDM MOV: a store of an immediate. Size 8: C6 /0 ib, imm in -128..255;
     * 16: 66 C7 /0 iw, imm in -32768..65535; 32: C7 /0 id, imm in -2^31..2^32-1;
     * 64: REX.W C7 /0 id, sign-extended, imm in -2^31..2^31-1.
     */
    public void mov(int size, X86Address dst, long imm) {
        checkSize(size, 8, 16, 32, 64);
        switch (size) {
            case 8 -> {
                int imm8 = checkImm(imm, -0x80, 0xFF, "8-bit immediate");
                opMem(8, MOV_RM8_IMM8, 0, false, dst);
                emit(imm8);
            }
            case 16 -> {
                int imm16 = checkImm(imm, -0x8000, 0xFFFF, "16-bit immediate");
                opMem(16, MOV_RM_IMM, 0, false, dst);
                emit16(imm16);
            }
            case 32 -> {
                int imm32 = checkImm32(imm);
                opMem(32, MOV_RM_IMM, 0, false, dst);
                emit32(imm32);
            }
            default -> {
                int imm32 = checkImm32Signed(imm);
                opMem(64, MOV_RM_IMM, 0, false, dst);
                emit32(imm32);
            }
        }
    }

    /**
     * MOVZX r32, r/m8 (0F B6 /r) or r/m16 (0F B7 /r), SDM MOVZX: a zero-extending load. The
     * 32-bit destination clears bits 63:32 too. @param srcSize 8 or 16
     */
    public void movzx(int srcSize, X86Reg dst, X86Address src) {
        checkSize(srcSize, 8, 16);
        opMem(32, srcSize == 8 ? MOVZX_BYTE : MOVZX_WORD, dst.encoding, false, src);
    }

    /**
     * MOVZX r32, r8 (0F B6 /r) or r16 (0F B7 /r), SDM MOVZX: zero-extends the low
     * {@code srcSize} bits of {@code src} into all 64 bits of {@code dst}.
     * @param srcSize 8 or 16
     */
    public void movzx(int srcSize, X86Reg dst, X86Reg src) {
        checkSize(srcSize, 8, 16);
        opReg(32, srcSize == 8 ? MOVZX_BYTE : MOVZX_WORD, dst.encoding, src, srcSize == 8);
    }

    /**
     * MOVSX (0F BE /r, 0F BF /r) or MOVSXD (REX.W 63 /r), SDM MOVSX/MOVSXD: a sign-extending
     * load. @param size destination size, 32 or 64 @param srcSize 8, 16, or 32 (needs size
     * 64)
     */
    public void movsx(int size, int srcSize, X86Reg dst, X86Address src) {
        checkSize(size, 32, 64);
        checkSize(srcSize, 8, 16, 32);
        if (srcSize == 32) {
            checkSize(size, 64);
        }
        opMem(size, movsxOpcode(srcSize), dst.encoding, false, src);
    }

    /**
     * MOVSX / MOVSXD with a register source: sign-extends the low {@code srcSize} bits of
     * {@code src}. @param size 32 or 64 @param srcSize 8, 16, or 32 (needs size 64)
     */
    public void movsx(int size, int srcSize, X86Reg dst, X86Reg src) {
        checkSize(size, 32, 64);
        checkSize(srcSize, 8, 16, 32);
        if (srcSize == 32) {
            checkSize(size, 64);
        }
        opReg(size, movsxOpcode(srcSize), dst.encoding, src, srcSize == 8);
    }

    private static int movsxOpcode(int srcSize) {
        return switch (srcSize) {
            case 8 -> MOVSX_BYTE;
            case 16 -> MOVSX_WORD;
            default -> MOVSXD;
        };
    }

    /** LEA r, m (0x8D /r), SDM LEA: {@code dst = base + disp}. @param size 32 or 64 */
    public void lea(int size, X86Reg dst, X86Address src) {
        checkSize(size, 32, 64);
        opMem(size, LEA, dst.encoding, false, src);
    }

    /** CMOVcc r, r/m (0F 40+cc /r), SDM CMOVcc. @param size 32 or 64 */
    public void cmov(int size, Condition cc, X86Reg dst, X86Reg src) {
        checkSize(size, 32, 64);
        opReg(size, CMOVCC + cc.code, dst.encoding, src, false);
    }

    // ---------------------------------------------------------------- arithmetic

    /** ADD r/m, r (0x01 /r). @param size 32 or 64 */
    public void add(int size, X86Reg dst, X86Reg src) {
        alu(Alu.ADD, size, dst, src);
    }

    /** ADD r/m, imm (0x83 /0 ib, 0x05 id, 0x81 /0 id); see {@link #alu(Alu, int, X86Reg, long)}. */
    public void add(int size, X86Reg dst, long imm) {
        alu(Alu.ADD, size, dst, imm);
    }

    /** ADD m, r (0x01 /r): with {@link #lock()} an atomic add. @param size 32 or 64 */
    public void add(int size, X86Address dst, X86Reg src) {
        alu(Alu.ADD, size, dst, src);
    }

    /** SUB r/m, r (0x29 /r). @param size 32 or 64 */
    public void sub(int size, X86Reg dst, X86Reg src) {
        alu(Alu.SUB, size, dst, src);
    }

    /** SUB r/m, imm (0x83 /5 ib, 0x2D id, 0x81 /5 id). */
    public void sub(int size, X86Reg dst, long imm) {
        alu(Alu.SUB, size, dst, imm);
    }

    /** AND r/m, r (0x21 /r). @param size 32 or 64 */
    public void and(int size, X86Reg dst, X86Reg src) {
        alu(Alu.AND, size, dst, src);
    }

    /** AND r/m, imm (0x83 /4 ib, 0x25 id, 0x81 /4 id). */
    public void and(int size, X86Reg dst, long imm) {
        alu(Alu.AND, size, dst, imm);
    }

    /** AND m, r (0x21 /r): with {@link #lock()} an atomic and. @param size 32 or 64 */
    public void and(int size, X86Address dst, X86Reg src) {
        alu(Alu.AND, size, dst, src);
    }

    /** OR r/m, r (0x09 /r). @param size 32 or 64 */
    public void or(int size, X86Reg dst, X86Reg src) {
        alu(Alu.OR, size, dst, src);
    }

    /** OR r/m, imm (0x83 /1 ib, 0x0D id, 0x81 /1 id). */
    public void or(int size, X86Reg dst, long imm) {
        alu(Alu.OR, size, dst, imm);
    }

    /** OR m, r (0x09 /r): with {@link #lock()} an atomic or. @param size 32 or 64 */
    public void or(int size, X86Address dst, X86Reg src) {
        alu(Alu.OR, size, dst, src);
    }

    /** XOR r/m, r (0x31 /r); {@code xor(32, rdx, rdx)} clears rdx. @param size 32 or 64 */
    public void xor(int size, X86Reg dst, X86Reg src) {
        alu(Alu.XOR, size, dst, src);
    }

    /** XOR r/m, imm (0x83 /6 ib, 0x35 id, 0x81 /6 id). */
    public void xor(int size, X86Reg dst, long imm) {
        alu(Alu.XOR, size, dst, imm);
    }

    /** XOR m, r (0x31 /r): with {@link #lock()} an atomic xor. @param size 32 or 64 */
    public void xor(int size, X86Address dst, X86Reg src) {
        alu(Alu.XOR, size, dst, src);
    }

    /** CMP r/m, r (0x39 /r): flags of {@code dst - src}. @param size 32 or 64 */
    public void cmp(int size, X86Reg dst, X86Reg src) {
        alu(Alu.CMP, size, dst, src);
    }

    /** CMP r/m, imm (0x83 /7 ib, 0x3D id, 0x81 /7 id). */
    public void cmp(int size, X86Reg dst, long imm) {
        alu(Alu.CMP, size, dst, imm);
    }

    private void alu(Alu op, int size, X86Reg dst, X86Reg src) {
        checkSize(size, 32, 64);
        opReg(size, op.rmReg(), src.encoding, dst, false);
    }

    private void alu(Alu op, int size, X86Address dst, X86Reg src) {
        checkSize(size, 32, 64);
        opMem(size, op.rmReg(), src.encoding, false, dst);
    }

    /**
     * Group 1 with an immediate, SDM ADD/OR/AND/SUB/XOR/CMP: 0x83 /digit ib when the immediate
     * is in -128..127, else the accumulator form (digit*8+5 id) for rax, else 0x81 /digit id.
     * Size 64 sign-extends imm32, so imm must be in -2^31..2^31-1; size 32 takes 32 bits, so
     * -2^31..2^32-1.
     */
    private void alu(Alu op, int size, X86Reg dst, long imm) {
        checkSize(size, 32, 64);
        int imm32 = size == 64 ? checkImm32Signed(imm) : checkImm32(imm);
        if (isByte(imm32)) {
            opReg(size, ALU_RM_IMM8, op.digit, dst, false);
            emit(imm32);
        } else if (dst == X86Reg.RAX) {
            rex(size == 64, 0, 0, 0, false);
            emit(op.accumulatorImm());
            emit32(imm32);
        } else {
            opReg(size, ALU_RM_IMM32, op.digit, dst, false);
            emit32(imm32);
        }
    }

    /** TEST r/m, r (0x85 /r), SDM TEST: flags of {@code dst & src}. @param size 32 or 64 */
    public void test(int size, X86Reg dst, X86Reg src) {
        checkSize(size, 32, 64);
        opReg(size, TEST_RM_R, src.encoding, dst, false);
    }

    /**
     * TEST r/m, imm32 (0xA9 id for rax, else 0xF7 /0 id), SDM TEST; there is no imm8 form
     * for 32/64 bits. Immediate range as for {@link #add(int, X86Reg, long)}.
     */
    public void test(int size, X86Reg dst, long imm) {
        checkSize(size, 32, 64);
        int imm32 = size == 64 ? checkImm32Signed(imm) : checkImm32(imm);
        if (dst == X86Reg.RAX) {
            rex(size == 64, 0, 0, 0, false);
            emit(TEST_EAX_IMM);
        } else {
            opReg(size, GROUP3, GROUP3_TEST, dst, false);
        }
        emit32(imm32);
    }

    /** IMUL r, r/m (0F AF /r), SDM IMUL: {@code dst *= src} (low half). @param size 32 or 64 */
    public void imul(int size, X86Reg dst, X86Reg src) {
        checkSize(size, 32, 64);
        opReg(size, IMUL_R_RM, dst.encoding, src, false);
    }

    /**
     * IMUL r, r/m, imm (0x6B /r ib when the immediate is in -128..127, else 0x69 /r id), SDM
     * IMUL: {@code dst = src * imm} (low half), the immediate sign-extended to the operand size.
     * @param size 32 or 64 @param imm in -2^31..2^31-1
     */
    public void imul(int size, X86Reg dst, X86Reg src, long imm) {
        checkSize(size, 32, 64);
        int imm32 = checkImm32Signed(imm);
        if (isByte(imm32)) {
            opReg(size, IMUL_IMM8, dst.encoding, src, false);
            emit(imm32);
        } else {
            opReg(size, IMUL_IMM32, dst.encoding, src, false);
            emit32(imm32);
        }
    }

    /**
     * BSR r, r/m (0F BD /r), SDM BSR: the index of the highest set bit of {@code src} into
     * {@code dst}, ZF set (and dst undefined) when src is zero. @param size 32 or 64
     */
    public void bsr(int size, X86Reg dst, X86Reg src) {
        checkSize(size, 32, 64);
        opReg(size, BSR, dst.encoding, src, false);
    }

    /** NEG r/m (0xF7 /3), SDM NEG. @param size 32 or 64 */
    public void neg(int size, X86Reg reg) {
        checkSize(size, 32, 64);
        opReg(size, GROUP3, GROUP3_NEG, reg, false);
    }

    /**
     * DIV r/m (0xF7 /6), SDM DIV: unsigned {@code rdx:rax / reg}, quotient in rax, remainder
     * in rdx; rdx must be cleared first ({@code xor(32, RDX, RDX)}). @param size 32 or 64
     */
    public void div(int size, X86Reg divisor) {
        checkSize(size, 32, 64);
        opReg(size, GROUP3, GROUP3_DIV, divisor, false);
    }

    /**
     * IDIV r/m (0xF7 /7), SDM IDIV: signed {@code rdx:rax / reg}; sign-extend rax into rdx
     * first ({@link #cqo()} / {@link #cdq()}). @param size 32 or 64
     */
    public void idiv(int size, X86Reg divisor) {
        checkSize(size, 32, 64);
        opReg(size, GROUP3, GROUP3_IDIV, divisor, false);
    }

    /** CQO (REX.W 0x99), SDM CWD/CDQ/CQO: sign-extends rax into rdx:rax. */
    public void cqo() {
        emit(REX | REX_W);
        emit(CDQ);
    }

    /** CDQ (0x99), SDM CWD/CDQ/CQO: sign-extends eax into edx:eax. */
    public void cdq() {
        emit(CDQ);
    }

    // ---------------------------------------------------------------- shifts and swaps

    /** SHL r/m, cl (0xD3 /4). @param size 16, 32 or 64 */
    public void shl(int size, X86Reg reg) {
        shiftCl(SHIFT_SHL, size, reg);
    }

    /** SHL r/m, imm8 (0xD1 /4 for 1, else 0xC1 /4 ib). @param count 0..size-1 */
    public void shl(int size, X86Reg reg, int count) {
        shiftImm(SHIFT_SHL, size, reg, count);
    }

    /** SHR r/m, cl (0xD3 /5): logical. @param size 16, 32 or 64 */
    public void shr(int size, X86Reg reg) {
        shiftCl(SHIFT_SHR, size, reg);
    }

    /** SHR r/m, imm8 (0xD1 /5 for 1, else 0xC1 /5 ib). @param count 0..size-1 */
    public void shr(int size, X86Reg reg, int count) {
        shiftImm(SHIFT_SHR, size, reg, count);
    }

    /** SAR r/m, cl (0xD3 /7): arithmetic. @param size 16, 32 or 64 */
    public void sar(int size, X86Reg reg) {
        shiftCl(SHIFT_SAR, size, reg);
    }

    /** SAR r/m, imm8 (0xD1 /7 for 1, else 0xC1 /7 ib). @param count 0..size-1 */
    public void sar(int size, X86Reg reg, int count) {
        shiftImm(SHIFT_SAR, size, reg, count);
    }

    /**
     * ROL r/m, imm8 (0xD1 /0 for 1, else 0xC1 /0 ib), SDM RCL/RCR/ROL/ROR;
     * {@code rol(16, reg, 8)} swaps the two low bytes (a 16-bit byte swap; bits 63:16 are
     * kept, so follow with {@link #movzx(int, X86Reg, X86Reg)}). @param count 0..size-1
     */
    public void rol(int size, X86Reg reg, int count) {
        shiftImm(SHIFT_ROL, size, reg, count);
    }

    private void shiftCl(int digit, int size, X86Reg reg) {
        checkSize(size, 16, 32, 64);
        opReg(size, SHIFT_CL, digit, reg, false);
    }

    private void shiftImm(int digit, int size, X86Reg reg, int count) {
        checkSize(size, 16, 32, 64);
        // The CPU masks the count to 5 or 6 bits; a count the mask would change is a bug in
        // the caller, so it is refused rather than silently reduced.
        if (count < 0 || count >= size) {
            throw new IllegalArgumentException(
                    "shift count " + count + " out of range 0.." + (size - 1) + " for size " + size);
        }
        if (count == 1) {
            opReg(size, SHIFT_ONE, digit, reg, false);
        } else {
            opReg(size, SHIFT_IMM8, digit, reg, false);
            emit(count);
        }
    }

    /** BSWAP r (0F C8+rd), SDM BSWAP: reverses the bytes. @param size 32 or 64 */
    public void bswap(int size, X86Reg reg) {
        checkSize(size, 32, 64);
        rex(size == 64, 0, 0, reg.encoding, false);
        emitOpcode(BSWAP + reg.low3());
    }

    // ---------------------------------------------------------------- atomics

    /** The LOCK prefix (0xF0), SDM LOCK: makes the next read-modify-write of memory atomic. */
    public void lock() {
        emit(LOCK);
    }

    /**
     * XADD m, r (0F C1 /r), SDM XADD: {@code tmp = [m]; [m] += src; src = tmp}; atomic with
     * {@link #lock()}. @param size 32 or 64
     */
    public void xadd(int size, X86Address dst, X86Reg src) {
        checkSize(size, 32, 64);
        opMem(size, XADD, src.encoding, false, dst);
    }

    /** XCHG m, r (0x87 /r), SDM XCHG: atomic without a LOCK prefix. @param size 32 or 64 */
    public void xchg(int size, X86Address dst, X86Reg src) {
        checkSize(size, 32, 64);
        opMem(size, XCHG_RM_R, src.encoding, false, dst);
    }

    /**
     * CMPXCHG m, r (0F B1 /r), SDM CMPXCHG: if {@code rax == [m]} then {@code [m] = src} else
     * {@code rax = [m]}; atomic with {@link #lock()}. @param size 32 or 64
     */
    public void cmpxchg(int size, X86Address dst, X86Reg src) {
        checkSize(size, 32, 64);
        opMem(size, CMPXCHG, src.encoding, false, dst);
    }

    // ---------------------------------------------------------------- control flow

    /** Binds {@code label} to the current position and patches every jump to it. */
    public void bind(Label label) {
        if (label.isBound()) {
            throw new IllegalStateException("label already bound at " + label.position);
        }
        label.position = length;
        for (Label.Patch p : label.patches) {
            int rel = label.position - p.end();
            if (p.width() == 1) {
                if (!isByte(rel)) {
                    throw new IllegalArgumentException("rel8 displacement " + rel
                            + " of the short jump at " + (p.site() - 1) + " out of range -128..127");
                }
                code[p.site()] = (byte) rel;
            } else {
                patch32(p.site(), rel);
            }
        }
        label.patches.clear();
    }

    /** JMP rel8 (0xEB cb) to a bound label in range, else JMP rel32 (0xE9 cd), SDM JMP. */
    public void jmp(Label target) {
        if (target.isBound() && isByte(target.position - (length + 2))) {
            emit(JMP_REL8);
            emit(target.position - length - 1);
        } else {
            emit(JMP_REL32);
            rel32(target);
        }
    }

    /** JMP rel8 (0xEB cb), SDM JMP; the displacement must fit in -128..127. */
    public void jmpShort(Label target) {
        emit(JMP_REL8);
        rel8(target);
    }

    /** JMP r/m64 (0xFF /4), SDM JMP: an indirect jump. */
    public void jmp(X86Reg target) {
        opReg(32, GROUP5, GROUP5_JMP, target, false);
    }

    /**
     * Jcc rel8 (0x70+cc cb) to a bound label in range, else Jcc rel32 (0F 80+cc cd),
     * SDM Jcc.
     */
    public void jcc(Condition cc, Label target) {
        if (target.isBound() && isByte(target.position - (length + 2))) {
            emit(JCC_REL8 + cc.code);
            emit(target.position - length - 1);
        } else {
            emitOpcode(JCC_REL32 + cc.code);
            rel32(target);
        }
    }

    /** Jcc rel8 (0x70+cc cb), SDM Jcc; the displacement must fit in -128..127. */
    public void jccShort(Condition cc, Label target) {
        emit(JCC_REL8 + cc.code);
        rel8(target);
    }

    /** CALL rel32 (0xE8 cd), SDM CALL. */
    public void call(Label target) {
        emit(CALL_REL32);
        rel32(target);
    }

    /** CALL r/m64 (0xFF /2), SDM CALL: an indirect call; 64-bit without REX.W. */
    public void call(X86Reg target) {
        opReg(32, GROUP5, GROUP5_CALL, target, false);
    }

    /** CALL r/m64 (0xFF /2) with a memory operand, SDM CALL: a call through a table slot. */
    public void call(X86Address target) {
        opMem(32, GROUP5, GROUP5_CALL, false, target);
    }

    /**
     * LEA r64, [rip + rel32] (REX.W 8D /r, ModRM mod 00 rm 101), SDM LEA and 2.2.1.6: the
     * address of {@code target}, position-independent.
     */
    public void leaRip(X86Reg dst, Label target) {
        rex(true, dst.encoding, 0, 0, false);
        emit(LEA);
        emit(modrm(MOD_NO_DISP, dst.encoding, RM_RBP));
        rel32(target);
    }

    /** CMP r/m, imm with a memory operand (0x83 /7 ib, 0x81 /7 id). @param size 32 or 64 */
    public void cmp(int size, X86Address dst, long imm) {
        aluMem(Alu.CMP, size, dst, imm);
    }

    /** ADD r/m, imm with a memory operand (0x83 /0 ib, 0x81 /0 id). @param size 32 or 64 */
    public void add(int size, X86Address dst, long imm) {
        aluMem(Alu.ADD, size, dst, imm);
    }

    /** SUB r/m, imm with a memory operand (0x83 /5 ib, 0x81 /5 id). @param size 32 or 64 */
    public void sub(int size, X86Address dst, long imm) {
        aluMem(Alu.SUB, size, dst, imm);
    }

    /** CMP r/m, r with a memory operand (0x39 /r): flags of {@code [dst] - src}. @param size 32 or 64 */
    public void cmp(int size, X86Address dst, X86Reg src) {
        alu(Alu.CMP, size, dst, src);
    }

    private void aluMem(Alu op, int size, X86Address dst, long imm) {
        checkSize(size, 32, 64);
        int imm32 = size == 64 ? checkImm32Signed(imm) : checkImm32(imm);
        if (isByte(imm32)) {
            opMem(size, ALU_RM_IMM8, op.digit, false, dst);
            emit(imm32);
        } else {
            opMem(size, ALU_RM_IMM32, op.digit, false, dst);
            emit32(imm32);
        }
    }

    /** RET (0xC3), SDM RET. */
    public void ret() {
        emit(RET);
    }

    /** PUSH r64 (0x50+rd), SDM PUSH. */
    public void push(X86Reg reg) {
        rex(false, 0, 0, reg.encoding, false);
        emit(PUSH + reg.low3());
    }

    /** POP r64 (0x58+rd), SDM POP. */
    public void pop(X86Reg reg) {
        rex(false, 0, 0, reg.encoding, false);
        emit(POP + reg.low3());
    }

    /** NOP (0x90), SDM NOP. */
    public void nop() {
        emit(NOP);
    }

    /** Emits a rel8 field for a jump ending right after it. */
    private void rel8(Label target) {
        int site = length;
        int end = site + 1;
        if (target.isBound()) {
            int rel = target.position - end;
            if (!isByte(rel)) {
                throw new IllegalArgumentException("rel8 displacement " + rel
                        + " of the short jump at " + (site - 1) + " out of range -128..127");
            }
            emit(rel);
        } else {
            target.patches.add(new Label.Patch(site, 1, end));
            emit(0);
        }
    }

    /** Emits a rel32 field for a jump ending right after it. */
    private void rel32(Label target) {
        int site = length;
        int end = site + 4;
        if (target.isBound()) {
            emit32(target.position - end);
        } else {
            target.patches.add(new Label.Patch(site, 4, end));
            emit32(0);
        }
    }

    // ---------------------------------------------------------------- encoding

    /** [66] [REX] opcode ModRM(mod 11, reg, rm). */
    private void opReg(int size, int opcode, int reg, X86Reg rm, boolean byteRm) {
        if (size == 16) {
            emit(OPERAND_SIZE);
        }
        rex(size == 64, reg, 0, rm.encoding, byteRm && rm.encoding >= 4);
        emitOpcode(opcode);
        emit(modrm(MOD_REG, reg, rm.low3()));
    }

    /** [66] [REX] opcode ModRM [SIB] [disp]; {@code byteReg}: ModRM.reg names a byte register. */
    private void opMem(int size, int opcode, int reg, boolean byteReg, X86Address m) {
        if (size == 16) {
            emit(OPERAND_SIZE);
        }
        rex(size == 64, reg, 0, m.base().encoding, byteReg && reg >= 4);
        emitOpcode(opcode);
        address(reg, m);
    }

    /**
     * ModRM, SIB and displacement for {@code [base + disp]}, SDM 2.1.5 Tables 2-2 and 2-3:
     * mod 00 for no displacement unless the base is rbp/r13 (rm 101 with mod 00 is
     * RIP-relative), mod 01 for disp8, mod 10 for disp32; rsp/r12 (rm 100) need a SIB with no
     * index.
     */
    private void address(int reg, X86Address m) {
        int base = m.base().low3();
        int disp = m.disp();
        int mod;
        if (disp == 0 && base != RM_RBP) {
            mod = MOD_NO_DISP;
        } else if (isByte(disp)) {
            mod = MOD_DISP8;
        } else {
            mod = MOD_DISP32;
        }
        emit(modrm(mod, reg, base));
        if (base == RM_SIB) {
            emit(SIB_NO_INDEX_BASE_RSP);
        }
        if (mod == MOD_DISP8) {
            emit(disp);
        } else if (mod == MOD_DISP32) {
            emit32(disp);
        }
    }

    private static int modrm(int mod, int reg, int rm) {
        return mod << 6 | (reg & 7) << 3 | (rm & 7);
    }

    /**
     * REX (SDM 2.2.1.2), emitted when W, R, X or B is set or {@code force} (a byte operand
     * spl/bpl/sil/dil, which needs a REX of any value).
     */
    private void rex(boolean w, int reg, int index, int base, boolean force) {
        int rex = REX
                | (w ? REX_W : 0)
                | ((reg & 8) != 0 ? REX_R : 0)
                | ((index & 8) != 0 ? REX_X : 0)
                | ((base & 8) != 0 ? REX_B : 0);
        if (rex != REX || force) {
            emit(rex);
        }
    }

    private void emitOpcode(int opcode) {
        if (opcode > 0xFF) {
            emit(opcode >>> 8);
        }
        emit(opcode & 0xFF);
    }

    private void emit(int b) {
        if (length == code.length) {
            code = Arrays.copyOf(code, code.length * 2);
        }
        code[length++] = (byte) b;
    }

    private void emit16(int v) {
        emit(v);
        emit(v >>> 8);
    }

    private void emit32(int v) {
        emit16(v);
        emit16(v >>> 16);
    }

    private void emit64(long v) {
        emit32((int) v);
        emit32((int) (v >>> 32));
    }

    private void patch32(int at, int v) {
        code[at] = (byte) v;
        code[at + 1] = (byte) (v >>> 8);
        code[at + 2] = (byte) (v >>> 16);
        code[at + 3] = (byte) (v >>> 24);
    }

    // ---------------------------------------------------------------- checks

    private static boolean isByte(int v) {
        return v >= -0x80 && v <= 0x7F;
    }

    private static void checkSize(int size, int... allowed) {
        for (int a : allowed) {
            if (size == a) {
                return;
            }
        }
        throw new IllegalArgumentException("operand size " + size + " is not one of "
                + Arrays.toString(allowed));
    }

    private static int checkImm(long imm, long min, long max, String what) {
        if (imm < min || imm > max) {
            throw new IllegalArgumentException(what + " " + imm + " (0x" + Long.toHexString(imm)
                    + ") out of range " + min + ".." + max);
        }
        return (int) imm;
    }

    /** A 32-bit immediate that is sign-extended to 64 bits. */
    private static int checkImm32Signed(long imm) {
        return checkImm(imm, Integer.MIN_VALUE, Integer.MAX_VALUE, "sign-extended 32-bit immediate");
    }

    /** A 32-bit immediate, signed or unsigned. */
    private static int checkImm32(long imm) {
        return checkImm(imm, Integer.MIN_VALUE, 0xFFFF_FFFFL, "32-bit immediate");
    }

    @Override
    public String toString() {
        return "X86Assembler[" + length + " bytes]";
    }

    // ---------------------------------------------------------------- string moves

    /**
     * REP MOVSB (F3 A4), SDM MOVS/REP: copies rcx bytes from [rsi] to [rdi], upwards while the
     * direction flag is clear (downwards after {@link #std()}); rsi, rdi and rcx move along.
     */
    public void repMovsb() {
        emit(0xF3);
        emit(0xA4);
    }

    /** REP STOSB (F3 AA), SDM STOS/REP: stores al into rcx bytes from [rdi] upwards (direction flag clear). */
    public void repStosb() {
        emit(0xF3);
        emit(0xAA);
    }

    /** STD (FD): sets the direction flag, so string instructions walk downwards. */
    public void std() {
        emit(0xFD);
    }

    /** CLD (FC): clears the direction flag, as the System V ABI requires at every call and return. */
    public void cld() {
        emit(0xFC);
    }

    // ---------------------------------------------------------------- spin waits and system calls

    /**
     * PAUSE (F3 90), SDM PAUSE: a hint inside a spin-wait loop (Java's
     * {@code Thread.onSpinWait()} on x86).
     */
    public void pause() {
        emit(0xF3);
        emit(NOP);
    }

    /**
     * SYSCALL (0F 05), SDM SYSCALL: on Linux the system call numbered rax with arguments in
     * rdi, rsi, rdx, r10, r8, r9; the kernel returns the result in rax and clobbers rcx and
     * r11.
     */
    public void syscall() {
        emitOpcode(0x0F05);
    }
}
