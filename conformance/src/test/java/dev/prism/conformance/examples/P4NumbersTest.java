package dev.prism.conformance.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.prism.elf.ElfObject;
import dev.prism.program.Program;
import dev.prism.target.Artifact;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import dev.prism.target.Targets;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The p4 target's numbers for the examples it accepts: BPF size against P4 source size and
 * BMv2 pipeline size (tables, actions, conditionals of the p4c-bm2-ss JSON), p4test +
 * p4c-bm2-ss time, and BMv2 packets per second over one batch of 2,000 packets. A measurement,
 * not part of make test: {@code -Dprism.p4.numbers=true}.
 */
class P4NumbersTest {
    @Test
    void numbers() throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("prism.p4.numbers"), "a measurement: -Dprism.p4.numbers=true");
        Target p4 = Targets.byId("p4");
        Host.require("p4", p4.availability().available(), p4.availability().reason());
        System.out.printf("%-13s %5s %7s %7s %6s %6s %6s %6s %9s %9s%n", "example", "insns", "p4-B", "p4-lines", "blocks", "tables",
                "actions", "conds", "p4c-s", "pkts/s");
        for (String name : Examples.names()) {
            ElfObject obj = ElfObject.load(Examples.object(name));
            if (obj.programs().stream().noneMatch(p -> p.section().equals("xdp"))) {
                continue; // p4 runs xdp programs (tc_rewrite is tc)
            }
            Program entry = obj.program("xdp");
            VerifiedProgram vp = Verifier.verify(entry, Profile.RFC9669);
            if (!p4.check(vp).ok()) {
                continue;
            }
            long t0 = System.nanoTime();
            Artifact a = p4.compile(vp);
            double compile = (System.nanoTime() - t0) / 1e9;
            String source = new String(a.bytes(), StandardCharsets.UTF_8);
            JsonNode json = new ObjectMapper().readTree((byte[]) a.getClass().getMethod("bmv2Json").invoke(a));
            int tables = 0;
            int conds = 0;
            for (JsonNode pipe : json.get("pipelines")) {
                tables += pipe.get("tables").size();
                conds += pipe.get("conditionals").size();
            }
            int actions = json.get("actions").size();
            int insns = 0;
            for (int pc = 0; pc < entry.length(); pc++) {
                insns += entry.at(pc) == null ? 0 : 1;
            }
            PacketGenerator gen = new PacketGenerator(7);
            List<RunInput> inputs = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                inputs.add(RunInput.ofPacket(gen.next()));
            }
            try (Executable e = a.load()) {
                e.run(inputs.subList(0, 10)); // starts the switch
                long t1 = System.nanoTime();
                List<RunResult> r = e.run(inputs);
                double pps = inputs.size() / ((System.nanoTime() - t1) / 1e9);
                assertEquals(inputs.size(), r.size());
                assertTrue(tables > 0);
                System.out.printf("%-13s %5d %7d %7d %6s %6d %6d %6d %9.1f %9.0f%n", name, insns, source.length(),
                        source.lines().count(), "-", tables, actions, conds, compile, pps);
            }
        }
    }
}
