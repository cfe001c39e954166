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
import dev.prism.target.CapabilityChecker;
import dev.prism.target.Rule;
import dev.prism.target.Verdict;
import dev.prism.program.MapType;
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

/**
 * The {@code p4} target: a verified XDP (or raw) program lowered to P4_16 for v1model
 * ({@link P4Lowering}), checked by {@code p4test}, compiled by {@code p4c-bm2-ss} and run on
 * BMv2's {@code simple_switch}. Without the toolchain it still emits the source.
 */
public final class P4Target implements Target, dev.prism.target.BatchLoading {
    /** Most programs in one bundle that {@link #prepare} builds. */
    static final int PREPARED_BUNDLE = 40;
    /** Helpers the lowering has. */
    static final Set<Integer> HELPERS = Set.of(Helpers.MAP_LOOKUP_ELEM, Helpers.MAP_UPDATE_ELEM, Helpers.KTIME_GET_NS,
            Helpers.GET_PRANDOM_U32, Helpers.REDIRECT);

    private final boolean p4test;
    /** Programs {@link #prepare} bundled, by program and memory size (-1 for packets), not yet loaded. */
    private final Map<Prepared, java.util.ArrayDeque<PreparedSlot>> prepared = new HashMap<>();
    private final List<Bmv2Bundle> preparedBundles = new java.util.ArrayList<>();

    private record Prepared(Program program, int memSize) {
    }

    private record PreparedSlot(Bmv2Bundle bundle, int index) {
    }

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

    /**
     * What the lowering expresses: xdp and raw programs; every group but the legacy packet loads
     * and callx; loops unrolled (up to {@value P4Lowering#UNROLL_LIMIT} instructions after
     * unrolling, rule p4-unroll-limit); packet offsets below {@value P4Lowering#MAX_PACKET_BYTES};
     * map_lookup_elem on arrays (registers) and hash/LPM maps (tables), map_update_elem on arrays
     * only, ktime_get_ns, get_prandom_u32, redirect; arrays written freely, hash and LPM maps read
     * only in the data plane; no calls. Rules only the lowering knows ({@link P4Checker}) come on top.
     */
    @Override
    public Capabilities capabilities() {
        MapType[] lookups = {MapType.ARRAY, MapType.PERCPU_ARRAY, MapType.HASH, MapType.PERCPU_HASH, MapType.LRU_HASH,
                MapType.LPM_TRIE};
        return Capabilities.builder()
                .programTypes(ProgramType.XDP, ProgramType.RAW)
                .withoutGroups(Group.PACKET, Group.CALLX)
                .loops(Capabilities.Loops.unrolled(P4Lowering.UNROLL_LIMIT))
                .limits(Capabilities.Limits.NONE.withMaxStack(P4Lowering.STACK).withMaxPacketOffset(P4Lowering.MAX_PACKET_BYTES))
                .helpers(HELPERS)
                .helper(Capabilities.HelperRule.of(Helpers.MAP_LOOKUP_ELEM).onMaps(lookups))
                .helper(Capabilities.HelperRule.of(Helpers.MAP_UPDATE_ELEM).onMaps(MapType.ARRAY, MapType.PERCPU_ARRAY)
                        .constantArgs(4).withNote("flags BPF_ANY or BPF_EXIST; hash maps are tables, read-only in v1model's data plane"))
                .helper(Capabilities.HelperRule.of(Helpers.KTIME_GET_NS).withNote("the ingress timestamp: BMv2 stamps microseconds, times 1000"))
                .helper(Capabilities.HelperRule.of(Helpers.GET_PRANDOM_U32).withNote("v1model random()"))
                .helper(Capabilities.HelperRule.of(Helpers.REDIRECT).withNote("egress_spec = ifindex - 1"))
                .maps(Capabilities.MapRule.of(MapType.ARRAY), Capabilities.MapRule.of(MapType.PERCPU_ARRAY),
                        Capabilities.MapRule.of(MapType.HASH).withWrite(Capabilities.MapWrite.NONE),
                        Capabilities.MapRule.of(MapType.PERCPU_HASH).withWrite(Capabilities.MapWrite.NONE),
                        Capabilities.MapRule.of(MapType.LRU_HASH).withWrite(Capabilities.MapWrite.NONE),
                        Capabilities.MapRule.of(MapType.LPM_TRIE).withWrite(Capabilities.MapWrite.NONE))
                .calls(new Capabilities.Calls(false, false, false))
                .legalizes(Rule.BPF_CALL, P4Checker.UNROLL_LIMIT, P4Checker.LOOKUP_SITES)
                .build();
    }

    /** {@return the capabilities' verdict plus every refusal of the lowering ({@link P4Checker})} */
    @Override
    public Verdict check(VerifiedProgram program) {
        return CapabilityChecker.of(capabilities()).with(P4Checker::addTo).check(program);
    }

