package dev.prism.csd.image;

import dev.prism.isa.CallKind;
import dev.prism.isa.Insn;
import dev.prism.isa.InsnCodec;
import dev.prism.program.Function;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Between {@link Program}s and firmware images: the image of a program (its bytecode as the
 * {@code bpf} section, plus whatever firmware builds the caller adds) and the program an
 * image's {@code bpf} section decodes back to.
 */
public final class ProgramImages {
    private ProgramImages() {
    }

    /**
     * {@return an unsigned image of {@code program}: the manifest from the program, the
     * bytecode as section {@link Manifest#ARCH_BPF}, then {@code firmware} (arch to code)}
     *
     * @param features the verifier's required features, as names (may be empty)
     */
    public static FirmwareImage unsigned(Program program, List<String> features, Map<String, byte[]> firmware) {
        List<Manifest.MapEntry> maps = new ArrayList<>();
        for (MapDef m : program.maps()) {
            if (m.type().ofMaps()) {
                throw new IllegalArgumentException("not supported: map-in-map " + m.name() + " in a csd firmware image");
            }
            maps.add(new Manifest.MapEntry(m.name(), m.type().code(), m.keySize(), m.valueSize(), m.maxEntries(),
                    m.flags(), m.readOnly(), m.initialData()));
        }
        List<Manifest.FunctionEntry> functions = program.functions().stream()
                .map(f -> new Manifest.FunctionEntry(f.name(), f.start())).toList();
        TreeSet<Integer> helpers = new TreeSet<>();
        for (int pc = 0; pc < program.length(); pc++) {
            if (program.at(pc) instanceof Insn.Call c && c.kind() == CallKind.HELPER) {
                helpers.add(c.imm());
            }
        }
        Map<String, byte[]> code = new LinkedHashMap<>();
        code.put(Manifest.ARCH_BPF, program.bytes());
        firmware.forEach((arch, bytes) -> {
            if (arch.equals(Manifest.ARCH_BPF)) {
                throw new IllegalArgumentException("section " + Manifest.ARCH_BPF + " is the program's own bytecode");
            }
            code.put(arch, bytes);
        });
        return FirmwareImage.unsigned(program.type().id(), program.name(), maps, functions, List.copyOf(helpers),
                features, code);
    }

    /**
     * {@return the program the image's {@code bpf} section and manifest describe}
     *
     * @throws IllegalArgumentException when the image has no bpf section, names an unknown
     *                                  program or map type, or its bytecode does not decode
     */
    public static Program program(FirmwareImage image) {
        Manifest m = image.manifest();
        byte[] code = image.code(Manifest.ARCH_BPF);
        if (code == null) {
            throw new IllegalArgumentException("the image has no " + Manifest.ARCH_BPF + " section");
        }
        ProgramType type = programType(m.programType());
        List<MapDef> maps = new ArrayList<>();
        for (Manifest.MapEntry e : m.maps()) {
            MapType t = MapType.ofCode(e.type());
            if (t == null || t.ofMaps()) {
                throw new IllegalArgumentException("map " + e.name() + ": not supported: map type " + e.type());
            }
            maps.add(new MapDef(e.name(), t, e.keySize(), e.valueSize(), e.maxEntries(), e.flags(), e.initialData(),
                    e.readOnly(), null));
        }
        List<Function> functions = m.functions().stream().map(f -> new Function(f.name(), f.start())).toList();
        try {
            return Program.builder(m.entry(), type, InsnCodec.decode(code)).maps(maps).functions(functions).build();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("the " + Manifest.ARCH_BPF + " section: " + e.getMessage(), e);
        }
    }

    private static ProgramType programType(String id) {
        for (ProgramType t : ProgramType.values()) {
            if (t.id().equals(id)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown program type '" + id + "'");
    }
}
