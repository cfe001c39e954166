package dev.prism.conformance.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.conformance.linux.LinuxTarget;
import dev.prism.elf.ElfObject;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.sys.LinuxBpf;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.testing.Host;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Differential testing of every example against the Linux kernel (issue "Real programs in") and
 * the x86-64 and arm64 JITs: the same object is loaded by the interpreter, the kernel, x86-64 and
 * arm64 (emulated) with the same maps, all run
 * the crafted packets of examples/packets and then random ones, and after each packet r0 and the
 * packet must be identical, and every map's contents must be identical every 64 packets and at
 * the end. The interpreter's action on a crafted packet must also match the packet file's
 * {@code [expect ...]} annotation, written by the example's author from the program's intent.
 *
 * <p>Packet counts: 1,000 random packets per example in {@code make test}, 10,000 in the nightly
 * mode (PRISM_NIGHTLY=1 or -Dprism.nightly=true). The test thread is pinned to CPU 0 so the
 * kernel's per-CPU map slot is the interpreter's.
 */
class ExamplesDifferentialTest {
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    private static final int RANDOM_PACKETS = NIGHTLY ? 10_000 : 1_000;
    private static final int MAP_CHECK_EVERY = 64;

    /**
     * What an example needs beyond its object: the entry program, .rodata rewrites made before
     * loading, and value bytes that hold timestamps.
     */
    private record Spec(String entry, Rodata rodata, Map<String, int[]> timestampBytes) {
        static Spec plain() {
            return new Spec("xdp", null, Map.of());
        }
    }

    /** A u64 in .rodata at {@code offset}, expected to hold {@code expected}, rewritten to {@code value}. */
    private record Rodata(int offset, long expected, long value, String why) {
    }

    private static Spec spec(String example) {
        return switch (example) {
            // rate_pps = 0: no refill, so the bucket arithmetic does not depend on how many
            // nanoseconds pass between the kernel's run and the interpreter's; last_ns (bytes
            // 8..15 of a bucket) is each side's own clock reading.
            case "rate_limiter" -> new Spec("xdp", new Rodata(0, 10, 0, "no refill: timing-independent"),
                    Map.of("buckets", new int[] {8, 16}));
            case "tc_rewrite" -> new Spec("tc", null, Map.of());
            default -> Spec.plain();
        };
    }

    @TestFactory
    Stream<DynamicTest> examplesAgreeWithTheKernel() {
        // -Dprism.example=NAME runs one example only
        String only = System.getProperty("prism.example");
        return Examples.names().stream().filter(n -> only == null || only.equals(n)).map(name -> DynamicTest.dynamicTest(name + ".c [interpreter vs linux vs x86-64 vs arm64]",
                () -> check(name)));
    }

    private static void check(String name) {
        check("", name);
    }

