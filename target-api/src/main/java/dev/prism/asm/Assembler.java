package dev.prism.asm;

import dev.prism.error.AssemblerException;
import dev.prism.isa.AluOp;
import dev.prism.isa.AtomicOp;
import dev.prism.isa.CallKind;
import dev.prism.isa.EndianOp;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.InsnCodec;
import dev.prism.isa.JumpOp;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.isa.Operand;
import dev.prism.isa.Reg;
import dev.prism.isa.Size;
import dev.prism.isa.Width;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Assembles the bpf_conformance / uBPF dialect described in conformance/SYNTAX.md. Two passes:
 * the first parses every line and records the slot of each label (lddw takes two slots), the
 * second resolves label references into slot offsets relative to the next instruction. Every
 * error is an {@link AssemblerException} naming the 1-based source line.
 */
public final class Assembler {
    private static final Pattern LABEL = Pattern.compile("^([A-Za-z_.][A-Za-z0-9_.]*)\\s*:");
    private static final Pattern NAME = Pattern.compile("[A-Za-z_.][A-Za-z0-9_.]*");
    private static final Pattern MEM = Pattern.compile("^\\[\\s*(%?r\\d+)\\s*(?:([+-])\\s*(\\w+)\\s*)?]$");
    private static final Pattern ALU = Pattern.compile("^(add|sub|mul|div|sdiv|or|and|lsh|rsh|mod|smod|xor|mov|arsh)(32|64)?$");
    private static final Pattern JMP = Pattern.compile("^(jeq|jgt|jge|jset|jne|jsgt|jsge|jlt|jle|jslt|jsle)(32)?$");
    private static final Pattern MOVSX = Pattern.compile("^movsx(8|16|32)(32|64)$");
    /** {@code swapN} is bpf_conformance's name for {@code bswapN}. */
    private static final Pattern ENDIAN = Pattern.compile("^(le|be|bswap|swap)(16|32|64)$");
    /**
     * The label bpf_conformance's assembler gives the first {@code exit} instruction when the
     * text defines no label of that name (its tests jump to it).
     */
    static final String IMPLICIT_EXIT_LABEL = "exit";
    private static final Pattern LDX = Pattern.compile("^ldx(s)?(b|h|w|dw)$");
    private static final Pattern ST = Pattern.compile("^st(x)?(b|h|w|dw)$");
    private static final Pattern PKT = Pattern.compile("^ld(abs|ind)(b|h|w)$");
    /**
     * The words after {@code call} that name a mode: {@code local} and {@code btf} are Prism's,
     * {@code helper} (src 0, or the register form 0x8d) and {@code runtime} (src 2, Prism's
     * {@code btf}) are bpf_conformance's; {@code call local} is both.
     */
    private static final List<String> CALL_MODES = List.of("local", "btf", "helper", "runtime");

    private Assembler() {
    }

    /** {@return the program the text assembles to} */
    public static Program assemble(String name, ProgramType type, String text) {
        return Program.of(name, type, assemble(text));
    }

    /** {@return the slots the text assembles to (null in the second slot of each lddw)} */
    public static Insn[] assemble(String text) {
        String[] lines = text.split("\\R", -1);
        Map<String, Integer> labels = new HashMap<>();
        List<Pending> pending = new ArrayList<>();
        int slot = 0;
        for (int i = 0; i < lines.length; i++) {
            int lineNo = i + 1;
            String line = stripComment(lines[i]).strip();
            Matcher m;
            while ((m = LABEL.matcher(line)).find()) {
                String label = m.group(1);
                if (labels.put(label, slot) != null) {
                    throw new AssemblerException(lineNo, "label '" + label + "' is defined twice");
                }
                line = line.substring(m.end()).strip();
            }
            if (line.isEmpty()) {
                continue;
            }
            Pending p = new Pending(lineNo, slot, line);
            pending.add(p);
            slot += p.slots();
        }
        if (!labels.containsKey(IMPLICIT_EXIT_LABEL)) {
            pending.stream().filter(p -> p.mnemonic.equals("exit")).findFirst()
                    .ifPresent(p -> labels.put(IMPLICIT_EXIT_LABEL, p.slot));
        }
        Insn[] out = new Insn[slot];
        for (Pending p : pending) {
            out[p.slot] = p.build(labels);
        }
        // The assembler promises bytes the decoder accepts: re-check targets through the codec.
        try {
            InsnCodec.decode(InsnCodec.encode(out));
        } catch (dev.prism.error.MalformedProgramException e) {
            int line = pending.stream().filter(p -> p.slot == e.pc()).map(p -> p.line).findFirst().orElse(lines.length);
            throw new AssemblerException(line, e.getMessage().replaceFirst("^\\d+: ", ""));
        }
        return out;
    }

