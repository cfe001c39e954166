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
            default -> Spec.plain();
        };
    }

    @TestFactory
    Stream<DynamicTest> examplesAgreeWithTheKernel() {
        return Examples.names().stream().map(name -> DynamicTest.dynamicTest(name + ".c [interpreter vs linux vs x86-64 vs arm64]",
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
        try (Executable interp = new InterpreterTarget().load(programs);
             Executable kernel = new LinuxTarget().load(programs);
             Executable x86 = dev.prism.target.Targets.byId("x86-64").load(programs);
             Executable arm64 = dev.prism.target.Targets.byId("arm64").load(programs)) {
            for (Executable e : List.of(interp, kernel, x86, arm64)) {
                for (Examples.MapInit m : crafted.setup()) {
                    e.maps().update(m.map(), m.key(), m.value(), 0);
                }
                // libbpf fills prog_array slots from the object's initializer; so does this test
                obj.programSlots().forEach(slot -> e.maps().setProgram(slot.map(), slot.index(), slot.program()));
            }
            Map<String, Integer> actions = new TreeMap<>();
            for (int i = 0; i < packets.size(); i++) {
                byte[] p = packets.get(i);
                RunResult a = interp.run(RunInput.ofPacket(p));
                actions.merge(a.xdpAction(), 1, Integer::sum);
                RunResult b = kernel.run(RunInput.ofPacket(p));
                String where = name + " packet " + i + (i < crafted.packets().size() ? " (" + crafted.comments().get(i) + ")"
                        : " (random)") + ": " + HexFormat.of().formatHex(p);
                assertEquals(b.r0(), a.r0(), "r0 differs, " + where);
                assertArrayEquals(b.packetAfter(), a.packetAfter(), "packet after differs, " + where);
                RunResult c = x86.run(RunInput.ofPacket(p));
                assertEquals(a.r0(), c.r0(), "x86-64 r0 differs from the interpreter's, " + where);
                assertArrayEquals(a.packetAfter(), c.packetAfter(), "x86-64 packet after differs, " + where);
                RunResult d = arm64.run(RunInput.ofPacket(p));
                assertEquals(a.r0(), d.r0(), "arm64 r0 differs from the interpreter's, " + where);
                assertArrayEquals(a.packetAfter(), d.packetAfter(), "arm64 packet after differs, " + where);
                if (i < crafted.packets().size()) {
                    String expect = expected(crafted.comments().get(i));
                    if (expect != null) {
                        assertEquals(expect, a.xdpAction(), "crafted expectation, " + where);
                    }
                }
                if (i % MAP_CHECK_EVERY == MAP_CHECK_EVERY - 1 || i == packets.size() - 1) {
                    compareMaps(programs.get(0).maps(), interp.maps(), kernel.maps(), Map.of("x86-64", x86.maps(), "arm64", arm64.maps()),
                            spec, name + " after packet " + i);
                }
            }
            System.out.printf("differential %-13s %5d packets (%d crafted), r0/packet/maps identical on interpreter, linux, x86-64 and arm64 %s%n",
                    name, packets.size(), crafted.packets().size(), actions);
        } finally {
            LinuxBpf.pinCurrentThread(-1);
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

    private static String expected(String comment) {
        int at = comment.indexOf("[expect ");
        return at < 0 ? null : comment.substring(at + 8, comment.indexOf(']', at));
    }

    /** Compares the kernel's maps and each JIT's with the interpreter's (ring buffers are drained, once each). */
    private static void compareMaps(List<MapDef> defs, MapAccess interp, MapAccess kernel, Map<String, MapAccess> jits, Spec spec,
                                    String where) {
        for (MapDef def : defs) {
            String m = def.name();
            switch (def.type()) {
                case PROG_ARRAY -> {
                    // slots hold program fds in the kernel and program indices here: not comparable bytes
                }
                case RINGBUF -> {
                    List<String> a = kernel.drain(m).stream().map(HexFormat.of()::formatHex).toList();
                    List<String> b = interp.drain(m).stream().map(HexFormat.of()::formatHex).toList();
                    assertEquals(a, b, "ring buffer " + m + " records differ, " + where);
                    for (Map.Entry<String, MapAccess> jit : new TreeMap<>(jits).entrySet()) {
                        List<String> c = jit.getValue().drain(m).stream().map(HexFormat.of()::formatHex).toList();
                        assertEquals(b, c, "ring buffer " + m + " records differ on " + jit.getKey() + ", " + where);
                    }
                }
                default -> {
                    Map<String, String> want = contents(interp, def, spec, false);
                    assertEquals(contents(kernel, def, spec, true), want, "map " + m + " differs, " + where);
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