    /** Runs {@code examples/DIR/NAME.c} with its packets on the interpreter, the kernel, x86-64 and arm64. */
    static void check(String dir, String name) {
        Host.requireLinuxBpf();
        Spec spec = spec(name);
        ElfObject obj = ElfObject.load(Examples.object(dir, name));
        List<Program> programs = programs(obj, name, spec);
        Examples.PacketFile crafted = Examples.packets(dir, name);
        List<byte[]> packets = new ArrayList<>(crafted.packets());
        PacketGenerator gen = new PacketGenerator(name.hashCode());
        for (int i = 0; i < RANDOM_PACKETS; i++) {
            packets.add(gen.next());
        }
        LinuxBpf.pinCurrentThread(0);
        // A helper this kernel lacks (bpf_xdp_adjust_meta on some builds) keeps the program out
        // of it: Prism's three targets are still compared with each other, and the run says so.
        java.util.Set<Integer> missing = dev.prism.conformance.linux.KernelProbe.missingHelpers(programs);
        try (Executable interp = new InterpreterTarget().load(programs);
             Executable kernel = missing.isEmpty() ? new LinuxTarget().load(programs) : null;
             Executable x86 = dev.prism.target.Targets.byId("x86-64").load(programs);
             Executable arm64 = dev.prism.target.Targets.byId("arm64").load(programs)) {
            for (Executable e : java.util.stream.Stream.of(interp, kernel, x86, arm64).filter(java.util.Objects::nonNull).toList()) {
                for (Examples.MapInit m : crafted.setup()) {
                    e.maps().update(m.map(), m.key(), m.value(), 0);
                }
                // libbpf fills prog_array slots from the object's initializer; so does this test
                obj.programSlots().forEach(slot -> e.maps().setProgram(slot.map(), slot.index(), slot.program()));
            }
            Map<String, Integer> actions = new TreeMap<>();
            boolean tc = programs.get(0).type() == dev.prism.program.ProgramType.TC;
            Map<String, Integer> redirects = new TreeMap<>();
            int eventCount = 0;
            for (int i = 0; i < packets.size(); i++) {
                byte[] p = packets.get(i);
                String where = name + " packet " + i + (i < crafted.packets().size() ? " (" + crafted.comments().get(i) + ")"
                        : " (random)") + ": " + HexFormat.of().formatHex(p);
                RunInput input = tc ? RunInput.ofSkb(p, skbIn(i)) : RunInput.ofPacket(p);
                RunResult b;
                try {
                    b = kernel == null ? null : kernel.run(input);
                } catch (dev.prism.error.TargetException e) {
                    // Linux's skb test run refuses IPv4 frames shorter than an IP header (and
                    // IPv6 ones shorter than theirs): every other target must refuse them too
                    if (!tc) {
                        throw e;
                    }
                    refusedByAll(where, input, interp, x86, arm64);
                    actions.merge("refused", 1, Integer::sum);
                    continue;
                }
                RunResult a = interp.run(input);
                actions.merge(tc ? a.tcAction() : a.xdpAction(), 1, Integer::sum);
                if (b != null) {
                    assertEquals(b.r0(), a.r0(), "r0 differs, " + where);
                    assertArrayEquals(b.packetAfter(), a.packetAfter(), "packet after differs, " + where);
                }
                if (tc && b != null) {
                    assertEquals(b.skbAfter(), a.skbAfter().withoutClassid(), "skb fields (ctx_out) differ, " + where);
                }
                RunResult c = x86.run(input);
                assertEquals(a.skbAfter(), c.skbAfter(), "x86-64 skb fields differ, " + where);
                assertEquals(a.r0(), c.r0(), "x86-64 r0 differs from the interpreter's, " + where);
                assertArrayEquals(a.packetAfter(), c.packetAfter(), "x86-64 packet after differs, " + where);
                RunResult d = arm64.run(input);
                assertEquals(a.skbAfter(), d.skbAfter(), "arm64 skb fields differ, " + where);
                assertEquals(a.r0(), d.r0(), "arm64 r0 differs from the interpreter's, " + where);
                assertArrayEquals(a.packetAfter(), d.packetAfter(), "arm64 packet after differs, " + where);
                // Linux's test run does not say where a redirect goes: the targets are compared
                // between Prism's targets; perf event records with every target (see events())
                assertEquals(a.redirect(), c.redirect(), "x86-64 redirect target differs, " + where);
                assertEquals(a.redirect(), d.redirect(), "arm64 redirect target differs, " + where);
                if (b != null) {
                    assertEquals(events(a), kernelEvents(a, b), "perf event records differ from the kernel's, " + where);
                }
                assertEquals(events(a), events(c), "x86-64 perf event records differ, " + where);
                assertEquals(events(a), events(d), "arm64 perf event records differ, " + where);
                if (a.redirect() != null) {
                    redirects.merge(a.redirect().toString(), 1, Integer::sum);
                }
                eventCount += a.events().size();
                if (i < crafted.packets().size()) {
                    String expect = expected(crafted.comments().get(i));
                    if (expect != null) {
                        // "[expect XDP_REDIRECT cpu 1 (map cpus)]" also names the redirect target
                        String action = tc ? a.tcAction() : a.xdpAction();
                        String got = expect.contains(" ") && a.redirect() != null ? action + " " + a.redirect() : action;
                        assertEquals(expect, got, "crafted expectation, " + where);
                    }
                }
                if (i % MAP_CHECK_EVERY == MAP_CHECK_EVERY - 1 || i == packets.size() - 1) {
                    compareMaps(programs.get(0).maps(), interp.maps(), kernel == null ? null : kernel.maps(), Map.of("x86-64", x86.maps(), "arm64", arm64.maps()),
                            spec, name + " after packet " + i);
                }
            }
            System.out.printf("differential %-13s %5d packets (%d crafted), r0/packet/maps identical on interpreter, %s %s%n",
                    name, packets.size(), crafted.packets().size(), kernel == null
                            ? "x86-64 and arm64; not linux: " + dev.prism.conformance.linux.KernelProbe.lacking(missing) : "linux, x86-64 and arm64",
                    actions);
            if (!redirects.isEmpty() || eventCount > 0) {
                System.out.printf("differential %-13s redirects %s, %d perf event records%n", name, redirects, eventCount);
            }
        } finally {
            LinuxBpf.pinCurrentThread(-1);
        }
    }

