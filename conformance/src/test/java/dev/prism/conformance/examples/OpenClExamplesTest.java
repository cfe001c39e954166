package dev.prism.conformance.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.prism.elf.ElfObject;
import dev.prism.program.MapDef;
import dev.prism.program.Program;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import dev.prism.target.Targets;
import dev.prism.target.Verdict;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every example on {@code opencl} against the interpreter. An example opencl's check refuses
 * must come with reasons (each naming a pc or the whole program); the others run:
 * <ol>
 *   <li>the crafted packets, one batch of one each: r0, the packet after and every map equal the
 *       interpreter's after each (sequential semantics);</li>
 *   <li>then {@value #RANDOM} random packets (10,000 nightly) as one batch, where work-items run
 *       concurrently: r0 and the packet after of each equal the interpreter's run of the same
 *       packets in order; shared maps after the batch equal the interpreter's (exact for what the
 *       examples do inside a batch: commutative updates, atomic adds and inserts of keys whose
 *       value does not depend on the order); per-CPU maps are compared per device CPU: CPU c's
 *       value equals a fresh interpreter's after running, in order, the packets that CPU's
 *       work-groups ran (group g of a launch is CPU g % 64; the crafted packets ran on CPU 0).
 *       Per-CPU values are thereby exact even when not commutative (the parser's last result).</li>
 * </ol>
 * Examples that read the clock (rate_limiter) get the differential test's rewrite: no refill,
 * and the timestamp bytes of the bucket are left out. rate_limiter's bucket updates are plain
 * read-modify-writes, which concurrent work-items on one bucket race on (a lost update, as on two
 * Linux CPUs): its random packets run one per launch. Examples with a ring buffer run the random
 * packets in batches of {@value #RING_BATCH}, small enough that the ring never fills (which
 * records fit a full ring depends on the order), both rings drained after each batch and their
 * records compared as multisets.
 */
class OpenClExamplesTest {
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    private static final int RANDOM = NIGHTLY ? 10_000 : 1_000;

    @TestFactory
    Stream<DynamicTest> examplesOnOpencl() {
        String only = System.getProperty("prism.example");
        return Examples.names().stream().filter(n -> only == null || only.equals(n))
                .map(name -> DynamicTest.dynamicTest(name + ".c [interpreter vs opencl]", () -> check(name, "opencl")));
    }

    /**
     * The same on {@code ptx} (a CUDA device; requirement {@code ptx}, which PRISM_REQUIRE=all
     * does not cover: scripts/gpu-check names it). The per-CPU comparison holds there too: a
     * CUDA block of {@link dev.prism.gpu.DeviceExecutable#GROUP} threads is device CPU
     * block % 64, as a work-group is.
     */
    @TestFactory
    Stream<DynamicTest> examplesOnPtx() {
        String only = System.getProperty("prism.example");
        return Examples.names().stream().filter(n -> only == null || only.equals(n))
                .map(name -> DynamicTest.dynamicTest(name + ".c [interpreter vs ptx]", () -> check(name, "ptx")));
    }

    private static void check(String name, String targetId) {
        Target opencl = Targets.byId(targetId);
        Host.require(targetId, opencl.availability().available(), opencl.availability().reason());
        ElfObject obj = ElfObject.load(Examples.object("", name));
        Program entry = noRefill(name, obj.programs().stream().filter(p -> p.type() == dev.prism.program.ProgramType.XDP)
                .findFirst().orElse(obj.programs().getFirst()));
        // the entry first, then the programs of its type its prog_array slots may name
        List<Program> programs = new ArrayList<>(List.of(entry));
        obj.programs().stream().filter(q -> !q.section().equals(entry.section()) && q.type() == entry.type())
                .forEach(programs::add);
        Verdict v = Verdict.OK;
        for (Program q : programs) {
            v = v.and(opencl.check(Verifier.verify(q, Profile.RFC9669)));
        }
        if (!v.ok()) {
            assertFalse(v.reasons().isEmpty(), "refused without a reason");
            Assumptions.abort(name + " refused by " + targetId + "'s check: " + v.message());
        }
        Examples.PacketFile crafted = Examples.packets("", name);
        PacketGenerator gen = new PacketGenerator(name.hashCode());
        List<RunInput> random = new ArrayList<>();
        for (int i = 0; i < RANDOM; i++) {
            random.add(RunInput.ofPacket(gen.next()));
        }
        try (Executable interp = new InterpreterTarget().load(programs);
             Executable gpu = opencl.load(programs)) {
            for (Executable e : List.of(interp, gpu)) {
                for (ElfObject.ProgramSlot slot : obj.programSlots()) {
                    e.maps().setProgram(slot.map(), slot.index(), slot.program());
                }
                for (Examples.MapInit m : crafted.setup()) {
                    e.maps().update(m.map(), m.key(), m.value(), 0);
                }
            }
            for (int i = 0; i < crafted.packets().size(); i++) {
                RunInput in = RunInput.ofPacket(crafted.packets().get(i));
                String where = name + " crafted packet " + i + " (" + crafted.comments().get(i) + ")";
                same(interp.run(in), gpu.run(List.of(in)).get(0), where);
                compareMaps(entry.maps(), interp.maps(), gpu.maps(), where);
            }
            // With a ring, batches small enough that the ring never fills, both rings drained and
            // compared after each: which records fit a full ring depends on the order.
            boolean ring = entry.maps().stream().anyMatch(d -> d.type() == dev.prism.program.MapType.RINGBUF);
            // rate_limiter updates a bucket with plain loads and stores (tokens, passed, dropped):
            // two work-items on one bucket lose an update, as two CPUs would under Linux, so its
            // packets go one per launch and the maps stay exact
            int step = RACY.contains(name) ? 1 : ring ? RING_BATCH : random.size();
            for (int from = 0; from < random.size(); from += step) {
                List<RunInput> part = random.subList(from, Math.min(random.size(), from + step));
                List<RunResult> want = new ArrayList<>();
                for (RunInput in : part) {
                    want.add(interp.run(in));
                }
                List<RunResult> got = gpu.run(part);
                assertEquals(part.size(), got.size());
                for (int i = 0; i < part.size(); i++) {
                    same(want.get(i), got.get(i), name + " random packet " + (from + i) + " of one batch: "
                            + HexFormat.of().formatHex(part.get(i).packet()));
                }
                compareMaps(entry.maps(), interp.maps(), gpu.maps(), name + " after a batch of " + part.size());
            }
            comparePerCpu(entry, programs, obj.programSlots(), crafted, random, gpu.maps(), name);
            System.out.printf(targetId + " %-13s %d crafted packets one by one, %d random in %s: r0, packets and maps agree%n",
                    name, crafted.packets().size(), random.size(), step >= random.size() ? "one batch" : "batches of " + step);
        }
    }

    private static void same(RunResult a, RunResult b, String where) {
        assertEquals(a.r0(), b.r0(), "r0 differs, " + where);
        assertArrayEquals(a.packetAfter(), b.packetAfter(), "packet after differs, " + where);
    }

    /** Packets per batch for examples with a ring buffer: at most 32 bytes a record, 100 fit a 4 KiB ring. */
    private static final int RING_BATCH = 100;
    /** Examples whose shared map updates are plain read-modify-writes: run one packet per launch. */
    private static final java.util.Set<String> RACY = java.util.Set.of("rate_limiter");

    private static void compareMaps(List<MapDef> defs, MapAccess interp, MapAccess gpu, String where) {
        for (MapDef def : defs) {
            if (def.type() == dev.prism.program.MapType.PROG_ARRAY) {
                continue; // programs, set by the test on both sides
            }
            if (def.type() == dev.prism.program.MapType.RINGBUF) {
                // the records as a multiset: work-items claim ring space in any order
                List<String> a = interp.drain(def.name()).stream().map(HexFormat.of()::formatHex).sorted().toList();
                List<String> b = gpu.drain(def.name()).stream().map(HexFormat.of()::formatHex).sorted().toList();
                assertEquals(a, b, "ring " + def.name() + " differs, " + where);
                continue;
            }
            if (!def.type().perCpu() || where.contains("crafted")) {
                assertEquals(contents(interp, def, -1), contents(gpu, def, def.type().perCpu() ? 0 : -1),
                        "map " + def.name() + " differs, " + where);
            }
        }
    }

    /** Per-CPU maps after the batch: each device CPU's copy against a sequential run of its packets. */
    private static void comparePerCpu(Program entry, List<Program> programs, List<ElfObject.ProgramSlot> slots,
                                      Examples.PacketFile crafted, List<RunInput> batch, MapAccess gpu, String name) {
        if (entry.maps().stream().noneMatch(d -> d.type().perCpu())) {
            return;
        }
        if (entry.maps().stream().anyMatch(d -> d.type() == dev.prism.program.MapType.RINGBUF)) {
            throw new IllegalStateException(name + ": per-CPU maps with a ring (batches of " + RING_BATCH + ") are not compared yet");
        }
        int chunk = Math.min(dev.prism.gpu.DeviceExecutable.CHUNK, batch.size());
        for (int cpu = 0; cpu < dev.prism.gpu.DeviceExecutable.CPUS; cpu++) {
            try (Executable interp = new InterpreterTarget().load(programs)) {
                for (ElfObject.ProgramSlot slot : slots) {
                    interp.maps().setProgram(slot.map(), slot.index(), slot.program());
                }
                for (Examples.MapInit m : crafted.setup()) {
                    interp.maps().update(m.map(), m.key(), m.value(), 0);
                }
                if (cpu == 0) {
                    crafted.packets().forEach(p -> interp.run(RunInput.ofPacket(p)));
                }
                for (int i = 0; i < batch.size(); i++) {
                    if ((i % chunk) / dev.prism.gpu.DeviceExecutable.GROUP % dev.prism.gpu.DeviceExecutable.CPUS == cpu) {
                        interp.run(batch.get(i));
                    }
                }
                for (MapDef def : entry.maps()) {
                    if (def.type().perCpu()) {
                        assertEquals(contents(interp.maps(), def, -1), contents(gpu, def, cpu),
                                "per-CPU map " + def.name() + " differs on device CPU " + cpu + ", " + name + " after a batch");
                    }
                }
            }
        }
    }

    /**
     * {@return key -> value (hex); per-CPU values: CPU {@code cpu}'s block (-1: the first and only
     * one, the interpreter's); zero array slots left out; rate_limiter's timestamps zeroed}
     */
    private static Map<String, String> contents(MapAccess maps, MapDef def, int cpu) {
        Map<String, String> out = new TreeMap<>();
        int stride = (def.valueSize() + 7) & ~7;
        for (byte[] key : maps.keys(def.name())) {
            byte[] v = maps.lookup(def.name(), key);
            if (v == null) {
                continue;
            }
            if (def.type().perCpu()) {
                int at = Math.max(cpu, 0) * stride;
                v = Arrays.copyOfRange(v, at, at + def.valueSize());
            }
            if (def.name().equals("buckets")) {
                Arrays.fill(v, 8, 16, (byte) 0);
            }
            if (def.type() == dev.prism.program.MapType.ARRAY || def.type().perCpu()) {
                boolean zero = true;
                for (byte x : v) {
                    zero &= x == 0;
                }
                if (zero) {
                    continue;
                }
            }
            out.put(HexFormat.of().formatHex(key), HexFormat.of().formatHex(v));
        }
        return out;
    }

    /** rate_limiter: rate_pps (u64 at .rodata 0, 10) becomes 0, so no refill depends on the clock. */
    private static Program noRefill(String name, Program p) {
        if (!name.equals("rate_limiter")) {
            return p;
        }
        List<MapDef> maps = new ArrayList<>(p.maps());
        for (int i = 0; i < maps.size(); i++) {
            MapDef m = maps.get(i);
            if (m.name().equals(".rodata")) {
                java.nio.ByteBuffer data = java.nio.ByteBuffer.wrap(m.initialData()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                assertEquals(10, data.getLong(0), ".rodata layout of rate_limiter changed");
                data.putLong(0, 0);
                maps.set(i, new MapDef(m.name(), m.type(), m.keySize(), m.valueSize(), m.maxEntries(), m.flags(), data.array(),
                        m.readOnly()));
            }
        }
        return p.toBuilder().maps(maps).build();
    }
}
