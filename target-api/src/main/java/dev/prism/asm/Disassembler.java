package dev.prism.asm;

import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.isa.Operand;
import dev.prism.isa.Reg;
import dev.prism.isa.Size;
import dev.prism.isa.Width;
import dev.prism.program.Function;
import dev.prism.program.MapDef;
import dev.prism.program.Program;
import dev.prism.program.SourceLine;
import java.util.List;
import java.util.Optional;

/**
 * Prints instructions in the canonical assembler syntax (conformance/SYNTAX.md), the inverse
 * of {@link Assembler}: {@code Assembler.assemble(format(i))} encodes to the same bytes as
 * {@code i} for every valid instruction.
 */
public final class Disassembler {
    private Disassembler() {
    }

    /** {@return one instruction in canonical syntax, with relative offsets} */
    public static String format(Insn insn) {
        return switch (insn) {
            case Insn.Alu a -> a.op().mnemonic() + a.width().suffix() + " " + a.dst() + ", " + operand(a.src());
            case Insn.Neg n -> "neg" + n.width().suffix() + " " + n.dst();
            case Insn.MovSx m -> "movsx" + m.fromBits() + (m.width() == Width.W64 ? "64" : "32") + " " + m.dst() + ", " + m.src();
            case Insn.Endian e -> e.op().mnemonic() + e.bits() + " " + e.dst();
            case Insn.LoadImm64 l -> "lddw " + l.dst() + ", " + lddwOperand(l);
            case Insn.Load l -> "ldx" + (l.signExtend() ? "s" : "") + l.size().suffix() + " " + l.dst() + ", " + mem(l.src(), l.offset());
            case Insn.Store s -> (s.src() instanceof Reg ? "stx" : "st") + s.size().suffix() + " " + mem(s.dst(), s.offset()) + ", " + operand(s.src());
            case Insn.Atomic a -> "lock " + a.op().mnemonic() + (a.size() == Size.W ? "32" : "") + " " + mem(a.dst(), a.offset()) + ", " + a.src();
            case Insn.Ja j -> (j.wide() ? "ja32 " : "ja ") + rel(j.offset());
            case Insn.Jump j -> j.op().mnemonic() + j.width().suffix() + " " + j.dst() + ", " + operand(j.src()) + ", " + rel(j.offset());
            case Insn.Call c -> switch (c.kind()) {
                case HELPER -> "call " + c.imm();
                case LOCAL -> "call local " + rel(c.imm());
                case HELPER_BTF -> "call btf " + c.imm();
            };
            case Insn.CallX c -> "callx " + c.dst();
            case Insn.Exit e -> "exit";
            case Insn.PacketLoad p -> p.indirect()
                    ? "ldind" + p.size().suffix() + " " + p.src() + ", " + p.imm()
                    : "ldabs" + p.size().suffix() + " " + p.imm();
        };
    }

    private static String lddwOperand(Insn.LoadImm64 l) {
        return switch (l.kind()) {
            case IMM64 -> String.format("0x%x", l.value());
            case CODE_ADDR -> LoadImm64Kind.CODE_ADDR.keyword() + " " + rel(l.imm());
            case MAP_VALUE_BY_FD, MAP_VALUE_BY_IDX -> l.kind().keyword() + " " + l.imm() + ", " + l.nextImm();
            case MAP_BY_FD, VARIABLE_ADDR, MAP_BY_IDX -> l.kind().keyword() + " " + l.imm();
        };
    }

    private static String operand(Operand o) {
        return switch (o) {
            case Reg r -> r.toString();
            case Imm i -> Integer.toString(i.value());
        };
    }

    private static String mem(Reg base, int offset) {
        return "[" + base + (offset < 0 ? "-" + (-(long) offset) : "+" + offset) + "]";
    }

    private static String rel(long offset) {
        return offset < 0 ? Long.toString(offset) : "+" + offset;
    }

    /**
     * {@return a listing of a whole program: one line per instruction, "pc: text", with the
     * absolute target of every jump and local call as a comment}
     *
     * <p>What the program carries is used to explain it: a program with several functions
     * (BPF-to-BPF calls) gets each function's name as a label line ({@code parse_ipv4:}) before
     * its first instruction and the name of a called function after the target
     * ({@code # -> 42 <parse_ipv4>}); a {@code map_idx} / {@code map_value_idx} reference to one
     * of {@link Program#maps()} is named in a comment ({@code # map flows},
     * {@code # map .rodata + 16}). A program with neither, as the assembler builds them, is
     * listed as before.
     */
    public static String listing(Program program) {
        return listing(program, false);
    }

    /**
     * {@return {@link #listing(Program)}, with, when {@code sourceLines} is set, a line
     * {@code ; file.c:42: source text} before the first instruction of each new source line
     * (BTF line info; nothing is added when the program has none)}
     */
    public static String listing(Program program, boolean sourceLines) {
        StringBuilder sb = new StringBuilder();
        int width = Integer.toString(Math.max(0, program.length() - 1)).length();
        boolean functions = program.functions().size() > 1;
        List<MapDef> maps = program.maps();
        SourceLine shown = null;
        for (int pc = 0; pc < program.length(); pc++) {
            Insn insn = program.at(pc);
            if (insn == null) {
                continue;
            }
            if (functions) {
                Optional<Function> f = program.functionAt(pc);
                if (f.isPresent()) {
                    sb.append(f.get().name()).append(":\n");
                    shown = null;
                }
            }
            if (sourceLines) {
                SourceLine line = program.sourceLine(pc).orElse(null);
                if (line != null && (shown == null || !line.file().equals(shown.file()) || line.line() != shown.line())) {
                    sb.append("; ").append(line.file()).append(':').append(line.line());
                    if (!line.text().isBlank()) {
                        sb.append(": ").append(line.text().strip());
                    }
                    sb.append('\n');
                    shown = line;
                }
            }
            sb.append(String.format("%" + width + "d: %s", pc, format(insn)));
            long target = switch (insn) {
                case Insn.Ja j -> pc + 1L + j.offset();
                case Insn.Jump j -> pc + 1L + j.offset();
                case Insn.Call c when c.kind() == dev.prism.isa.CallKind.LOCAL -> pc + 1L + c.imm();
                case Insn.LoadImm64 l when l.kind() == LoadImm64Kind.CODE_ADDR -> pc + 1L + l.imm();
                default -> -1;
            };
            if (target >= 0) {
                sb.append("  # -> ").append(target);
                if (functions && target < program.length() && !(insn instanceof Insn.Ja || insn instanceof Insn.Jump)) {
                    program.functionAt((int) target).ifPresent(f -> sb.append(" <").append(f.name()).append('>'));
                }
            }
            if (insn instanceof Insn.LoadImm64 l && l.imm() >= 0 && l.imm() < maps.size()) {
                if (l.kind() == LoadImm64Kind.MAP_BY_IDX) {
                    sb.append("  # map ").append(maps.get(l.imm()).name());
                } else if (l.kind() == LoadImm64Kind.MAP_VALUE_BY_IDX) {
                    sb.append("  # map ").append(maps.get(l.imm()).name());
                    if (l.nextImm() != 0) {
                        sb.append(" + ").append(Integer.toUnsignedString(l.nextImm()));
                    }
                }
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
