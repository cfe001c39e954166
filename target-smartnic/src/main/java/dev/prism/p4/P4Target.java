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

    private final boolean p4test;

    /** The target as ServiceLoader makes it: every compile is checked by p4test, then compiled by p4c-bm2-ss. */
    public P4Target() {
        this(true);
    }

    /** @param p4test whether compile runs p4test before p4c-bm2-ss (p4c-bm2-ss runs the same front and mid end) */
    public P4Target(boolean p4test) {
        this.p4test = p4test;
    }

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
            throw TargetException.unsupported(r.refusals().getFirst().pc(), "p4: "
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
            if (p4test) {
                P4Toolchain.Run check = P4Toolchain.run(List.of(tc.p4test().toString(), src.toString()), dir, 300);
                if (check.status() != 0) {
                    throw new TargetException("p4: p4test rejects the generated P4 (a Prism bug): " + check.output().strip());
                }
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
            return compile(verify(p, -1)).load();
        }
        return new PerSize(p);
    }

    /** Verifies as the JITs do: a refusal is the verifier's diagnostic, as a target refusal. */
    private static VerifiedProgram verify(Program p, int memSize) {
        try {
            return Verifier.verify(p, Profile.RFC9669, memSize, null);
        } catch (dev.prism.error.VerificationException e) {
            throw new TargetException("rejected by the verifier: " + e.getMessage(), e);
        }
    }

    /** A raw program, compiled per memory size. */
    private final class PerSize implements Executable, MapAccess {
        private final Program program;
        private final Map<Integer, Bmv2Executable> bySize = new HashMap<>();
        private dev.prism.runtime.MapSetAccess host;

        PerSize(Program program) {
            this.program = program;
        }

        private dev.prism.runtime.MapSetAccess host() {
            if (host == null) {
                List<P4Lowering.MapBinding> none = new java.util.ArrayList<>();
                for (int i = 0; i < program.maps().size(); i++) {
                    none.add(new P4Lowering.MapBinding(i, program.maps().get(i), P4Lowering.Binding.HOST_ONLY, ""));
                }
                host = P4MapSync.hostMaps(none, List.of(program));
            }
            return host;
        }

        private Executable forSize(int size) {
            Bmv2Executable e = bySize.get(size);
            if (e == null) {
                P4Artifact a = (P4Artifact) compile(verify(program, size));
                e = a.load(new P4MapSync(a.lowered().maps(), host(), false));
                bySize.put(size, e);
            }
            return e;
        }

        @Override
        public java.util.List<dev.prism.program.MapDef> defs() {
            return host().defs();
        }

        @Override
        public byte[] lookup(String map, byte[] key) {
            return host().lookup(map, key);
        }

        @Override
        public void update(String map, byte[] key, byte[] value, long flags) {
            host().update(map, key, value, flags);
            bySize.values().forEach(e -> e.sync().markDirty(map));
        }

        @Override
        public boolean delete(String map, byte[] key) {
            boolean was = host().delete(map, key);
            bySize.values().forEach(e -> e.sync().markDirty(map));
            return was;
        }

        @Override
        public List<byte[]> keys(String map) {
            return host().keys(map);
        }

        @Override
        public List<byte[]> drain(String ringbuf) {
            throw TargetException.unsupported("ring buffers on the p4 target");
        }

        @Override
        public void setProgram(String progArray, int index, String name) {
            throw TargetException.unsupported("tail calls on the p4 target");
        }

        @Override
        public RunResult run(RunInput input) {
            return forSize(input.mem().length).run(input);
        }

        @Override
        public MapAccess maps() {
            return this;
        }

        @Override
        public void close() {
            bySize.values().forEach(Executable::close);
            if (host != null) {
                host.maps().forEach(dev.prism.runtime.maps.BpfMap::close);
            }
        }
    }
}