    /**
     * {@return the skb fields a tc example's packet {@code i} starts with (Linux's ctx_in)}:
     * mark and priority vary with i; cb is pseudo-random, with cb[4] = 1 (the example's
     * "redirect" request) for every 16th packet
     */
    private static dev.prism.target.SkbFields skbIn(int i) {
        java.util.Random r = new java.util.Random(i);
        byte[] cb = new byte[dev.prism.target.SkbFields.CB_SIZE];
        r.nextBytes(cb);
        ByteBuffer.wrap(cb).order(ByteOrder.LITTLE_ENDIAN).putInt(16, i % 16 == 15 ? 1 : r.nextInt() | 2);
        return new dev.prism.target.SkbFields(i * 0x01010101, i % 8, cb, null);
    }

    /** Asserts that each of {@code targets} refuses {@code input} as the kernel did. */
    private static void refusedByAll(String where, RunInput input, Executable... targets) {
        for (Executable e : targets) {
            try {
                RunResult r = e.run(input);
                org.junit.jupiter.api.Assertions.fail("the kernel refuses the input, a target ran it (r0 " + r.r0() + "), " + where);
            } catch (dev.prism.error.TargetException expected) {
                // as the kernel
            }
        }
    }

    /** {@return the object's programs, the entry first, .rodata rewritten as the spec says} */
    private static List<Program> programs(ElfObject obj, String name, Spec spec) {
        Program entry = obj.program(spec.entry());
        List<Program> out = new ArrayList<>();
        out.add(entry);
        obj.programs().stream().filter(p -> p != entry).forEach(out::add);
        if (spec.rodata() == null) {
            return out;
        }
        List<MapDef> maps = new ArrayList<>(entry.maps());
        for (int i = 0; i < maps.size(); i++) {
            MapDef m = maps.get(i);
            if (m.name().equals(".rodata")) {
                ByteBuffer data = ByteBuffer.wrap(m.initialData()).order(ByteOrder.LITTLE_ENDIAN);
                assertEquals(spec.rodata().expected(), data.getLong(spec.rodata().offset()),
                        ".rodata layout of " + name + " changed; update the test's rewrite (" + spec.rodata().why() + ")");
                data.putLong(spec.rodata().offset(), spec.rodata().value());
                maps.set(i, new MapDef(m.name(), m.type(), m.keySize(), m.valueSize(), m.maxEntries(), m.flags(), data.array(), m.readOnly()));
            }
        }
        return out.stream().map(p -> p.toBuilder().maps(maps).build()).toList();
    }

    /**
     * {@return a run's perf event records as "map: hex"}: the payload only, since the kernel
     * pads a raw sample to 8 bytes with its 4-byte size and says nothing of the slot beyond
     * the CPU, which the pinned test makes 0 everywhere
     */
    private static List<String> events(RunResult r) {
        return r.events().stream().map(e -> e.map() + ": " + HexFormat.of().formatHex(e.data())).toList();
    }

