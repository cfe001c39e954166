package dev.prism.nfp;

import dev.prism.error.TargetException;
import dev.prism.error.VerificationException;
import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import dev.prism.target.Targets;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Netronome NFP offload (id {@code nfp}): the Linux nfp driver's rules as a model
 * ({@link NfpChecker}), a legalizer that rewrites what the card cannot execute
 * ({@link NfpLegalizer}), and an ELF object of the legalized program for
 * {@code ip link set dev X xdpoffload} ({@link NfpElf}).
 *
 * <p>There is no NFP here: the executable runs the legalized program on the reference
 * interpreter, or, with {@code -Dprism.nfp.run=linux} (environment {@code PRISM_NFP_RUN=linux}),
 * in the running kernel through the {@code linux} target. Either way it computes what the card
 * would: the legalized program, with XDP actions above 3 folded to XDP_ABORTED.
 *
 * <p>Firmware limits come from {@link NfpProfile#fromEnvironment()} when the target is made.
 */
public final class NfpTarget implements Target {
    /** System property choosing where the legalized program runs: interpreter (default) or linux. */
    public static final String RUN_PROPERTY = "prism.nfp.run";

    private final NfpProfile profile;
    private final NfpChecker.Options options;

    /** The target with the environment's profile, strict rules (ServiceLoader constructor). */
    public NfpTarget() {
        this(null, NfpChecker.Options.STRICT);
    }

    /** @param profile the firmware limits (null: {@link NfpProfile#fromEnvironment()}) */
    public NfpTarget(NfpProfile profile, NfpChecker.Options options) {
        this.profile = profile;
        this.options = options;
    }

    /** {@return the firmware profile in force} */
    public NfpProfile profile() {
        return profile != null ? profile : NfpProfile.fromEnvironment();
    }

    @Override
    public String id() {
        return "nfp";
    }

    @Override
    public String description() {
        return "Netronome NFP offload: the nfp driver's rules, a legalizer, an object for ip link xdpoffload";
    }

    @Override
    public Availability availability() {
        return Availability.yes("modelled: the legalized program runs on the " + runner());
    }

    private static String runner() {
        String r = System.getProperty(RUN_PROPERTY);
        if (r == null) {
            r = System.getenv("PRISM_NFP_RUN");
        }
        return r == null || r.isBlank() ? "interpreter" : r.strip().toLowerCase(Locale.ROOT);
    }

    /**
     * {@inheritDoc} Groups and version are those legalized programs may start from (mod, sdiv,
     * smod, movsx, sign-extending loads and byte swaps are rewritten); the helpers are those the
     * firmware offers. The rest of the rules are {@link #reasons}.
     */
    @Override
    public Capabilities capabilities() {
        EnumSet<Group> groups = EnumSet.allOf(Group.class);
        groups.remove(Group.CALLX);
        return new Capabilities(groups, CpuVersion.V4, profile().helpers().stream()
                .filter(NfpChecker.DRIVER_HELPERS::contains).collect(Collectors.toSet()));
    }

    /** {@return every reason the nfp driver refuses the program for, as it stands (before legalization)} */
    public List<NfpReason> reasons(VerifiedProgram verified) {
        return NfpChecker.check(verified, profile(), options);
    }

    /** {@return the program checked and legalized; {@link NfpLegalizer.Result#remaining()} says what stays refused} */
    public NfpLegalizer.Result legalize(VerifiedProgram verified) {
        return NfpLegalizer.process(verified, profile(), options);
    }

    @Override
    public NfpArtifact compile(VerifiedProgram verified) {
        NfpLegalizer.Result r = legalize(verified);
        if (!r.ok()) {
            throw refusal(r.remaining());
        }
        return new NfpArtifact(verified.program(), r);
    }

    /** {@return the refusal naming every reason, the first one's pc first} */
    static TargetException refusal(List<NfpReason> reasons) {
        StringBuilder sb = new StringBuilder("nfp: " + reasons.get(0));
        for (NfpReason r : reasons.subList(1, reasons.size())) {
            sb.append('\n').append(r);
        }
        return TargetException.unsupported(reasons.get(0).pc(), sb.toString());
    }

    /** The legalized program: its object file, a listing of the rewrites, an executable. */
    public final class NfpArtifact implements Artifact {
        private final Program original;
        private final NfpLegalizer.Result result;

        NfpArtifact(Program original, NfpLegalizer.Result result) {
            this.original = original;
            this.result = result;
        }

        /** {@return the legalized program} */
        public Program legalized() {
            return result.program();
        }

        public NfpLegalizer.Result result() {
            return result;
        }

        @Override
        public String listing() {
            return "; nfp profile: " + profile().name() + "\n" + NfpLegalizer.listing(original, result);
        }

        /** {@inheritDoc} The ELF object for {@code ip link set dev X xdpoffload obj F sec S}. */
        @Override
        public byte[] bytes() {
            return NfpElf.write(result.program());
        }

        @Override
        public Executable load() {
            return run(result.program());
        }
    }

    @Override
    public Executable load(List<Program> programs) {
        if (programs.size() != 1) {
            throw TargetException.unsupported("nfp: tail calls are not offloaded (" + programs.size() + " programs)");
        }
        Program p = programs.get(0);
        if (p.type() == ProgramType.RAW) {
            return new RawExecutable(p);
        }
        VerifiedProgram v;
        try {
            v = Verifier.verify(p, Profile.RFC9669);
        } catch (VerificationException e) {
            throw new TargetException("rejected by the verifier: " + String.join("; ", e.diagnostics()), e);
        }
        return compile(v).load();
    }

    /** {@return the legalized program loaded where {@link #RUN_PROPERTY} says} */
    private static Executable run(Program legalized) {
        String where = runner();
        Target t = switch (where) {
            case "interpreter" -> new InterpreterTarget();
            case "linux" -> Targets.byId("linux");
            default -> throw new TargetException("nfp: " + RUN_PROPERTY + " must be interpreter or linux, not " + where);
        };
        Availability a = t.availability();
        if (!a.available()) {
            throw new TargetException("nfp: " + t.id() + " is unavailable: " + a.reason());
        }
        return t.load(List.of(legalized));
    }

    /**
     * A raw program (conformance): verified, checked and legalized for the size of the memory
     * each run brings, once per size. Map writes made before the first run are replayed into
     * each size's maps when they are made; after a run, map access is that run's.
     */
    private final class RawExecutable implements Executable {
        private final Program program;
        private final Map<Integer, Executable> bySize = new HashMap<>();
        private final List<Object[]> pending = new java.util.ArrayList<>();
        private Executable last;

        RawExecutable(Program program) {
            this.program = program;
        }

        @Override
        public RunResult run(RunInput input) {
            int size = input.mem().length;
            Executable e = bySize.get(size);
            if (e == null) {
                VerifiedProgram v;
                try {
                    v = Verifier.verify(program, Profile.RFC9669, size, null);
                } catch (VerificationException ex) {
                    throw new TargetException("rejected by the verifier: " + String.join("; ", ex.diagnostics()), ex);
                }
                e = compile(v).load();
                bySize.put(size, e);
                for (Object[] u : pending) {
                    e.maps().update((String) u[0], (byte[]) u[1], (byte[]) u[2], (Long) u[3]);
                }
            }
            last = e;
            return e.run(input);
        }

        @Override
        public MapAccess maps() {
            if (last != null) {
                return last.maps();
            }
            return new MapAccess() {
                @Override
                public List<dev.prism.program.MapDef> defs() {
                    return program.maps();
                }

                @Override
                public byte[] lookup(String map, byte[] key) {
                    throw TargetException.unsupported("nfp: map lookups on a raw program before its first run");
                }

                @Override
                public void update(String map, byte[] key, byte[] value, long flags) {
                    if (program.maps().stream().noneMatch(m -> m.name().equals(map))) {
                        throw new TargetException("no map named " + map);
                    }
                    pending.add(new Object[] {map, key.clone(), value.clone(), flags});
                }

                @Override
                public boolean delete(String map, byte[] key) {
                    throw TargetException.unsupported("nfp: map deletes on a raw program before its first run");
                }

                @Override
                public List<byte[]> keys(String map) {
                    throw TargetException.unsupported("nfp: map keys of a raw program before its first run");
                }

                @Override
                public List<byte[]> drain(String ringbuf) {
                    throw TargetException.unsupported("nfp: ring buffers");
                }

                @Override
                public void setProgram(String progArray, int index, String name) {
                    throw TargetException.unsupported("nfp: tail calls are not offloaded");
                }
            };
        }

        @Override
        public void close() {
            bySize.values().forEach(Executable::close);
        }
    }
}
