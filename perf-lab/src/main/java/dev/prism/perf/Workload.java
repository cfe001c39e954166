package dev.prism.perf;

import dev.prism.elf.ElfObject;
import dev.prism.program.Program;
import dev.prism.target.Executable;
import dev.prism.target.Target;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One program to benchmark, as a target loads it.
 *
 * @param name     how reports name it (the file name without extension, or the program's name)
 * @param programs the entry first, then the object's other programs of its type, which tail
 *                 calls may reach
 * @param slots    prog_array slots the object initializes; filled after every load, as libbpf
 *                 does
 * @param cSource  the C the programs were compiled from, for the native baseline; null when unknown
 */
public record Workload(String name, List<Program> programs, List<ElfObject.ProgramSlot> slots, Path cSource) {
    public Workload {
        Objects.requireNonNull(name);
        programs = List.copyOf(programs);
        slots = List.copyOf(slots);
        if (programs.isEmpty()) {
            throw new IllegalArgumentException("a workload needs a program");
        }
    }

    /** {@return a workload without C source} */
    public Workload(String name, List<Program> programs, List<ElfObject.ProgramSlot> slots) {
        this(name, programs, slots, null);
    }

    /** {@return this workload with its C source (the native baseline builds it)} */
    public Workload withCSource(Path source) {
        return new Workload(name, programs, slots, source);
    }

    /** {@return a workload of one program without an object around it} */
    public static Workload of(Program program) {
        return new Workload(program.name(), List.of(program), List.of());
    }

    /**
     * {@return the object's entry program with its siblings ({@link #of(String, ElfObject, Program)})}:
     * the only program, or else the only one in a section named just by its type ("xdp", "tc",
     * "socket"), libbpf's convention for the entry of an object whose other programs are
     * tail-call targets (examples/tailcall.c: "xdp" dispatches to "xdp/tcp", ...)
     *
     * @throws IllegalArgumentException naming the programs when neither picks one
     */
    public static Workload of(String name, ElfObject object) {
        List<Program> all = object.programs();
        if (all.size() == 1) {
            return of(name, object, all.getFirst());
        }
        List<Program> bare = all.stream().filter(p -> p.section().equals(p.type().id())).toList();
        if (bare.size() == 1) {
            return of(name, object, bare.getFirst());
        }
        throw new IllegalArgumentException(object.name() + ": holds " + object.entries().size()
                + " programs and no single entry section, pick one with --section: "
                + String.join(", ", object.entries().stream().map(ElfObject.Entry::toString).toList()));
    }

    /**
     * {@return {@code entry} of {@code object} with its siblings of the same type and the
     * object's prog_array initializers that name one of them}
     */
    public static Workload of(String name, ElfObject object, Program entry) {
        List<Program> programs = new ArrayList<>();
        programs.add(entry);
        for (Program p : object.programs()) {
            if (p != entry && p.type() == entry.type()) {
                programs.add(p);
            }
        }
        List<ElfObject.ProgramSlot> slots = object.programSlots().stream()
                .filter(s -> programs.stream().anyMatch(p -> p.name().equals(s.program())))
                .toList();
        return new Workload(name, programs, slots);
    }

    /**
     * {@return this workload loaded on {@code target}, its prog_array slots filled as libbpf
     * fills them}
     *
     * @throws dev.prism.error.TargetException when the target refuses or cannot fill a slot
     */
    public Executable load(Target target) {
        if (target instanceof NativeBaseline n) {
            return n.load(this);
        }
        Executable exe = target.load(programs);
        try {
            for (ElfObject.ProgramSlot slot : slots) {
                exe.maps().setProgram(slot.map(), slot.index(), slot.program());
            }
        } catch (RuntimeException e) {
            try {
                exe.close();
            } catch (RuntimeException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
        return exe;
    }

    public Program entry() {
        return programs.getFirst();
    }

    /** {@return the instruction slots of every program together} */
    public int instructions() {
        return programs.stream().mapToInt(Program::length).sum();
    }
}
