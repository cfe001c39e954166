package dev.prism.conformance.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.elf.ElfObject;
import dev.prism.program.Program;
import dev.prism.runtime.Environment;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import java.util.List;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every program of every example, which the Linux kernel accepts, is accepted by Prism's
 * verifier under both profiles; the loops of checksum.c are proven bounded.
 */
class ExamplesVerifierTest {

    @TestFactory
    Stream<DynamicTest> everyExampleProgramIsAccepted() {
        return Examples.names().stream().flatMap(name -> ElfObject.load(Examples.object(name)).programs().stream()
                .flatMap(p -> Stream.of(Profile.values()).map(profile -> DynamicTest.dynamicTest(
                        name + ".c " + p.name() + " [" + profile.id() + "]", () -> check(name, p, profile)))));
    }

    /**
     * The normalized program (context loads rewritten into the host layout) computes exactly
     * what the original does: r0, the packet after and the maps, over crafted and random packets.
     */
    @TestFactory
    Stream<DynamicTest> normalizedProgramsBehaveLikeTheOriginals() {
        return Examples.names().stream().map(name -> DynamicTest.dynamicTest(name + ".c normalized", () -> {
            ElfObject obj = ElfObject.load(Examples.object(name));
            List<Program> originals = obj.programs();
            List<Program> normalized = originals.stream().map(p -> Verifier.verify(p, Profile.RFC9669).normalized()).toList();
            assertTrue(normalized.get(0).contextLayout() == Program.ContextLayout.HOST);
            assertFalse(java.util.Arrays.equals(originals.get(0).slots(), normalized.get(0).slots()), "context loads were rewritten");
            Examples.PacketFile crafted = Examples.packets(name);
            List<byte[]> packets = new java.util.ArrayList<>(crafted.packets());
            PacketGenerator gen = new PacketGenerator(name.hashCode() + 1);
            for (int i = 0; i < 300; i++) {
                packets.add(gen.next());
            }
            Environment env = Environment.deterministic(1_000_000, 9);
            try (Executable a = new InterpreterTarget(env).load(originals);
                 Executable b = new InterpreterTarget(Environment.deterministic(1_000_000, 9)).load(normalized)) {
                for (Executable e : List.of(a, b)) {
                    crafted.setup().forEach(m -> e.maps().update(m.map(), m.key(), m.value(), 0));
                    obj.programSlots().forEach(slot -> e.maps().setProgram(slot.map(), slot.index(), slot.program()));
                }
                for (byte[] p : packets) {
                    RunResult x;
                    try {
                        x = a.run(RunInput.ofPacket(p));
                    } catch (dev.prism.error.TargetException refused) {
                        // a tc packet Linux's skb test run would refuse (IPv4/IPv6 shorter than its header)
                        org.junit.jupiter.api.Assertions.assertThrows(dev.prism.error.TargetException.class, () -> b.run(RunInput.ofPacket(p)));
                        continue;
                    }
                    RunResult y = b.run(RunInput.ofPacket(p));
                    assertEquals(x.skbAfter(), y.skbAfter(), name + " skb fields on " + java.util.HexFormat.of().formatHex(p));
                    assertEquals(x.r0(), y.r0(), name + " r0 on " + java.util.HexFormat.of().formatHex(p));
                    assertArrayEquals(x.packetAfter(), y.packetAfter(), name + " packet on " + java.util.HexFormat.of().formatHex(p));
                    assertEquals(x.redirect(), y.redirect(), name + " redirect on " + java.util.HexFormat.of().formatHex(p));
                    assertEquals(x.events(), y.events(), name + " perf events on " + java.util.HexFormat.of().formatHex(p));
                }
                for (var def : originals.get(0).maps()) {
                    if (def.type() == dev.prism.program.MapType.RINGBUF) {
                        assertEquals(a.maps().drain(def.name()).size(), b.maps().drain(def.name()).size());
                    } else if (def.type() != dev.prism.program.MapType.PROG_ARRAY
                            && def.type() != dev.prism.program.MapType.PERF_EVENT_ARRAY) {
                        for (byte[] key : a.maps().keys(def.name())) {
                            assertArrayEquals(a.maps().lookup(def.name(), key), b.maps().lookup(def.name(), key), name + " map " + def.name());
                        }
                    }
                }
            }
        }));
    }

    private static void check(String name, Program p, Profile profile) {
        VerifiedProgram v = Verifier.verify(p, profile);
        assertTrue(v.stats().processed() < Verifier.MAX_PROCESSED);
        assertFalse(v.stateAt(0).isEmpty(), "the entry's state is recorded");
        if (name.equals("checksum")) {
            assertTrue(v.requires().loops() >= 1, "checksum.c has bounded loops");
        }
    }
}
