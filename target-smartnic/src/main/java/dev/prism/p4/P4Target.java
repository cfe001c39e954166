package dev.prism.p4;

import dev.prism.error.TargetException;
import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Helpers;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The {@code p4} target: a verified XDP (or raw) program lowered to P4_16 for v1model
 * ({@link P4Lowering}), checked by {@code p4test}, compiled by {@code p4c-bm2-ss} and run on
 * BMv2's {@code simple_switch}. Without the toolchain it still emits the source.
 */
public final class P4Target implements Target {
    /** Helpers the lowering has. */
    static final Set<Integer> HELPERS = Set.of(Helpers.MAP_LOOKUP_ELEM, Helpers.MAP_UPDATE_ELEM, Helpers.KTIME_GET_NS,
            Helpers.GET_PRANDOM_U32, Helpers.REDIRECT);

    @Override
    public String id() {
        return "p4";
    }

    @Override
    public String description() {
        return "P4_16 for v1model, compiled by p4c-bm2-ss, run on BMv2 simple_switch";
    }

    @Override
    public Availability availability() {
        return P4Toolchain.find().availability();
    }

    @Override
    public Capabilities capabilities() {
        return new Capabilities(EnumSet.complementOf(EnumSet.of(Group.PACKET, Group.CALLX)), CpuVersion.V4, HELPERS);
    }

    /** {@return every reason the target refuses the program; empty when it accepts it} */
    public List<P4Refusal> check(VerifiedProgram program) {
        return P4Checker.check(program);
    }

    @Override
    public Artifact compile(VerifiedProgram program) {
        P4Lowering.Result r = P4Lowering.lower(program);
        if (!r.refusals().isEmpty()) {
            throw new TargetException("p4 refuses " + program.program().name() + ": "
                    + r.refusals().stream().map(P4Refusal::toString).collect(Collectors.joining("; ")));
        }
        P4Toolchain tc = P4Toolchain.find();
        if (!tc.availability().available()) {
            return new P4Artifact(program, r, null, 0, tc.availability().reason());
        }
        Path dir = null;
        try {
            dir = Files.createTempDirectory("prism-p4c-");
            Path src = dir.resolve("prog.p4");
            Files.writeString(src, r.source());
            long t0 = System.nanoTime();
            P4Toolchain.Run check = P4Toolchain.run(List.of(tc.p4test().toString(), src.toString()), dir, 300);
            if (check.status() != 0) {
                throw new TargetException("p4: p4test rejects the generated P4 (a Prism bug): " + check.output().strip());
            }
            P4Toolchain.Run bm = P4Toolchain.run(List.of(tc.p4c().toString(), "-o", "prog.json", "prog.p4"), dir, 300);
            if (bm.status() != 0) {
                throw new TargetException("p4: p4c-bm2-ss rejects the generated P4 (a Prism bug): " + bm.output().strip());
            }
            byte[] json = Files.readAllBytes(dir.resolve("prog.json"));
            return new P4Artifact(program, r, json, System.nanoTime() - t0, null);
        } catch (IOException e) {
            throw new TargetException("p4: " + e.getMessage(), e);
        } finally {
            if (dir != null) {
                try (var s = Files.walk(dir)) {
                    s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
    }

    /**
     * One program (no tail calls). Raw programs are verified, lowered and compiled for the size
     * of the memory a run brings, on the first run of that size.
     */
    @Override
    public Executable load(List<Program> programs) {
        if (programs.size() != 1) {
            throw TargetException.unsupported("p4 runs one program (no tail calls)");
        }
        Program p = programs.getFirst();
        if (p.type() != ProgramType.RAW) {
            return compile(Verifier.verify(p, Profile.RFC9669)).load();
        }
        return new PerSize(p);
    }

    /** A raw program, compiled per memory size. */
    private final class PerSize implements Executable {
        private final Program program;
        private final Map<Integer, Executable> bySize = new HashMap<>();

        PerSize(Program program) {
            this.program = program;
        }

        private Executable forSize(int size) {
            Executable e = bySize.get(size);
            if (e == null) {
                e = compile(Verifier.verify(program, Profile.RFC9669, size, null)).load();
                bySize.put(size, e);
            }
            return e;
        }

        @Override
        public RunResult run(RunInput input) {
            return forSize(input.mem().length).run(input);
        }

        @Override
        public MapAccess maps() {
            if (bySize.size() != 1) {
                throw TargetException.unsupported("map access before the first run of a raw program on p4");
            }
            return bySize.values().iterator().next().maps();
        }

        @Override
        public void close() {
            bySize.values().forEach(Executable::close);
        }
    }
}