    private static String stripComment(String line) {
        int hash = line.indexOf('#');
        int semi = line.indexOf(';');
        int cut = hash < 0 ? semi : semi < 0 ? hash : Math.min(hash, semi);
        return cut < 0 ? line : line.substring(0, cut);
    }

    /** One source line, parsed lazily once labels are known. */
    private static final class Pending {
        final int line;
        final int slot;
        final String mnemonic;
        final List<String> operands;

        Pending(int line, int slot, String text) {
            this.line = line;
            this.slot = slot;
            String lower = text.toLowerCase(Locale.ROOT);
            // "lock fetch add32 [...], %r1" -> mnemonic "lock fetch add32"
            int split = firstOperandStart(lower);
            this.mnemonic = lower.substring(0, split).strip().replaceAll("\\s+", " ");
            String rest = text.substring(split).strip();
            this.operands = rest.isEmpty() ? List.of() : splitOperands(rest);
        }

        private static int firstOperandStart(String lower) {
            String[] words = lower.split("\\s+");
            int pos = 0;
            int take = 1;
            if (words[0].equals("lock")) {
                take = words.length > 1 && words[1].equals("fetch") ? 3 : 2;
            } else if (words[0].equals("call") && words.length > 1 && CALL_MODES.contains(words[1])) {
                take = 2;
            }
            for (int w = 0; w < take && w < words.length; w++) {
                pos = lower.indexOf(words[w], pos) + words[w].length();
            }
            return pos;
        }

        private List<String> splitOperands(String rest) {
            List<String> ops = new ArrayList<>();
            for (String op : rest.split(",", -1)) {
                String t = op.strip();
                if (t.isEmpty()) {
                    throw error("empty operand in '" + rest + "'");
                }
                ops.add(t);
            }
            return ops;
        }

        int slots() {
            return mnemonic.equals("lddw") ? 2 : 1;
        }

        AssemblerException error(String reason) {
            return new AssemblerException(line, reason);
        }

        void arity(int n) {
            if (operands.size() != n) {
                throw error("'" + mnemonic + "' takes " + n + " operand" + (n == 1 ? "" : "s") + ", found " + operands.size());
            }
        }

