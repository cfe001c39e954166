package dev.prism.conformance.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.error.TargetException;
import dev.prism.plan.Plan;
import dev.prism.plan.Planner;
import dev.prism.target.Reason;
import dev.prism.target.Rule;
import dev.prism.target.Target;
import dev.prism.target.Targets;
import dev.prism.target.Verdict;
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
 * A crafted program per rule (suite/planner/RULE.s): the planner names that rule at that pc for
 * each target that has it and for no other, and every target's compile refuses exactly what its
 * check reports, with the same verdict and words.
 */
class PlannerRulesTest {
    static List<Target> targets() {
        List<Target> all = new ArrayList<>(Targets.all());
        all.add(PlannerCases.declared("strict", PlannerCases.STRICT));
        all.add(PlannerCases.declared("strict-unrolled", PlannerCases.UNROLLED));
        return all;
    }

    @Test
    void everyStandardRuleHasACase() {
        List<String> standard = new ArrayList<>(Rule.all().keySet()).subList(0, PlannerCases.RULES.size());
        assertEquals(standard, PlannerCases.RULES, "one crafted program per standard rule");
    }

    @TestFactory
    Stream<DynamicTest> plannerNamesTheRuleAtItsPc() {
        List<Target> targets = targets();
        Planner planner = Planner.builder().targets(targets).build();
        return PlannerCases.RULES.stream().map(rule -> DynamicTest.dynamicTest("planner/" + rule + ".s", () -> {
            PlannerCases.Case c = PlannerCases.load(rule);
            Plan plan = planner.plan(c.program());
            assertEquals(null, plan.rejected(), "the verifier accepts " + c.file());
            for (String t : c.targets()) {
                assertTrue(targets.stream().anyMatch(x -> x.id().equals(t)), c.file() + " names unknown target " + t);
            }
            for (Plan.Row row : plan.rows()) {
                List<Reason> hits = row.verdict().reasons().stream().filter(r -> r.rule().equals(rule)).toList();
                if (c.expects(row.target())) {
                    assertTrue(hits.stream().anyMatch(r -> r.pc() == c.pc()), row.target() + " names " + rule + " at pc " + c.pc()
                            + " in " + c.file() + "; its verdict:\n" + row.verdict());
                } else if (!c.kernelDependent().contains(row.target())) {
                    assertTrue(hits.isEmpty(), row.target() + " must not name " + rule + " for " + c.file() + ":\n" + row.verdict());
                }
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> compileRefusesExactlyWhatCheckReports() {
        List<Target> targets = targets();
        return PlannerCases.RULES.stream().flatMap(rule -> targets.stream().map(t -> DynamicTest.dynamicTest(
                "planner/" + rule + ".s [" + t.id() + "]", () -> {
                    PlannerCases.Case c = PlannerCases.load(rule);
                    VerifiedProgram v = Verifier.verify(c.program(), Profile.RFC9669);
                    Verdict verdict = t.check(v);
                    if (verdict.ok()) {
                        assertNotNull(t.compile(v), "check passed, so compile must");
                    } else {
                        TargetException e = assertThrows(TargetException.class, () -> t.compile(v), "check refused: " + verdict);
                        assertTrue(e.isUnsupported());
                        assertEquals(verdict, e.verdict(), "the same reasons");
                        assertEquals(verdict.message(), e.getMessage(), "the same words");
                    }
                })));
    }

    @Test
    void strictLiftsOpcodesOnly() {
        PlannerCases.Case c = PlannerCases.load(Rule.OPCODE);
        Verdict v = PlannerCases.declared("strict", PlannerCases.STRICT).check(Verifier.verify(c.program(), Profile.RFC9669));
        Reason mod = v.reasons().stream().filter(r -> r.rule().equals(Rule.OPCODE)).findFirst().orElseThrow();
        assertTrue(mod.liftable(), mod.toString());
        assertEquals("1: opcode: mod dst, imm (opcode 0x97/0) (liftable)", mod.toString());
        assertFalse(v.reasons().stream().anyMatch(r -> !r.rule().equals(Rule.OPCODE) && r.liftable()), v.toString());
        assertSame(null, mod.line(), "assembler text has no BTF line info");
    }
}