    @Override
    public Artifact compile(VerifiedProgram program) {
        requireSupported(program);
        P4Lowering.Result r = P4Lowering.lower(program);
        if (!r.refusals().isEmpty()) {
            // check() includes the lowering's refusals, so this only fires if the two disagree
            throw new TargetException("p4: check passed but the lowering refuses: " + r.refusals());
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
            // p4c is deterministic: a source compiled before comes from the cache (P4cCache)
            String checkKey = P4cCache.key(tc.p4test(), List.of("prog.p4"), r.source());
            if (p4test && P4cCache.get(checkKey) == null) {
                P4Toolchain.Run check = P4Toolchain.run(List.of(tc.p4test().toString(), src.toString()), dir, 300);
                if (check.status() != 0) {
                    throw new TargetException("p4: p4test rejects the generated P4 (a Prism bug): " + check.output().strip());
                }
                P4cCache.put(checkKey, "accepted".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            String key = P4cCache.key(tc.p4c(), List.of("-o", "prog.json", "prog.p4"), r.source());
            byte[] json = P4cCache.get(key);
            if (json == null) {
                P4Toolchain.Run bm = P4Toolchain.run(List.of(tc.p4c().toString(), "-o", "prog.json", "prog.p4"), dir, 300);
                if (bm.status() != 0) {
                    throw new TargetException("p4: p4c-bm2-ss rejects the generated P4 (a Prism bug): " + bm.output().strip());
                }
                json = Files.readAllBytes(dir.resolve("prog.json"));
                P4cCache.put(key, json);
            }
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
     * Bundles the programs of the loads that check accepts, {@value #PREPARED_BUNDLE} to a bundle
     * ({@link Bmv2Bundle}: one p4c-bm2-ss run and one switch each, compiled at the first run of
     * one of its programs); {@link #load} then hands each out once, as a program of its bundle
     * with maps of its own. A bundle's switch stops when every program of it was loaded and
     * closed. Loads that are not one program, or that the verifier or check refuses, are left
     * to {@link #load} as without preparing.
     */
    @Override
    public synchronized void prepare(List<Load> loads) {
        prepared.clear();
        preparedBundles.forEach(Bmv2Bundle::close);
        preparedBundles.clear();
        if (!availability().available()) {
            return;
        }
        List<Prepared> keys = new java.util.ArrayList<>();
        List<VerifiedProgram> programs = new java.util.ArrayList<>();
        for (Load l : loads) {
            if (l.programs().size() != 1) {
                continue;
            }
            Program p = l.programs().getFirst();
            int size = p.type() == ProgramType.RAW ? l.memSize() : -1;
            if (p.type() == ProgramType.RAW && size < 0) {
                continue;
            }
            VerifiedProgram vp;
            try {
                vp = Verifier.verify(p, Profile.RFC9669, size, null);
            } catch (RuntimeException e) {
                continue;
            }
            if (!check(vp).ok()) {
                continue;
            }
            keys.add(new Prepared(p, size));
            programs.add(vp);
        }
        for (int from = 0; from < programs.size(); from += PREPARED_BUNDLE) {
            int to = Math.min(programs.size(), from + PREPARED_BUNDLE);
            Bmv2Bundle b;
            try {
                b = Bmv2Bundle.of(programs.subList(from, to));
            } catch (TargetException e) {
                continue; // the lowering and check disagree: load reports it program by program
            }
            b.closeWhenSlotsClosed();
            preparedBundles.add(b);
            for (int i = from; i < to; i++) {
                prepared.computeIfAbsent(keys.get(i), k -> new java.util.ArrayDeque<>()).add(new PreparedSlot(b, i - from));
            }
        }
    }

    /** {@return a prepared program's slot, handed out once, or null} */
    private synchronized PreparedSlot takePrepared(Program p, int memSize) {
        java.util.ArrayDeque<PreparedSlot> q = prepared.get(new Prepared(p, memSize));
        return q == null ? null : q.poll();
    }

    /**
     * One program (no tail calls). Raw programs are verified, lowered and compiled for the size
     * of the memory a run brings, on the first run of that size. Programs {@link #prepare}
     * announced come from their bundle.
     */
    @Override
    public Executable load(List<Program> programs) {
        if (programs.size() != 1) {
            throw TargetException.unsupported("p4 runs one program (no tail calls)");
        }
        Program p = programs.getFirst();
        if (p.type() != ProgramType.RAW) {
            PreparedSlot s = takePrepared(p, -1);
            if (s != null) {
                return s.bundle().slot(s.index());
            }
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

    /** The work runs on a device or in another process, which the thread's CPU time does not see. */
    @Override
    public boolean runsOnCallingThread() {
        return false;
    }
        private final Program program;
        private final Map<Integer, Executable> bySize = new HashMap<>();
        private final Map<Integer, P4MapSync> syncs = new HashMap<>();
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
            Executable e = bySize.get(size);
            if (e == null) {
                PreparedSlot s = takePrepared(program, size);
                P4MapSync sync;
                if (s != null) {
                    sync = new P4MapSync(s.bundle().lowered(s.index()).maps(), host(), false, "PrismIngress.c" + s.index() + ".");
                    e = s.bundle().slot(s.index(), sync);
                } else {
                    P4Artifact a = (P4Artifact) compile(verify(program, size));
                    sync = new P4MapSync(a.lowered().maps(), host(), false);
                    e = a.load(sync);
                }
                bySize.put(size, e);
                syncs.put(size, sync);
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
            syncs.values().forEach(e -> e.markDirty(map));
        }

        @Override
        public boolean delete(String map, byte[] key) {
            boolean was = host().delete(map, key);
            syncs.values().forEach(e -> e.markDirty(map));
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

        /** Runs of one memory size go through the switch as one batch. */
        @Override
        public List<RunResult> run(List<RunInput> inputs) {
            if (!inputs.isEmpty() && inputs.stream().allMatch(i -> i.mem().length == inputs.getFirst().mem().length)) {
                return forSize(inputs.getFirst().mem().length).run(inputs);
            }
            return Executable.super.run(inputs);
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