        Insn build(Map<String, Integer> labels) {
            Matcher m;
            if ((m = ALU.matcher(mnemonic)).matches()) {
                arity(2);
                AluOp op = AluOp.valueOf(m.group(1).toUpperCase(Locale.ROOT));
                return new Insn.Alu(op, width(m.group(2)), reg(0), regOrImm32(1));
            }
            if (mnemonic.equals("neg") || mnemonic.equals("neg32") || mnemonic.equals("neg64")) {
                arity(1);
                return new Insn.Neg(mnemonic.equals("neg32") ? Width.W32 : Width.W64, reg(0));
            }
            if ((m = MOVSX.matcher(mnemonic)).matches()) {
                arity(2);
                int from = Integer.parseInt(m.group(1));
                Width w = width(m.group(2));
                if (from == 32 && w == Width.W32) {
                    throw error("movsx3232 does not exist (use mov32)");
                }
                return new Insn.MovSx(w, from, reg(0), reg(1));
            }
            if ((m = ENDIAN.matcher(mnemonic)).matches()) {
                arity(1);
                String op = m.group(1).equals("swap") ? "bswap" : m.group(1);
                return new Insn.Endian(EndianOp.valueOf(op.toUpperCase(Locale.ROOT)), Integer.parseInt(m.group(2)), reg(0));
            }
            if (mnemonic.equals("lddw")) {
                return lddw(labels);
            }
            if ((m = LDX.matcher(mnemonic)).matches()) {
                arity(2);
                Size size = size(m.group(2));
                if (m.group(1) != null && size == Size.DW) {
                    throw error("ldxsdw does not exist (a double word needs no sign extension)");
                }
                Mem mem = mem(1);
                return new Insn.Load(size, m.group(1) != null, reg(0), mem.base, mem.offset);
            }
            if ((m = ST.matcher(mnemonic)).matches()) {
                arity(2);
                Mem mem = mem(0);
                Operand src = m.group(1) != null ? reg(1) : new Imm(imm32(operands.get(1)));
                return new Insn.Store(size(m.group(2)), mem.base, mem.offset, src);
            }
            if (mnemonic.startsWith("lock ")) {
                arity(2);
                String opName = mnemonic.substring(5);
                Size size = Size.DW;
                if (opName.endsWith("32")) {
                    size = Size.W;
                    opName = opName.substring(0, opName.length() - 2);
                } else if (opName.endsWith("64")) {
                    opName = opName.substring(0, opName.length() - 2);
                }
                AtomicOp op = null;
                for (AtomicOp a : AtomicOp.values()) {
                    if (a.mnemonic().equals(opName)) {
                        op = a;
                    }
                }
                if (op == null) {
                    throw error("unknown atomic operation 'lock " + opName + "'");
                }
                Mem mem = mem(0);
                return new Insn.Atomic(op, size, mem.base, reg(1), mem.offset);
            }
            if (mnemonic.equals("ja") || mnemonic.equals("ja32") || mnemonic.equals("gotol")) {
                arity(1);
                boolean wide = !mnemonic.equals("ja");
                long off = target(0, labels);
                if (!wide && (off < Short.MIN_VALUE || off > Short.MAX_VALUE)) {
                    throw error("jump offset " + off + " does not fit in 16 bits (use ja32)");
                }
                return new Insn.Ja((int) off, wide);
            }
            if ((m = JMP.matcher(mnemonic)).matches()) {
                arity(3);
                JumpOp op = JumpOp.valueOf(m.group(1).toUpperCase(Locale.ROOT));
                return new Insn.Jump(op, m.group(2) != null ? Width.W32 : Width.W64, reg(0), regOrImm32(1), offset16(target(2, labels)));
            }
            switch (mnemonic) {
                case "call", "call helper" -> {
                    arity(1);
                    String t = operands.get(0);
                    if (isReg(t)) {
                        return new Insn.CallX(reg(0));
                    }
                    return new Insn.Call(CallKind.HELPER, imm32(t));
                }
                case "call local" -> {
                    arity(1);
                    return new Insn.Call(CallKind.LOCAL, (int) target(0, labels));
                }
                case "call btf", "call runtime" -> {
                    arity(1);
                    return new Insn.Call(CallKind.HELPER_BTF, imm32(operands.get(0)));
                }
                case "callx" -> {
                    arity(1);
                    return new Insn.CallX(reg(0));
                }
                case "exit" -> {
                    arity(0);
                    return new Insn.Exit();
                }
                default -> {
                }
            }
            if ((m = PKT.matcher(mnemonic)).matches()) {
                Size size = size(m.group(2));
                if (m.group(1).equals("abs")) {
                    arity(1);
                    return new Insn.PacketLoad(size, null, imm32(operands.get(0)));
                }
                arity(2);
                return new Insn.PacketLoad(size, reg(0), imm32(operands.get(1)));
            }
            throw error("unknown instruction '" + mnemonic + "'");
        }

        private Insn lddw(Map<String, Integer> labels) {
            if (operands.size() < 2 || operands.size() > 3) {
                throw error("'lddw' takes a register and a value, found " + operands.size() + " operands");
            }
            Reg dst = reg(0);
            String v = operands.get(1);
            String[] words = v.split("\\s+", 2);
            for (LoadImm64Kind kind : LoadImm64Kind.values()) {
                if (kind != LoadImm64Kind.IMM64 && words[0].toLowerCase(Locale.ROOT).equals(kind.keyword())) {
                    if (words.length < 2) {
                        throw error("'lddw " + kind.keyword() + "' needs a number");
                    }
                    boolean wantsNext = kind.usesNextImm();
                    if (operands.size() != (wantsNext ? 3 : 2)) {
                        throw error("'lddw %r, " + kind.keyword() + (wantsNext ? " N, OFF'" : " N'") + " expected");
                    }
                    int imm = kind == LoadImm64Kind.CODE_ADDR
                            ? (int) relative(words[1].strip(), labels)
                            : imm32(words[1].strip());
                    return new Insn.LoadImm64(kind, dst, imm, wantsNext ? imm32(operands.get(2)) : 0);
                }
            }
            if (operands.size() != 2) {
                throw error("'lddw' takes a register and a value");
            }
            return Insn.LoadImm64.of(dst, imm64(v));
        }

