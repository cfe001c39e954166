package dev.prism.program;

import dev.prism.isa.Insn;
import dev.prism.isa.InsnCodec;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An immutable BPF program: instructions by slot, its type, the maps it references, its
 * functions, license, source section and line info (DESIGN.md, "Program"). Built by the
 * assembler, the raw decoder or the ELF loader.
 *
 * <p>Slots are 8 bytes; the second slot of an {@code lddw} is {@code null}, so instruction
 * indices are those of the encoding, of Linux's verifier log and of llvm-objdump.
 *
 * <p>Map references are resolved: after ELF loading, every map or global-data reference is an
 * {@code lddw} with src 5 ({@code map_idx}) or 6 ({@code map_value_idx}) whose imm indexes
 * {@link #maps()}, the form Linux accepts with {@code fd_array}.
 */
public final class Program {
    private final String name;
    private final ProgramType type;
    private final Insn[] slots;
    private final List<MapDef> maps;
    private final List<Function> functions;
    private final String license;
    private final String section;
    private final TreeMap<Integer, SourceLine> lines;
    private final ContextLayout contextLayout;

    /**
     * How the program reads its context: in the program type's user layout (as compiled), or in
     * the host layout after the verifier has normalized it ({@link dev.prism.program.XdpContext}).
     */
    public enum ContextLayout {
        USER, HOST
    }

    private Program(Builder b) {
        this.name = Objects.requireNonNull(b.name);
        this.type = Objects.requireNonNull(b.type);
        this.slots = b.slots.clone();
        this.maps = List.copyOf(b.maps);
        this.functions = b.functions.isEmpty() ? List.of(new Function(b.name, 0)) : List.copyOf(b.functions);
        this.license = b.license;
        this.section = b.section;
        this.lines = new TreeMap<>(b.lines);
        this.contextLayout = b.contextLayout;
    }

    /** {@return how the program reads its context} */
    public ContextLayout contextLayout() {
        return contextLayout;
    }

    /** {@return a builder for a program over decoded slots (as {@link InsnCodec#decode} returns them)} */
    public static Builder builder(String name, ProgramType type, Insn[] slots) {
        return new Builder(name, type, slots);
    }

    /** {@return a program with no maps over decoded slots} */
    public static Program of(String name, ProgramType type, Insn[] slots) {
        return builder(name, type, slots).build();
    }

    /** {@return the program the bytes decode to} @throws dev.prism.error.MalformedProgramException */
    public static Program decode(String name, ProgramType type, byte[] code) {
        return of(name, type, InsnCodec.decode(code));
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

    /** {@return the maps, indexed by the imm of map_idx / map_value_idx lddw instructions} */
    public List<MapDef> maps() {
        return maps;
    }

    /** {@return the functions by start slot; the entry function first} */
    public List<Function> functions() {
        return functions;
    }

    /** {@return the function that starts at {@code pc}, if one does} */
    public Optional<Function> functionAt(int pc) {
        return functions.stream().filter(f -> f.start() == pc).findFirst();
    }

    /** {@return the license string ("GPL"), empty when none was given} */
    public String license() {
        return license;
    }

    /** {@return the ELF section the program came from ("xdp"), empty otherwise} */
    public String section() {
        return section;
    }

    /** {@return the source line of the instruction at {@code pc}: the nearest line info at or before it} */
    public Optional<SourceLine> sourceLine(int pc) {
        Map.Entry<Integer, SourceLine> e = lines.floorEntry(pc);
        return e == null ? Optional.empty() : Optional.of(e.getValue());
    }

    /** {@return whether BTF line info is present} */
    public boolean hasLineInfo() {
        return !lines.isEmpty();
    }

    /** {@return the same program under another type} */
    public Program withType(ProgramType newType) {
        return toBuilder().type(newType).build();
    }

    /** {@return a builder holding everything this program holds} */
    public Builder toBuilder() {
        Builder b = new Builder(name, type, slots);
        b.maps = maps;
        b.functions = functions;
        b.license = license;
        b.section = section;
        b.lines = lines;
        b.contextLayout = contextLayout;
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Program p && p.name.equals(name) && p.type == type && Arrays.equals(p.slots, slots)
                && p.maps.equals(maps) && p.functions.equals(functions) && p.license.equals(license);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, Arrays.hashCode(slots), maps);
    }

    @Override
    public String toString() {
        return "Program[" + name + ", " + type.id() + ", " + slots.length + " slots, " + maps.size() + " maps]";
    }

    /** Collects the parts of a program. */
    public static final class Builder {
        private String name;
        private ProgramType type;
        private List<MapDef> maps = List.of();
        private List<Function> functions = List.of();
        private String license = "";
        private String section = "";
        private Map<Integer, SourceLine> lines = Map.of();
        private ContextLayout contextLayout = ContextLayout.USER;
        private Insn[] slots;

        private Builder(String name, ProgramType type, Insn[] slots) {
            this.name = name;
            this.type = type;
            this.slots = slots.clone();
        }

        /** Replaces the instructions with a same-length normalized form (the verifier's). */
        public Builder slotsNormalized(Insn[] normalized) {
            if (normalized.length != slots.length) {
                throw new IllegalArgumentException("normalization keeps every slot in place");
            }
            this.slots = normalized.clone();
            return this;
        }

        public Builder contextLayout(ContextLayout layout) {
            this.contextLayout = layout;
            return this;
        }

        public Builder name(String n) {
            this.name = n;
            return this;
        }

        public Builder type(ProgramType t) {
            this.type = t;
            return this;
        }

        public Builder maps(List<MapDef> m) {
            this.maps = List.copyOf(m);
            return this;
        }

        public Builder functions(List<Function> f) {
            this.functions = List.copyOf(f);
            return this;
        }

        public Builder license(String l) {
            this.license = Objects.requireNonNull(l);
            return this;
        }

        public Builder section(String s) {
            this.section = Objects.requireNonNull(s);
            return this;
        }

        public Builder lines(Map<Integer, SourceLine> l) {
            this.lines = Map.copyOf(l);
            return this;
        }

        public Program build() {
            return new Program(this);
        }
    }
}
