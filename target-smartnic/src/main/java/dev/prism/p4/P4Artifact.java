package dev.prism.p4;

import dev.prism.asm.Disassembler;
import dev.prism.error.TargetException;
import dev.prism.program.Program;
import dev.prism.target.Artifact;
import dev.prism.target.Executable;
import dev.prism.verifier.VerifiedProgram;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What the {@code p4} target makes of a program: the P4_16 source, the BMv2 JSON from
 * {@code p4c-bm2-ss} (null without the toolchain), the runtime commands that install the maps'
 * initial contents, and a listing that maps every P4 line back to its BPF pc and source line.
 */
public final class P4Artifact implements Artifact {
    private final VerifiedProgram program;
    private final P4Lowering.Result lowered;
    private final byte[] json;
    private final long compileNanos;
    private final String why;

    P4Artifact(VerifiedProgram program, P4Lowering.Result lowered, byte[] json, long compileNanos, String why) {
        this.program = program;
        this.lowered = lowered;
        this.json = json;
        this.compileNanos = compileNanos;
        this.why = why;
    }

    /** {@return the P4_16 source} */
    public String source() {
        return lowered.source();
    }

    /** {@return the BMv2 JSON, or null when p4c-bm2-ss is not available} */
    public byte[] bmv2Json() {
        return json == null ? null : json.clone();
    }

    /** {@return nanoseconds p4test and p4c-bm2-ss took, 0 without them} */
    public long p4cNanos() {
        return compileNanos;
    }

    /** {@return unrolled blocks in the control} */
    public int blocks() {
        return lowered.dagNodes();
    }

    /** {@return the BMv2 runtime commands that install the maps' initial contents (global data)} */
    public List<String> commands() {
        return P4MapSync.initialCommands(lowered.maps());
    }

    P4Lowering.Result lowered() {
        return lowered;
    }

    VerifiedProgram program() {
        return program;
    }

    /** {@return the P4_16 source, UTF-8 (what {@code prism compile -o} writes); the BMv2 JSON is {@link #bmv2Json}} */
    @Override
    public byte[] bytes() {
        return lowered.source().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * {@return the P4 source with each line's origin}: {@code line | BPF pc | instruction | source}.
     * Scaffolding lines (declarations, parser, the final action dispatch) have no pc.
     */
    @Override
    public String listing() {
        Program p = program.program();
        StringBuilder sb = new StringBuilder();
        String[] lines = lowered.source().split("\n", -1);
        List<Integer> pcs = lowered.linePcs();
        int lastPc = -2;
        for (int i = 0; i < pcs.size(); i++) {
            int pc = pcs.get(i);
            if (pc >= 0 && pc != lastPc) {
                String insn = p.at(pc) == null ? "" : Disassembler.format(p.at(pc));
                String src = p.sourceLine(pc).map(Object::toString).orElse("");
                sb.append(String.format("%5s  ; pc %d: %s%s%n", "", pc, insn, src.isEmpty() ? "" : "   // " + src));
            }
            lastPc = pc;
            sb.append(String.format("%5d  %s%n", i + 1, lines[i]));
        }
        for (String c : commands()) {
            sb.append("; runtime: ").append(c).append('\n');
        }
        return sb.toString();
    }

    @Override
    public Executable load() {
        return load(new P4MapSync(lowered.maps(), P4MapSync.hostMaps(lowered.maps(), List.of(program.program())), true));
    }

    /** Loads with maps whose host side someone else holds (a raw program compiled per memory size). */
    Bmv2Executable load(P4MapSync maps) {
        if (json == null) {
            maps.close();
            throw new TargetException("p4: cannot run on BMv2: " + why);
        }
        return new Bmv2Executable(this, P4Toolchain.find(), maps);
    }

    @Override
    public String toString() {
        return "p4 artifact: " + lowered.source().getBytes(StandardCharsets.UTF_8).length + " bytes of P4";
    }
}