        private Width width(String suffix) {
            return "32".equals(suffix) ? Width.W32 : Width.W64;
        }

        private Size size(String s) {
            return switch (s) {
                case "b" -> Size.B;
                case "h" -> Size.H;
                case "w" -> Size.W;
                default -> Size.DW;
            };
        }

        private boolean isReg(String t) {
            return t.matches("(?i)%?r\\d+");
        }

        private Reg reg(int index) {
            return parseReg(operands.get(index));
        }

        private Reg parseReg(String t) {
            if (!isReg(t)) {
                throw error("expected a register, found '" + t + "'");
            }
            int n = Integer.parseInt(t.replaceAll("(?i)%?r", ""));
            if (n > 10) {
                throw error("register r" + n + " does not exist (registers are r0..r10)");
            }
            return Reg.of(n);
        }

        private Operand regOrImm32(int index) {
            String t = operands.get(index);
            return isReg(t) ? parseReg(t) : new Imm(imm32(t));
        }

        private record Mem(Reg base, short offset) {
        }

        private Mem mem(int index) {
            String t = operands.get(index).replaceAll("\\s+", "");
            Matcher m = MEM.matcher(t);
            if (!m.matches()) {
                throw error("expected a memory operand like [%r1+8], found '" + operands.get(index) + "'");
            }
            Reg base = parseReg(m.group(1));
            long off = 0;
            if (m.group(2) != null) {
                off = number(m.group(3));
                if (m.group(2).equals("-")) {
                    off = -off;
                }
            }
            if (off < Short.MIN_VALUE || off > Short.MAX_VALUE) {
                throw error("memory offset " + off + " does not fit in 16 bits");
            }
            return new Mem(base, (short) off);
        }

        private short offset16(long off) {
            if (off < Short.MIN_VALUE || off > Short.MAX_VALUE) {
                throw error("jump offset " + off + " does not fit in 16 bits");
            }
            return (short) off;
        }

        /** A jump target: +N / -N, or a label resolved to an offset from the next slot. */
        private long target(int index, Map<String, Integer> labels) {
            return relative(operands.get(index), labels);
        }

        private long relative(String t, Map<String, Integer> labels) {
            if (t.startsWith("+") || t.startsWith("-")) {
                long v = number(t);
                if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                    throw error("offset " + t + " does not fit in 32 bits");
                }
                return v;
            }
            if (NAME.matcher(t).matches()) {
                Integer target = labels.get(t);
                if (target == null) {
                    throw error("undefined label '" + t + "'");
                }
                return target - (slot + 1L);
            }
            throw error("expected +N, -N or a label, found '" + t + "'");
        }

        private int imm32(String t) {
            long v = number(t);
            if (v < Integer.MIN_VALUE || v > 0xffff_ffffL) {
                throw error("immediate " + t + " does not fit in 32 bits");
            }
            return (int) v;
        }

        private long imm64(String t) {
            return number(t);
        }

        private long number(String t) {
            String s = t.strip();
            boolean negative = false;
            if (s.startsWith("+") || s.startsWith("-")) {
                negative = s.charAt(0) == '-';
                s = s.substring(1).strip();
            }
            try {
                long v;
                if (s.startsWith("0x") || s.startsWith("0X")) {
                    v = Long.parseUnsignedLong(s.substring(2), 16);
                } else {
                    v = Long.parseUnsignedLong(s);
                }
                if (negative && Long.compareUnsigned(v, Long.MIN_VALUE) > 0) {
                    throw error("number " + t + " does not fit in 64 bits");
                }
                return negative ? -v : v;
            } catch (NumberFormatException e) {
                throw error("expected a number, found '" + t + "'");
            }
        }
    }
}
