package dev.prism.isa;

/**
 * Renders a decoded instruction the way llvm-objdump-19 prints it (LLVM's BPF assembly syntax,
 * llvm/lib/Target/BPF/BPFInstrInfo.td), for {@link LlvmObjdumpCrossCheckTest}. It is written
 * from LLVM's output, not from Prism's {@link dev.prism.asm.Disassembler}, so that the two
 * decoders are compared and not one decoder with itself.
 *
 * <p>Immediates and offsets print as signed hexadecimal ({@code 0x1}, {@code -0x7}); lddw prints
 * its 64-bit value signed too ({@code -0x123456789abcdf0 ll}). Registers print as {@code wN} in
 * ALU and JMP32 instructions and as {@code rN} in memory instructions: LLVM's own choice there
 * depends on which of two same-encoding definitions its disassembler picked, and the test
 * normalises LLVM's side to {@code rN} ({@link LlvmObjdumpCrossCheckTest#normalise}).
 */
final class LlvmSyntax {
    private LlvmSyntax() {
    }

    /** {@return the instruction in LLVM syntax, without the {@code <symbol+offset>} jump label} */
    static String format(Insn insn) {
        return switch (insn) {
            case Insn.Alu a -> a.op() == AluOp.MOV
                    ? reg(a.width(), a.dst()) + " = " + operand(a.width(), a.src())
                    : reg(a.width(), a.dst()) + " " + aluOperator(a.op()) + " " + operand(a.width(), a.src());
            case Insn.Neg n -> reg(n.width(), n.dst()) + " = -" + reg(n.width(), n.dst());
            case Insn.MovSx m -> reg(m.width(), m.dst()) + " = (s" + m.fromBits() + ")" + reg(m.width(), m.src());
            // le/be are ALU-class and bswap ALU64-class, but LLVM prints all three with r registers.
            case Insn.Endian e -> "r" + e.dst().n() + " = " + e.op().mnemonic() + e.bits() + " r" + e.dst().n();
            case Insn.LoadImm64 l -> {
                if (l.kind() != LoadImm64Kind.IMM64) {
                    // Map and address pseudo loads need relocations; the cross-check sources have none.
                    throw new IllegalArgumentException("no LLVM rendering for lddw " + l.kind());
                }
                yield "r" + l.dst().n() + " = " + hex(l.value()) + " ll";
            }
            case Insn.Load l -> "r" + l.dst().n() + " = *(" + (l.signExtend() ? "s" : "u") + bits(l.size()) + " *)"
                    + address(l.src(), l.offset());
            case Insn.Store s -> "*(u" + bits(s.size()) + " *)" + address(s.dst(), s.offset()) + " = "
                    + operand(Width.W64, s.src());
            case Insn.Atomic a -> atomic(a);
            case Insn.Ja j -> (j.wide() ? "gotol " : "goto ") + relative(j.offset());
            case Insn.Jump j -> "if " + reg(j.width(), j.dst()) + " " + comparison(j.op()) + " "
                    + operand(j.width(), j.src()) + " goto " + relative(j.offset());
            // LLVM prints helper calls (src 0) and local calls (src 1) alike; the test tells them
            // apart by relocation and by the symbol at the target.
            case Insn.Call c -> "call " + hex(c.imm());
            case Insn.CallX c -> "callx r" + c.dst().n();
            case Insn.Exit e -> "exit";
            // LLVM's syntax has no place for ld_ind's imm: it prints skb[rN] whatever the imm is.
            // A non-zero imm is rendered here so that it shows up as a difference.
            case Insn.PacketLoad p -> "r0 = *(u" + bits(p.size()) + " *)skb["
                    + (p.indirect() ? "r" + p.src().n() + (p.imm() == 0 ? "" : " + " + hex(p.imm())) : hex(p.imm()))
                    + "]";
        };
    }

    private static String atomic(Insn.Atomic a) {
        String mem = "(u" + bits(a.size()) + " *)" + address(a.dst(), a.offset());
        String src = "r" + a.src().n();
        String at = "r" + a.dst().n() + offsetSuffix(a.offset());
        return switch (a.op()) {
            case ADD -> "lock *" + mem + " += " + src;
            case OR -> "lock *" + mem + " |= " + src;
            case AND -> "lock *" + mem + " &= " + src;
            case XOR -> "lock *" + mem + " ^= " + src;
            case FETCH_ADD -> src + " = atomic_fetch_add(" + mem + ", " + src + ")";
            case FETCH_OR -> src + " = atomic_fetch_or(" + mem + ", " + src + ")";
            case FETCH_AND -> src + " = atomic_fetch_and(" + mem + ", " + src + ")";
            case FETCH_XOR -> src + " = atomic_fetch_xor(" + mem + ", " + src + ")";
            case XCHG -> src + " = " + (a.size() == Size.W ? "xchg32_32(" : "xchg_64(") + at + ", " + src + ")";
            case CMPXCHG -> "r0 = " + (a.size() == Size.W ? "cmpxchg32_32(" : "cmpxchg_64(") + at + ", r0, " + src + ")";
        };
    }

    private static String aluOperator(AluOp op) {
        return switch (op) {
            case ADD -> "+=";
            case SUB -> "-=";
            case MUL -> "*=";
            case DIV -> "/=";
            case SDIV -> "s/=";
            case OR -> "|=";
            case AND -> "&=";
            case LSH -> "<<=";
            case RSH -> ">>=";
            case MOD -> "%=";
            case SMOD -> "s%=";
            case XOR -> "^=";
            case ARSH -> "s>>=";
            case MOV -> "=";
        };
    }

    private static String comparison(JumpOp op) {
        return switch (op) {
            case JEQ -> "==";
            case JGT -> ">";
            case JGE -> ">=";
            case JSET -> "&";
            case JNE -> "!=";
            case JSGT -> "s>";
            case JSGE -> "s>=";
            case JLT -> "<";
            case JLE -> "<=";
            case JSLT -> "s<";
            case JSLE -> "s<=";
        };
    }

    private static String reg(Width width, Reg r) {
        return (width == Width.W32 ? "w" : "r") + r.n();
    }

    private static String operand(Width width, Operand o) {
        return switch (o) {
            case Reg r -> reg(width, r);
            case Imm i -> hex(i.value());
        };
    }

    private static int bits(Size size) {
        return size.bytes() * 8;
    }

    /** {@return "(rN + 0x8)" or "(rN - 0x8)"} */
    private static String address(Reg base, short offset) {
        return "(r" + base.n() + offsetSuffix(offset) + ")";
    }

    private static String offsetSuffix(short offset) {
        return offset < 0 ? " - 0x" + Integer.toHexString(-offset) : " + 0x" + Integer.toHexString(offset);
    }

    /** {@return a jump offset as LLVM prints it: always signed, "+0x3" or "-0x2a"} */
    private static String relative(long offset) {
        return offset < 0 ? "-0x" + Long.toHexString(-offset) : "+0x" + Long.toHexString(offset);
    }

    /** {@return v in signed hexadecimal; Long.MIN_VALUE comes out as -0x8000000000000000} */
    static String hex(long v) {
        return v < 0 ? "-0x" + Long.toHexString(-v) : "0x" + Long.toHexString(v);
    }
}
