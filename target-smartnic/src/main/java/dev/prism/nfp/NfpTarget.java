package dev.prism.nfp;

import dev.prism.error.TargetException;
import dev.prism.error.VerificationException;
import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.Reason;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import dev.prism.target.Targets;
import dev.prism.target.Verdict;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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
    private final String runner;

    /** The target with the environment's profile, strict rules (ServiceLoader constructor). */
    public NfpTarget() {
        this(null, NfpChecker.Options.STRICT);
    }

    /** @param profile the firmware limits (null: {@link NfpProfile#fromEnvironment()}) */
    public NfpTarget(NfpProfile profile, NfpChecker.Options options) {
        this(profile, options, null);
    }

    /**
     * @param profile the firmware limits (null: {@link NfpProfile#fromEnvironment()})
     * @param runner  where the legalized program runs: "interpreter" or "linux" (null: {@link #RUN_PROPERTY})
     */
    public NfpTarget(NfpProfile profile, NfpChecker.Options options, String runner) {
        this.profile = profile;
        this.options = options;
        this.runner = runner;
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

    /**
     * {@inheritDoc} Checking, legalizing and writing objects need nothing; running needs the
     * runner: always there for the interpreter, root and bpf() for linux.
     */
    @Override
    public Availability availability() {
        if (runner().equals("linux")) {
            Availability a;
            try {
                a = Targets.byId("linux").availability();
            } catch (TargetException e) {
                return Availability.no("the legalized program runs in the kernel, and there is no linux target: " + e.getMessage());
            }
            return a.available() ? Availability.yes("modelled: the legalized program runs in the running kernel")
                    : Availability.no("the legalized program runs in the kernel: " + a.reason());
        }
        return Availability.yes("modelled: the legalized program runs on the " + runner());
    }

    private String runner() {
        return runner != null ? runner : runnerFromEnvironment();
    }

    private static String runnerFromEnvironment() {
        String r = System.getProperty(RUN_PROPERTY);
        if (r == null) {
            r = System.getenv("PRISM_NFP_RUN");
        }
        return r == null || r.isBlank() ? "interpreter" : r.strip().toLowerCase(Locale.ROOT);
    }

    /** Opcode bytes missing from the nfp JIT's table of 115 (jit.c instr_cb), among those Prism knows. */
    static final java.util.Set<Integer> MISSING_OPCODES = java.util.Set.of(0x94, 0x97, 0x9c, 0x9f, 0xd4, 0xd7, 0x81, 0x89,
            0x91, 0x06, 0x8d);

    /** {@return whether the row is sdiv (0x34, 0x37, 0x3c, 0x3f with offset 1) or movsx (0xb4..0xbf with offset 8, 16, 32)} */
    private static boolean isSignedVariant(dev.prism.isa.Opcode o) {
        int cls = o.code() & 0x07;
        int op = o.code() & 0xf0;
        return o.discriminator() > 0 && (cls == 0x04 || cls == 0x07) && (op == 0x30 || op == 0xb0);
    }

    /**
     * {@inheritDoc} As data, what the driver and the firmware profile allow: XDP and cls_bpf;
     * the opcodes of the JIT's table (sdiv, smod and movsx count as missing: the driver would
     * miscompile them); multiplication and division within u32, division by constants; the
     * firmware stack and packet boundary; helpers 1, 2, 3 on array and hash maps, 7, 25, 44, 65
     * as the firmware offers them; array and hash maps with the firmware's sizes, written only by
     * atomic add; atomic add only; bpf-to-bpf calls, no tail calls, no callx; XDP actions 0..3.
     * The legalizer lifts the opcode, return-code, nfp-opcode-offset and nfp-store-immediate
     * rules, listed under legalizes. The per-path rules (pointer types, stack offsets, map word
     * use, helper arguments) cannot be data: {@link #check} applies them.
     */
    @Override
    public Capabilities capabilities() {
        NfpProfile p = profile();
        Capabilities.Builder b = Capabilities.builder()
                .programTypes(ProgramType.XDP, ProgramType.TC)
                .withoutGroups(Group.CALLX)
                .maxVersion(CpuVersion.V4)
                .lacking(o -> MISSING_OPCODES.contains(o.code()) || isSignedVariant(o))
                .arithmetic(Capabilities.Arithmetic.ANY.withMulOperandMax(NfpChecker.U32_MAX)
                        .withDivOperandMax(NfpChecker.U32_MAX).withDivisorConstant(true))
                .limits(Capabilities.Limits.NONE.withMaxStack(p.stackBytes()).withMaxPacketOffset(p.inlineMtu()))
                .atomics(dev.prism.isa.AtomicOp.ADD)
                .calls(new Capabilities.Calls(true, false, false))
                .returns(Capabilities.Returns.only(0, 1, 2, 3))
                .legalizes(NfpRule.OPCODE.id(), NfpRule.OPCODE_OFFSET.id(), NfpRule.STORE_IMMEDIATE.id(),
                        NfpRule.XDP_RETURN.id());
        for (int id : p.helpers()) {
            if (NfpChecker.DRIVER_HELPERS.contains(id)) {
                Capabilities.HelperRule rule = Capabilities.HelperRule.of(id);
                b.helper(id <= 3 ? rule.onMaps(MapType.ARRAY, MapType.HASH).withNote("key and value on the stack at a "
                        + "constant 4-byte-aligned offset") : rule);
            }
        }
        for (MapType t : List.of(MapType.ARRAY, MapType.HASH)) {
            b.map(Capabilities.MapRule.of(t).withMaxKeySize(p.maxKeySize()).withMaxValueSize(p.maxValueSize())
                    .withMaxEntries((int) Math.min(Integer.MAX_VALUE, p.maxMapEntries()))
                    .withWrite(Capabilities.MapWrite.ATOMIC_ADD));
        }
        return b.build();
    }

    /**
     * {@inheritDoc} The nfp driver's rules ({@link NfpChecker}), then the legalizer: ok when the
     * program fits as it is or once legalized; otherwise every reason of the program as it
     * stands (those the legalizer would lift marked liftable) and what stays after legalizing.
     * Each reason's sentence begins with the driver's message where it prints one, or
     * "(prism)" where it prints nothing.
     */
    @Override
    public Verdict check(VerifiedProgram verified) {
        return verdict(verified).verdict();
    }

    /** A verdict and the legalization it came from. */
    private record Outcome(Verdict verdict, List<NfpReason> original, NfpLegalizer.Result result) {
    }

    private Outcome verdict(VerifiedProgram verified) {
        List<NfpReason> original = NfpChecker.check(verified, profile(), options);
        NfpLegalizer.Result r = NfpLegalizer.legalize(verified, original, profile(), options);
        if (r.ok()) {
            return new Outcome(Verdict.OK, original, r);
        }
        List<Reason> all = new java.util.ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (NfpReason n : original) {
            if (seen.add(n.pc() + "|" + n.text())) {
                all.add(n.toReason());
            }
        }
        for (NfpReason n : r.remaining()) {
            if (seen.add(n.pc() + "|" + n.text())) {
                all.add(new NfpReason(n.pc(), n.line(), n.rule(), n.sentence() + " (after legalization)", n.quote(), false)
                        .toReason());
            }
        }
        return new Outcome(Verdict.of(all), original, r);
    }

    /** {@return every reason the nfp driver refuses the program for, as it stands (before legalization)} */
    public List<NfpReason> reasons(VerifiedProgram verified) {
        return NfpChecker.check(verified, profile(), options);
    }

    /** {@return the program checked and legalized; {@link NfpLegalizer.Result#remaining()} says what stays refused} */
    public NfpLegalizer.Result legalize(VerifiedProgram verified) {
        return NfpLegalizer.process(verified, profile(), options);
    }

    /** {@inheritDoc} Refuses exactly what {@link #check} reports, with its verdict. */
    @Override
    public NfpArtifact compile(VerifiedProgram verified) {
        Outcome o = verdict(verified);
        o.verdict().orThrow();
        return new NfpArtifact(verified.program(), o.original(), o.result());
    }

    /** The legalized program: its object file, a listing of the rewrites, an executable. */
    public final class NfpArtifact implements Artifact {
        private final Program original;
        private final List<NfpReason> reasons;
        private final NfpLegalizer.Result result;

        NfpArtifact(Program original, List<NfpReason> reasons, NfpLegalizer.Result result) {
            this.original = original;
            this.reasons = List.copyOf(reasons);
            this.result = result;
        }

        /** {@return what the driver would have refused in the original program, all lifted by the legalizer} */
        public List<NfpReason> lifted() {
            return reasons;
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
            StringBuilder sb = new StringBuilder("; nfp profile: " + profile().name() + "\n");
            for (NfpReason r : reasons) {
                sb.append("; lifted: ").append(r).append('\n');
            }
            return sb + NfpLegalizer.listing(original, result);
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
            List<NfpReason> early = NfpChecker.programReasons(p, profile(), options);
            if (!early.isEmpty()) {
                Verdict.of(early.stream().map(NfpReason::toReason).toList()).orThrow();
            }
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
    private Executable run(Program legalized) {
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
