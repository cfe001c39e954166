package dev.prism.conformance.nfp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.conformance.ConformanceCase;
import dev.prism.conformance.DataFileReader;
import dev.prism.conformance.Suites;
import dev.prism.conformance.examples.Examples;
import dev.prism.conformance.examples.PacketGenerator;
import dev.prism.conformance.linux.LinuxTarget;
import dev.prism.elf.ElfObject;
import dev.prism.error.PrismException;
import dev.prism.error.TrapException;
import dev.prism.nfp.NfpChecker;
import dev.prism.nfp.NfpTarget;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.sys.LinuxBpf;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import dev.prism.target.Verdict;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The legalization differential (issue 13): every example and every suite case the nfp model
 * accepts after legalization runs, original and legalized, on the interpreter and in the running
 * kernel, and they must agree on r0 (XDP actions above 3 folded to XDP_ABORTED, what the card
 * does), the packet or memory after, and every map's contents.
 *
 * <p>Inputs: suite cases run on their own input plus random inputs of the same size; examples on
 * their crafted packets plus random ones ({@link PacketGenerator}). Counts: examples 1,000 random
 * packets on both; suite cases 100 random inputs on the interpreter and 5 in the kernel (the
 * kernel loads a raw program for each run) per {@code make test}, 1,000 on both nightly.
 * Suite programs are raw: they are checked as XDP programs whose memory is the packet
 * ({@link NfpChecker.Options#RAW_AS_PACKET}).
 */
class NfpLegalizationDifferentialTest {
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    private static final int EXAMPLE_PACKETS = NIGHTLY ? 10_000 : 1_000;
    private static final int CASE_INPUTS = NIGHTLY ? 1_000 : 100;
    private static final int CASE_KERNEL_INPUTS = NIGHTLY ? 1_000 : 5;

    @TestFactory
    Stream<DynamicTest> examples() {
        return Examples.names().stream().map(name -> DynamicTest.dynamicTest(name + ".c [nfp legalized vs original]",
                () -> example(name)));
    }

    private static void example(String name) {
        ElfObject obj = ElfObject.load(Examples.object(name));
        Program entry;
        try {
            entry = obj.program("xdp");
        } catch (dev.prism.error.ElfException e) {
            entry = obj.programs().get(0); // an example of another type (tc)
        }
        NfpTarget nfp = new NfpTarget(null, NfpChecker.Options.STRICT, "interpreter");
        VerifiedProgram vp = Verifier.verify(entry, Profile.RFC9669);
        Verdict v = nfp.check(vp);
        System.out.printf("nfp %-13s %s%n", name, v.ok() ? "fits after legalization (" + nfp.compile(vp).result().rewrites().size()
                + " rewrites)" : "refused: " + String.join("; ", v.rules()));
        if (!v.ok() || obj.programs().size() > 1) {
            return;
        }
        Program legal = nfp.compile(vp).legalized();
        Examples.PacketFile crafted = Examples.packets(name);
        List<byte[]> packets = new ArrayList<>(crafted.packets());
        PacketGenerator gen = new PacketGenerator(name.hashCode());
        for (int i = 0; i < EXAMPLE_PACKETS; i++) {
            packets.add(gen.next());
        }
        compare(name, entry, legal, packets.stream().map(RunInput::ofPacket).toList(), crafted.setup().stream()
                .map(m -> new Init(m.map(), m.key(), m.value())).toList(), new InterpreterTarget());
        Host.requireLinuxBpf();
        LinuxBpf.pinCurrentThread(0);
        try {
            compare(name, entry, legal, packets.stream().map(RunInput::ofPacket).toList(), crafted.setup().stream()
                    .map(m -> new Init(m.map(), m.key(), m.value())).toList(), new LinuxTarget());
        } finally {
            LinuxBpf.pinCurrentThread(-1);
        }
    }

    private record Init(String map, byte[] key, byte[] value) {
    }

    /** A suite case the model accepts, with what it needs to run. */
    private record Legalized(ConformanceCase c, Program original, Program legal, List<Init> init) {
    }

    @Test
    void suiteCasesAgreeOnTheInterpreterAndTheKernel() {
        List<Legalized> cases = legalizedSuiteCases();
        assertTrue(cases.size() > 200, "the model legalizes most suite cases: " + cases.size());
        int rewritten = 0;
        for (Legalized l : cases) {
            rewritten += l.original().length() != l.legal().length() ? 1 : 0;
            compare(l.c().name(), l.original(), l.legal(), inputs(l.c(), CASE_INPUTS), l.init(), new InterpreterTarget());
        }
        assertTrue(rewritten > 30, "the suite exercises the rewrites: " + rewritten);
        Host.requireLinuxBpf();
        int onKernel = 0;
        for (Legalized l : cases) {
            if (kernelTakes(l.original(), inputs(l.c(), 0).get(0))) {
                compare(l.c().name(), l.original(), l.legal(), inputs(l.c(), CASE_KERNEL_INPUTS), l.init(), new LinuxTarget());
                onKernel++;
            }
        }
        System.out.printf("nfp legalization differential: %d suite cases legalized (%d rewritten), %d inputs each on the "
                + "interpreter, %d of them also in the kernel with %d inputs each%n", cases.size(), rewritten, CASE_INPUTS + 1,
                onKernel, CASE_KERNEL_INPUTS + 1);
        assertTrue(onKernel > cases.size() / 2, "most legalized cases also run in the kernel: " + onKernel);
    }

    static List<Legalized> legalizedSuiteCases() {
        List<ConformanceCase> all = new ArrayList<>(DataFileReader.readSuite(Suites.rfc9669()));
        all.addAll(DataFileReader.readSuite(Suites.maps()));
        NfpTarget nfp = new NfpTarget(null, NfpChecker.Options.RAW_AS_PACKET, "interpreter");
        List<Legalized> out = new ArrayList<>();
        for (ConformanceCase c : all) {
            List<Program> programs;
            try {
                programs = c.programs();
            } catch (RuntimeException e) {
                continue; // undecodable on purpose, or clang missing (-- elf cases)
            }
            if (programs.size() != 1 || !(c.expected() instanceof ConformanceCase.Expected.Result)) {
                continue;
            }
            Program p = programs.get(0);
            VerifiedProgram vp;
            try {
                vp = p.type() == ProgramType.RAW ? Verifier.verify(p, Profile.RFC9669, c.mem().length, null)
                        : Verifier.verify(p, Profile.RFC9669);
            } catch (PrismException e) {
                continue;
            }
            if (!nfp.check(vp).ok()) {
                continue;
            }
            List<Init> init = new ArrayList<>();
            boolean plain = true;
            for (ConformanceCase.MapInit m : c.mapInit()) {
                MapDef def = p.maps().stream().filter(d -> d.name().equals(m.map())).findFirst().orElseThrow();
                plain &= def.type() == MapType.ARRAY || def.type() == MapType.HASH;
                if (plain) {
                    init.add(new Init(m.map(), m.key(), HexFormat.of().parseHex(m.value())));
                }
            }
            if (plain) {
                out.add(new Legalized(c, p, nfp.compile(vp).legalized(), init));
            }
        }
        return out;
    }

    /** {@return the case's own input and {@code random} more of the same size} */
    private static List<RunInput> inputs(ConformanceCase c, int random) {
        Random rnd = new Random(c.name().hashCode());
        List<RunInput> out = new ArrayList<>();
        boolean xdp = c.packet() != null;
        byte[] own = xdp ? c.packet() : c.mem();
        out.add(xdp ? RunInput.ofPacket(own) : RunInput.ofMem(own));
        for (int i = 0; i < random; i++) {
            byte[] b = new byte[own.length];
            rnd.nextBytes(b);
            out.add(xdp ? RunInput.ofPacket(b) : RunInput.ofMem(b));
        }
        return out;
    }

    /** {@return whether the kernel loads and runs the original (the known differences: shift immediates, call depth)} */
    private static boolean kernelTakes(Program p, RunInput in) {
        try (Executable e = new LinuxTarget().load(List.of(p))) {
            e.run(in);
            return true;
        } catch (PrismException e) {
            return false;
        }
    }

    /** Runs original and legalized on {@code target}, input by input, and compares everything the program can change. */
    private static void compare(String name, Program original, Program legal, List<RunInput> inputs, List<Init> init, Target target) {
        try (Executable a = target.load(List.of(original)); Executable b = target.load(List.of(legal))) {
            for (Init m : init) {
                a.maps().update(m.map(), m.key(), m.value(), 0);
                b.maps().update(m.map(), m.key(), m.value(), 0);
            }
            boolean xdp = original.type() == ProgramType.XDP;
            for (int i = 0; i < inputs.size(); i++) {
                String where = name + " on " + target.id() + ", input " + i + ": " + HexFormat.of().formatHex(
                        xdp ? inputs.get(i).packet() : inputs.get(i).mem());
                String x = outcome(a, inputs.get(i), xdp);
                String y = outcome(b, inputs.get(i), xdp);
                assertEquals(x, y, where);
            }
            for (MapDef def : original.maps()) {
                assertEquals(contents(a.maps(), def), contents(b.maps(), def), name + " on " + target.id() + ": map " + def.name());
            }
        }
    }

    private static String outcome(Executable e, RunInput in, boolean xdp) {
        try {
            RunResult r = e.run(in);
            long r0 = xdp ? ((r.r0() & 0xffff_ffffL) <= 3 ? r.r0() : 0) : r.r0();
            return String.format("r0 0x%x, after %s", r0, HexFormat.of().formatHex(xdp ? r.packetAfter() : r.memAfter()));
        } catch (TrapException t) {
            return "trap"; // the pcs differ between the two programs; that both trap is what must agree
        }
    }

    private static Map<String, String> contents(MapAccess maps, MapDef def) {
        Map<String, String> out = new TreeMap<>();
        if (def.type() != MapType.ARRAY && def.type() != MapType.HASH) {
            return out;
        }
        for (byte[] key : maps.keys(def.name())) {
            byte[] v = maps.lookup(def.name(), key);
            out.put(HexFormat.of().formatHex(key), v == null ? "absent" : HexFormat.of().formatHex(v));
        }
        return out;
    }
}
