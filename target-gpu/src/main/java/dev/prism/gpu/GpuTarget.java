package dev.prism.gpu;

import dev.prism.error.TargetException;
import dev.prism.isa.AtomicOp;
import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.program.MapType;
import dev.prism.runtime.Helpers;
import dev.prism.target.Capabilities;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Environment;
import dev.prism.runtime.MapSetAccess;
import dev.prism.runtime.maps.BpfMap;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the GPU targets share: the artifact (the lowered text), loading one program, and raw
 * programs compiled once per memory size sharing one set of maps. A subclass gives the lowering
 * ({@link #lower}) and the device ({@link #gpu}); {@link DeviceExecutable} runs the batches.
 */
abstract sealed class GpuTarget implements Target permits OpenClTarget, PtxTarget {
    final Environment env;

    /** What both device lowerings take (OpenClC and PtxC lower the same set). */
    static final Capabilities DEVICE = Capabilities.builder()
            .programTypes(ProgramType.RAW, ProgramType.XDP)
            .groups(Group.BASE32, Group.BASE64, Group.ATOMIC32, Group.ATOMIC64, Group.DIVMUL32, Group.DIVMUL64)
            .maxVersion(CpuVersion.V4)
            .helpers(Helpers.MAP_LOOKUP_ELEM, Helpers.MAP_UPDATE_ELEM, Helpers.MAP_DELETE_ELEM, Helpers.KTIME_GET_NS,
                    Helpers.KTIME_GET_BOOT_NS, Helpers.GET_PRANDOM_U32, Helpers.GET_SMP_PROCESSOR_ID, Helpers.CSUM_DIFF,
                    Helpers.XDP_ADJUST_HEAD, Helpers.XDP_ADJUST_META, Helpers.XDP_ADJUST_TAIL, Helpers.LOOP,
                    Helpers.RINGBUF_OUTPUT, Helpers.RINGBUF_RESERVE, Helpers.RINGBUF_SUBMIT, Helpers.RINGBUF_DISCARD,
                    Helpers.TAIL_CALL)
            .lacking(o -> o.mnemonic().startsWith("call btf") || o.mnemonic().startsWith("lddw dst, map_fd")
                    || o.mnemonic().startsWith("lddw dst, map_value_fd") || o.mnemonic().startsWith("lddw dst, var"))
            .maps(Capabilities.MapRule.of(MapType.ARRAY), Capabilities.MapRule.of(MapType.PERCPU_ARRAY),
                    Capabilities.MapRule.of(MapType.HASH), Capabilities.MapRule.of(MapType.LPM_TRIE),
                    Capabilities.MapRule.of(MapType.RINGBUF), Capabilities.MapRule.of(MapType.LRU_HASH),
                    Capabilities.MapRule.of(MapType.PROG_ARRAY))
            .helper(Capabilities.HelperRule.of(Helpers.MAP_UPDATE_ELEM).onMaps(MapType.ARRAY, MapType.PERCPU_ARRAY, MapType.HASH,
                    MapType.LRU_HASH)
                    .withNote("LPM maps are read-only on the device (built by the host between batches)"))
            .helper(Capabilities.HelperRule.of(Helpers.MAP_DELETE_ELEM).onMaps(MapType.ARRAY, MapType.PERCPU_ARRAY, MapType.HASH,
                    MapType.LRU_HASH)
                    .withNote("LPM maps are read-only on the device (built by the host between batches)"))
            .atomics(AtomicOp.values())
            .calls(new Capabilities.Calls(true, true, false))
            .build();

    GpuTarget(Environment env) {
        this.env = env;
    }

    /** {@return the kernel text of {@code verified} for {@code layout}} */
    String lower(VerifiedProgram verified, DeviceLayout layout) {
        return lower(List.of(verified), layout);
    }

    /** {@return the kernel text of {@code verified}: the entry first, then the programs tail calls may reach} */
    abstract String lower(List<VerifiedProgram> verified, DeviceLayout layout);

    /** {@return the device} @throws TargetException when there is none */
    abstract Gpu gpu();

    @Override
    public Artifact compile(VerifiedProgram verified) {
        requireSupported(verified);
        DeviceLayout layout = DeviceLayout.of(verified.normalized(), verified.requires().stackDepth());
        String text = lower(verified, layout);
        return new Artifact() {
            @Override
            public String listing() {
                return text;
            }

            @Override
            public byte[] bytes() {
                return text.getBytes(StandardCharsets.UTF_8);
            }

            @Override
            public Executable load() {
                requireAvailable();
                return new DeviceExecutable(gpu(), verified, text, layout, env.monotonicNs(), env.random().getAsInt(), null);
            }
        };
    }

    /**
     * Loads one program. Raw programs are verified for the size of the memory each batch brings
     * and compiled once per size, all sizes sharing the maps of the first.
     */
    @Override
    public Executable load(List<Program> programs) {
        requireAvailable();
        Program p = programs.get(0);
        if (programs.size() > 1) {
            return loadWithTargets(programs);
        }
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

    /**
     * Several programs: one kernel holds them all (tail calls continue its dispatch at the
     * target's first instruction); they must share the entry's maps, as an object's programs do.
     */
    private Executable loadWithTargets(List<Program> programs) {
        Program entry = programs.getFirst();
        if (entry.type() == ProgramType.RAW) {
            throw TargetException.unsupported("tail calls between raw programs on " + id());
        }
        List<VerifiedProgram> verified = new java.util.ArrayList<>();
        int stack = 0;
        for (Program q : programs) {
            if (!q.maps().equals(entry.maps())) {
                throw TargetException.unsupported("programs with maps of their own on " + id() + " (" + q.name()
                        + "'s maps differ from " + entry.name() + "'s)");
            }
            VerifiedProgram v;
            try {
                v = Verifier.verify(q, Profile.RFC9669);
            } catch (dev.prism.error.VerificationException ex) {
                throw new TargetException("rejected by the verifier: " + q.name() + ": " + ex.getMessage(), ex);
            }
            requireSupported(v);
            verified.add(v);
            stack = Math.max(stack, v.requires().stackDepth());
        }
        return kernel(verified, stack).withPrograms(programs);
    }

    /**
     * {@return the kernel text holding {@code verified} (checked by {@link #check}), the first
     * the entry and the others the programs its prog_array slots may name, by their index here}
     */
    public String listingWithTargets(List<VerifiedProgram> verified) {
        int stack = 0;
        for (VerifiedProgram v : verified) {
            requireSupported(v);
            stack = Math.max(stack, v.requires().stackDepth());
        }
        DeviceLayout layout = DeviceLayout.of(verified.stream().map(VerifiedProgram::normalized).toList(), stack);
        return lower(verified, layout);
    }

    private DeviceExecutable kernel(List<VerifiedProgram> verified, int stack) {
        DeviceLayout layout = DeviceLayout.of(verified.stream().map(VerifiedProgram::normalized).toList(), stack);
        String text = lower(verified, layout);
        return new DeviceExecutable(gpu(), verified.getFirst(), text, layout, env.monotonicNs(), env.random().getAsInt(), null);
    }

    void requireAvailable() {
        Availability a = availability();
        if (!a.available()) {
            throw new TargetException(id() + " is unavailable: " + a.reason());
        }
    }

    /** A raw program compiled per memory size on first use. */
    private final class BySize implements Executable {

    /** The work runs on a device or in another process, which the thread's CPU time does not see. */
    @Override
    public boolean runsOnCallingThread() {
        return false;
    }
        private final Program program;
        private final Map<Integer, DeviceExecutable> bySize = new HashMap<>();
        private DeviceExecutable last;
        private final Arena arena = Arena.ofShared();
        private final List<BpfMap> maps;

        BySize(Program program) {
            this.program = program;
            this.maps = DeviceExecutable.hostMaps(program.maps(), arena);
        }

        private DeviceExecutable at(int size) {
            DeviceExecutable e = bySize.get(size);
            if (e == null) {
                VerifiedProgram v;
                try {
                    v = Verifier.verify(program, Profile.RFC9669, size, null);
                } catch (dev.prism.error.VerificationException ex) {
                    throw new TargetException("rejected by the verifier: " + ex.getMessage(), ex);
                }
                requireSupported(v);
                DeviceLayout layout = DeviceLayout.of(v.normalized(), v.requires().stackDepth());
                e = new DeviceExecutable(gpu(), v, lower(v, layout), layout, env.monotonicNs(), env.random().getAsInt(), maps);
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
        public MapAccess maps() {
            return new SyncedMapAccess(new MapSetAccess(maps, List.of(program)),
                    () -> bySize.values().forEach(DeviceExecutable::syncDown),
                    () -> bySize.values().forEach(DeviceExecutable::markDeviceStale));
        }

        @Override
        public void close() {
            for (DeviceExecutable e : bySize.values()) {
                e.close();
            }
            DeviceExecutable.closeMaps(maps);
            arena.close();
        }
    }
}