    /**
     * {@return the kernel's records of a run, each cut to the length of the interpreter's record
     * at the same position after checking that the kernel's length is the raw sample's padded
     * length, round_up(len + 4, 8) - 4}: the kernel skips the padding bytes without writing
     * them, so only the payload itself is comparable
     */
    private static List<String> kernelEvents(RunResult interp, RunResult kernel) {
        List<RunResult.Event> want = interp.events();
        List<String> out = new ArrayList<>();
        for (int k = 0; k < kernel.events().size(); k++) {
            RunResult.Event e = kernel.events().get(k);
            byte[] data = e.data();
            if (k < want.size()) {
                int len = want.get(k).data().length;
                int padded = ((len + 4 + 7) & ~7) - 4;
                assertEquals(padded, data.length, "kernel raw sample length for a " + len + "-byte record");
                data = Arrays.copyOf(data, len);
            }
            out.add(e.map() + ": " + HexFormat.of().formatHex(data));
        }
        return out;
    }

    private static String expected(String comment) {
        int at = comment.indexOf("[expect ");
        return at < 0 ? null : comment.substring(at + 8, comment.indexOf(']', at));
    }

    /** Compares the kernel's maps and each JIT's with the interpreter's (ring buffers are drained, once each). */
    /** Compares every map of the run with the interpreter's: the kernel's (unless null) and each JIT's. */
    private static void compareMaps(List<MapDef> defs, MapAccess interp, MapAccess kernel, Map<String, MapAccess> jits, Spec spec,
                                    String where) {
        for (MapDef def : defs) {
            String m = def.name();
            switch (def.type()) {
                case PROG_ARRAY, PERF_EVENT_ARRAY -> {
                    // prog arrays: slots hold program fds in the kernel and program indices here,
                    // not comparable bytes; perf event arrays: their records are compared per run
                }
                case RINGBUF -> {
                    List<String> b = interp.drain(m).stream().map(HexFormat.of()::formatHex).toList();
                    if (kernel != null) {
                        List<String> a = kernel.drain(m).stream().map(HexFormat.of()::formatHex).toList();
                        assertEquals(a, b, "ring buffer " + m + " records differ, " + where);
                    }
                    for (Map.Entry<String, MapAccess> jit : new TreeMap<>(jits).entrySet()) {
                        List<String> c = jit.getValue().drain(m).stream().map(HexFormat.of()::formatHex).toList();
                        assertEquals(b, c, "ring buffer " + m + " records differ on " + jit.getKey() + ", " + where);
                    }
                }
                default -> {
                    Map<String, String> want = contents(interp, def, spec, false);
                    if (kernel != null) {
                        assertEquals(contents(kernel, def, spec, true), want, "map " + m + " differs, " + where);
                    }
                    for (Map.Entry<String, MapAccess> jit : new TreeMap<>(jits).entrySet()) {
                        assertEquals(want, contents(jit.getValue(), def, spec, false), "map " + m + " differs on " + jit.getKey() + ", " + where);
                    }
                }
            }
        }
    }

    /** {@return key -> value (hex) of one map; per-CPU values reduced to CPU 0's block} */
    private static Map<String, String> contents(MapAccess maps, MapDef def, Spec spec, boolean kernel) {
        Map<String, String> out = new TreeMap<>();
        int stride = (def.valueSize() + 7) & ~7;
        for (byte[] key : maps.keys(def.name())) {
            byte[] v = maps.lookup(def.name(), key);
            if (v == null) {
                continue;
            }
            if (def.type().perCpu()) {
                if (kernel) {
                    for (int off = stride; off < v.length; off += stride) {
                        byte[] other = Arrays.copyOfRange(v, off, off + stride);
                        assertTrue(allZero(other), "map " + def.name() + ": the pinned test touched a CPU other than 0");
                    }
                }
                v = Arrays.copyOf(v, def.valueSize());
            }
            int[] ts = spec.timestampBytes().get(def.name());
            if (ts != null) {
                Arrays.fill(v, ts[0], ts[1], (byte) 0);
            }
            if (def.type() == MapType.ARRAY && allZero(v)) {
                continue; // arrays list every index; the zero ones say nothing
            }
            out.put(HexFormat.of().formatHex(key), HexFormat.of().formatHex(v));
        }
        return out;
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
