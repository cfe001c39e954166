package dev.prism.conformance.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.conformance.examples.Examples;
import dev.prism.elf.ElfObject;
import dev.prism.plan.Plan;
import dev.prism.plan.Planner;
import dev.prism.program.Program;
import dev.prism.target.Availability;
import dev.prism.target.Executable;
import dev.prism.target.Reason;
import dev.prism.target.RunInput;
import dev.prism.target.Target;
import dev.prism.target.Targets;
import dev.prism.target.Verdict;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * One source of truth: for every example and every crafted planner program on every target of
 * this host, {@link Target#check} is ok exactly when compile, load and a run on each crafted
 * packet (or a 64-byte frame) all succeed.
 */
class PlanConsistencyTest {
    /** An object's entry (the only program, or the one in the section named by its type) and its siblings of that type. */
    static List<Program> programs(ElfObject obj) {
        List<Program> all = obj.programs();
        Program entry = all.size() == 1 ? all.getFirst()
                : all.stream().filter(p -> p.section().equals(p.type().id())).findFirst().orElseThrow();
        List<Program> out = new ArrayList<>();
        out.add(entry);
        all.stream().filter(p -> p != entry && p.type() == entry.type()).forEach(out::add);
        return out;
    }

    @TestFactory
    Stream<DynamicTest> examples() {
        return Examples.names().stream().flatMap(name -> Targets.all().stream().map(t -> DynamicTest.dynamicTest(
                name + ".c [" + t.id() + "]", () -> {
                    ElfObject obj = ElfObject.load(Examples.object(name));
                    Examples.PacketFile crafted = Examples.packets(name);
                    agree(t, programs(obj), obj.programSlots(), crafted.packets(), crafted.setup());
                })));
    }

    @TestFactory
    Stream<DynamicTest> craftedPrograms() {
        return PlannerCases.RULES.stream().flatMap(rule -> Targets.all().stream().map(t -> DynamicTest.dynamicTest(
                "planner/" + rule + ".s [" + t.id() + "]", () -> {
                    PlannerCases.Case c = PlannerCases.load(rule);
                    agree(t, List.of(c.program()), List.of(), List.of(frame(64)), List.of());
                })));
    }

    private static void agree(Target t, List<Program> programs, List<ElfObject.ProgramSlot> slots, List<byte[]> packets,
                              List<Examples.MapInit> setup) {
        Availability a = t.availability();
        Host.require(t.id(), a.available(), a.reason());
        Verdict verdict = Verdict.OK;
        List<VerifiedProgram> verified = new ArrayList<>();
        for (Program p : programs) {
            VerifiedProgram v = Verifier.verify(p, Profile.RFC9669);
            verified.add(v);
            verdict = verdict.and(t.check(v));
        }
        String outcome = "ok";
        try {
            for (VerifiedProgram v : verified) {
                t.compile(v);
            }
            try (Executable exe = t.load(programs)) {
                for (ElfObject.ProgramSlot s : slots) {
                    exe.maps().setProgram(s.map(), s.index(), s.program());
                }
                for (dev.prism.conformance.examples.Examples.MapInit m : setup) {
                    exe.maps().update(m.map(), m.key(), m.value(), 0);
                }
                List<RunInput> inputs = packets.stream().map(RunInput::ofPacket).toList();
                if (programs.getFirst().type() == dev.prism.program.ProgramType.RAW) {
                    exe.run(RunInput.ofMem(new byte[0]));
                } else {
                    assertEquals(inputs.size(), exe.run(inputs).size(), "one result per input");
                }
            }
        } catch (RuntimeException e) {
            outcome = e.toString();
        }
        assertEquals(verdict.ok(), outcome.equals("ok"), t.id() + ": check says " + verdict + "; compile/load/run: " + outcome);
    }

    /** {@return an Ethernet frame of {@code size} zero bytes but its type, IPv4} */
    static byte[] frame(int size) {
        byte[] f = new byte[size];
        f[12] = 0x08;
        return f;
    }

    @Test
    void reasonsOnAnObjectWithBtfNameTheSourceLine() {
        ElfObject obj = ElfObject.load(Examples.object("firewall"));
        Plan plan = Planner.builder().targets(List.of(PlannerCases.declared("strict", PlannerCases.STRICT))).build()
                .plan(programs(obj), List.of());
        Plan.Row row = plan.rows().getFirst();
        assertTrue(!row.ok(), row.verdict().toString());
        Reason withPc = row.verdict().reasons().stream().filter(r -> r.pc() >= 0).findFirst().orElseThrow();
        assertTrue(withPc.toString().contains(" at firewall.c:"), withPc.toString());
        assertTrue(plan.toText().contains(" at firewall.c:"), plan.toText());
    }
}
