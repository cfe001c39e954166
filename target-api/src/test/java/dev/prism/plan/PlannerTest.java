package dev.prism.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.RunInput;
import dev.prism.target.Rule;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The planner on the interpreter alone: counts, costs, the calibration file, text and JSON. */
class PlannerTest {
    /** Two ALU, one load, one branch taken once; a loop of 3 trips of 2 instructions; exit. */
    private static final String XDP = """
            ldxw %r2, [%r1+0]
            mov %r3, 0
            loop:
            add %r3, 1
            jlt %r3, 3, loop
            mov %r0, 2
            exit
            """;

    private static Program program() {
        return Assembler.assemble("p", ProgramType.XDP, XDP);
    }

    @Test
    void theInterpreterCountsWhatOneRunExecutes() {
        Plan plan = Planner.builder().targets(List.of(new InterpreterTarget())).sample(RunInput.ofPacket(new byte[64]))
                .build().plan(program());
        assertTrue(plan.profile().startsWith("the interpreter on 1 input"), plan.profile());
        Plan.Row row = plan.rows().getFirst();
        assertTrue(row.ok());
        // by hand: ALU mov r3 + 3 x add + mov r0 = 5; LOAD 1; BRANCH 3; CALL (exit) 1
        CostModel m = CostModel.uncalibrated("interpreter");
        double expected = m.perRunNs() + 5 * m.classNs().get(CostClass.ALU) + m.classNs().get(CostClass.LOAD)
                + 3 * m.classNs().get(CostClass.BRANCH) + m.classNs().get(CostClass.CALL);
        assertEquals(expected, row.estimatedNs(), 1e-9);
        assertEquals(program().length() * 8L, row.codeBytes());
        assertEquals("bytecode", row.codeKind());
        assertEquals(1, plan.exitCode(), "only the interpreter takes it");
    }

    @Test
    void withoutSamplesTheStaticCountWeighsLoopsByTheirBound() {
        ExecutionProfile p = ExecutionProfile.estimate(Verifier.verify(program(), Profile.RFC9669));
        assertEquals(2 + 3, p.counts().get(CostClass.ALU), 1e-9, "mov r3 and mov r0 once, add at the loop's 3 trips");
        assertEquals(3, p.counts().get(CostClass.BRANCH), 1e-9);
        assertTrue(p.source().startsWith("static"));
    }

    @Test
    void calibrationFileRoundTrips(@TempDir Path dir) throws IOException {
        EnumMap<CostClass, Double> classes = new EnumMap<>(CostClass.class);
        classes.put(CostClass.ALU, 0.25);
        classes.put(CostClass.DIV, 3.5);
        CostModel x = new CostModel("x86-64", 12.5, classes, Map.of("1:array", 0.75, "5", 20.0), 30);
        Calibration c = new Calibration(null, "host \"a\"", "2026-12-07T08:00:00Z", Map.of("x86-64", x));
        Path f = dir.resolve("sub/cal.json");
        Calibration back = c.write(f);
        assertEquals(f, back.source());
        assertEquals("host \"a\"", back.host());
        CostModel y = back.models().get("x86-64");
        assertEquals(x, y);
        assertEquals(20.0, y.helperNs("5"));
        assertEquals(0.75, y.helperNs("1:array"));
        assertEquals(30, y.helperNs("1:hash"), "a helper not measured costs the default");
        Files.writeString(f, "{\"format\": 2}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Calibration.read(f));
        assertTrue(e.getMessage().contains("format"), e.getMessage());
        Files.writeString(f, "{\"format\": 1, \"targets\": {\"x\": {\"per_run_ns\": }}}");
        e = assertThrows(IllegalArgumentException.class, () -> Calibration.read(f));
        assertTrue(e.getMessage().contains("offset"), e.getMessage());
        assertTrue(Calibration.readIfPresent(dir.resolve("none.json")).isEmpty());
    }

    @Test
    void plansNameTheirCalibrationAndPrintEveryReason() {
        CostModel m = CostModel.uncalibrated("interpreter");
        Calibration c = new Calibration(Path.of("/x/cal.json"), "h", "t", Map.of("interpreter", m));
        Program tc = Assembler.assemble("t", ProgramType.SOCKET, "mov %r0, 0\nexit\n");
        Plan plan = Planner.builder().targets(List.of(new InterpreterTarget())).calibration(c).build().plan(tc);
        assertEquals("calibrated (/x/cal.json, h, t)", plan.calibration());
        Plan.Row row = plan.rows().getFirst();
        assertEquals(List.of(Rule.PROGRAM_TYPE), List.copyOf(row.verdict().rules()));
        assertTrue(Double.isNaN(row.estimatedNs()));
        assertTrue(plan.toText().contains("    -: program-type: program type socket (the target runs raw, xdp, tc, csd)"), plan.toText());
        String json = plan.toJson();
        Object parsed = Json.parse(json);
        assertTrue(parsed instanceof Map<?, ?>, json);
        assertTrue(json.contains("\"rule\": \"program-type\""), json);
        assertEquals(1, plan.exitCode());
    }

    @Test
    void aRejectedProgramIsNamedAndNoTargetTakesIt() {
        Program bad = Assembler.assemble("b", ProgramType.XDP, "exit\n");
        Plan plan = Planner.builder().targets(List.of(new InterpreterTarget())).build().plan(bad);
        assertTrue(plan.rejected() != null && plan.rejected().contains("r0"), String.valueOf(plan.rejected()));
        assertEquals(List.of(Planner.VERIFIER), List.copyOf(plan.rows().getFirst().verdict().rules()));
        assertEquals(1, plan.exitCode());
    }

    @Test
    void textShowsThreeReasonsAndCountsTheRest() {
        List<dev.prism.target.Reason> five = new java.util.ArrayList<>();
        for (int pc = 0; pc < 5; pc++) {
            five.add(dev.prism.target.Reason.of(pc, Rule.OPCODE, "op " + pc, false));
        }
        five.set(0, five.get(0).withToolMessage("nfp_bpf: unsupported opcode"));
        Plan.Row row = new Plan.Row("t", false, "n/a", dev.prism.target.Verdict.of(five), Double.NaN, -1, "", "uncalibrated");
        String text = new Plan("p", "", 5, null, "static", "uncalibrated", List.of(row)).toText();
        assertEquals(3, text.lines().filter(l -> l.contains(": opcode: op ")).count(), text);
        assertTrue(text.contains("    2: opcode: op 2\n    (and 2 more)"), text);
        assertTrue(text.contains("    0: opcode: op 0\n      the target's tooling says: nfp_bpf: unsupported opcode\n"), text);
    }

    @Test
    void jsonNumbers() {
        assertEquals("0.3333", Json.number(1.0 / 3));
        assertEquals("12", Json.number(12.0));
        assertEquals("null", Json.number(Double.NaN));
        assertEquals(List.of(1.0, "a\"b"), Json.parse("[1, \"a\\\"b\"]"));
    }
}
