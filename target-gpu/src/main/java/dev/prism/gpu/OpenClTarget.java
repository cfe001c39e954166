package dev.prism.gpu;

import dev.prism.error.TargetException;
import dev.prism.isa.AtomicOp;
import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Environment;
import dev.prism.runtime.Helpers;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * OpenCL C (id {@code opencl}): {@link OpenClC} lowers a verified {@code raw} or {@code xdp}
 * program to a kernel, one work-item per input; {@link OpenClExecutable} runs batches on the
 * first OpenCL device with 64-bit atomics (PoCL's CPU device here) through {@link OpenCl}.
 *
 * <p>What it refuses, through {@link #check} ({@link #capabilities()}): tc programs, legacy
 * packet loads and callx (groups packet, callx), tail calls, lddw by fd / variable / code
 * address, helpers other than map lookup/update/delete, ktime (the batch's launch time: OpenCL
 * C has no device clock), get_prandom_u32 (xorshift per work-item, seeded per batch),
 * get_smp_processor_id (the work-group), csum_diff and the three XDP adjust helpers, and maps
 * other than ARRAY, PERCPU_ARRAY, HASH and LPM_TRIE (lookups only: update and delete on it).
 */
public final class OpenClTarget implements Target {
    private final Environment env;

    /** The target with the host's clock (ServiceLoader constructor). */
    public OpenClTarget() {
        this(Environment.host());
    }

    /** The target with an injected environment (its clock is ktime's launch time). */
    public OpenClTarget(Environment env) {
        this.env = env;
    }

    @Override
    public String id() {
        return "opencl";
    }

    @Override
    public String description() {
        return "OpenCL C kernel, one work-item per input (PoCL or any OpenCL device with 64-bit atomics)";
    }

    @Override
    public Availability availability() {
        String why = OpenCl.unavailable();
        return why == null ? Availability.yes(OpenCl.device().name()) : Availability.no(why);
    }

    @Override
    public Capabilities capabilities() {
        return Capabilities.builder()
                .programTypes(ProgramType.RAW, ProgramType.XDP)
                .groups(Group.BASE32, Group.BASE64, Group.ATOMIC32, Group.ATOMIC64, Group.DIVMUL32, Group.DIVMUL64)
                .maxVersion(CpuVersion.V4)
                .helpers(Helpers.MAP_LOOKUP_ELEM, Helpers.MAP_UPDATE_ELEM, Helpers.MAP_DELETE_ELEM, Helpers.KTIME_GET_NS,
                        Helpers.KTIME_GET_BOOT_NS, Helpers.GET_PRANDOM_U32, Helpers.GET_SMP_PROCESSOR_ID, Helpers.CSUM_DIFF,
                        Helpers.XDP_ADJUST_HEAD, Helpers.XDP_ADJUST_META, Helpers.XDP_ADJUST_TAIL)
                .lacking(o -> o.mnemonic().startsWith("call btf") || o.mnemonic().startsWith("lddw dst, map_fd")
                        || o.mnemonic().startsWith("lddw dst, map_value_fd") || o.mnemonic().startsWith("lddw dst, var")
                        || o.mnemonic().startsWith("lddw dst, code"))
                .maps(Capabilities.MapRule.of(MapType.ARRAY), Capabilities.MapRule.of(MapType.PERCPU_ARRAY),
                        Capabilities.MapRule.of(MapType.HASH), Capabilities.MapRule.of(MapType.LPM_TRIE))
                .helper(Capabilities.HelperRule.of(Helpers.MAP_UPDATE_ELEM).onMaps(MapType.ARRAY, MapType.PERCPU_ARRAY, MapType.HASH)
                        .withNote("LPM maps are read-only on the device (built by the host between batches)"))
                .helper(Capabilities.HelperRule.of(Helpers.MAP_DELETE_ELEM).onMaps(MapType.ARRAY, MapType.PERCPU_ARRAY, MapType.HASH)
                        .withNote("LPM maps are read-only on the device (built by the host between batches)"))
                .atomics(AtomicOp.values())
                .calls(new Capabilities.Calls(true, false, false))
                .build();
    }

    @Override
    public Artifact compile(VerifiedProgram verified) {
        requireSupported(verified);
        DeviceLayout layout = DeviceLayout.of(verified.normalized(), verified.requires().stackDepth());
        String source = OpenClC.lower(verified, layout);
        return new Artifact() {
            @Override
            public String listing() {
                return source;
            }

            @Override
            public byte[] bytes() {
                return source.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            }

            @Override
            public Executable load() {
                requireAvailable();
                return new OpenClExecutable(verified, source, layout, env.monotonicNs(), env.random().getAsInt(), null);
            }
        };
    }

    /**
     * Loads one program. Raw programs are verified for the size of the memory each batch brings
     * and compiled once per size, all sizes sharing the maps of the first.
     */
    @Override
    public Executable load(List<Program> programs) {
        if (programs.size() != 1) {
            throw TargetException.unsupported("tail calls on opencl (it loads one program at a time)");
        }
        requireAvailable();
        Program p = programs.get(0);
        if (p.type() != ProgramType.RAW) {
            VerifiedProgram v;
            try {
                v = Verifier.verify(p, Profile.RFC9669);
            } catch (dev.prism.error.VerificationException ex) {
                throw new TargetException("rejected by the verifier: " + ex.getMessage(), ex);
            }
            return compile(v).load();
        }
        return new BySize(p);
    }

    private void requireAvailable() {
        Availability a = availability();
        if (!a.available()) {
            throw new TargetException("opencl is unavailable: " + a.reason());
        }
    }

    /** A raw program compiled per memory size on first use. */
    private final class BySize implements Executable {
        private final Program program;
        private final Map<Integer, OpenClExecutable> bySize = new HashMap<>();
        private OpenClExecutable last;
        private final java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared();
        private final List<dev.prism.runtime.maps.BpfMap> maps;

        BySize(Program program) {
            this.program = program;
            this.maps = OpenClExecutable.hostMaps(program.maps(), arena);
        }

        private OpenClExecutable at(int size) {
            OpenClExecutable e = bySize.get(size);
            if (e == null) {
                VerifiedProgram v;
                try {
                    v = Verifier.verify(program, Profile.RFC9669, size, null);
                } catch (dev.prism.error.VerificationException ex) {
                    throw new TargetException("rejected by the verifier: " + ex.getMessage(), ex);
                }
                requireSupported(v);
                DeviceLayout layout = DeviceLayout.of(v.normalized(), v.requires().stackDepth());
                e = new OpenClExecutable(v, OpenClC.lower(v, layout), layout, env.monotonicNs(), env.random().getAsInt(), maps);
                bySize.put(size, e);
            }
            return e;
        }

        @Override
        public RunResult run(RunInput input) {
            last = at(input.mem().length);
            return last.run(input);
        }

        @Override
        public List<RunResult> run(List<RunInput> inputs) {
            if (inputs.isEmpty()) {
                return List.of();
            }
            last = at(inputs.get(0).mem().length);
            return last.run(inputs);
        }

        @Override
        public Map<String, Long> lastBatchNanos() {
            return last == null ? Map.of() : last.lastBatchNanos();
        }

        @Override
        public dev.prism.target.MapAccess maps() {
            return new SyncedMapAccess(new dev.prism.runtime.MapSetAccess(maps, List.of(program)),
                    () -> bySize.values().forEach(OpenClExecutable::syncDown),
                    () -> bySize.values().forEach(OpenClExecutable::markDeviceStale));
        }

        @Override
        public void close() {
            for (OpenClExecutable e : bySize.values()) {
                e.close();
            }
            OpenClExecutable.closeMaps(maps);
            arena.close();
        }
    }
}
