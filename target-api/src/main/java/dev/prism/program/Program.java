package dev.prism.program;

import dev.prism.isa.Insn;
import dev.prism.isa.InsnCodec;
import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable BPF program: its instructions by slot, its type and a name. The ELF loader adds
 * maps, functions, global data and the license (issue "Real programs in"); the assembler and
 * the raw decoder build programs of this minimal shape.
 *
 * <p>Slots are 8 bytes; the second slot of an {@code lddw} is {@code null}, so that instruction
 * indices are those of the encoding, of Linux's verifier log and of llvm-objdump.
 */
public final class Program {
    private final String name;
    private final ProgramType type;
    private final Insn[] slots;

    private Program(String name, ProgramType type, Insn[] slots) {
        this.name = Objects.requireNonNull(name);
        this.type = Objects.requireNonNull(type);
        this.slots = slots;
    }

    /** {@return a program over decoded slots (as {@link InsnCodec#decode} returns them)} */
    public static Program of(String name, ProgramType type, Insn[] slots) {
        return new Program(name, type, slots.clone());
    }

    /** {@return the program the bytes decode to} @throws dev.prism.error.MalformedProgramException */
    public static Program decode(String name, ProgramType type, byte[] code) {
        return new Program(name, type, InsnCodec.decode(code));
    }

    public String name() {
        return name;
    }

    public ProgramType type() {
        return type;
    }

    /** {@return the number of 8-byte slots} */
    public int length() {
        return slots.length;
    }

    /** {@return the instruction at slot {@code pc}, null for the second slot of an lddw} */
    public Insn at(int pc) {
        return slots[pc];
    }

    /** {@return a copy of the slots} */
    public Insn[] slots() {
        return slots.clone();
    }

    /** {@return the encoded program} */
    public byte[] bytes() {
        return InsnCodec.encode(slots);
    }

    /** {@return the same instructions under another type} */
    public Program withType(ProgramType newType) {
        return new Program(name, newType, slots);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Program p && p.name.equals(name) && p.type == type && Arrays.equals(p.slots, slots);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, Arrays.hashCode(slots));
    }

    @Override
    public String toString() {
        return "Program[" + name + ", " + type.id() + ", " + slots.length + " slots]";
    }
}
