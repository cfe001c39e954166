package dev.prism.target;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.error.TargetException;
import dev.prism.isa.AtomicOp;
import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Capabilities matched against a program whose every refusal is worked out by hand. */
class CapabilityCheckerTest {
    private static final String PROGRAM = """
            call 7                   #  0 r0: an unknown u32
            mov %r6, %r0             #  1
            mul %r6, %r0             #  2 operands up to 2^32-1
            mov %r7, %r0             #  3
            div %r7, %r6             #  4 divisor not a constant
            mod %r7, 3               #  5 mod64 by an immediate
            mov %r8, 0               #  6
            loop:
            add %r8, 1               #  7 loop head
            jlt %r8, 5, loop         #  8 five trips
            mov %r0, 9               #  9
            exit                     # 10 returns 9
            """;

    private static VerifiedProgram verify(String text) {
        return Verifier.verify(Program.of("t", ProgramType.RAW, Assembler.assemble(text)), Profile.RFC9669);
    }

    @Test
    void everythingWithTheHelperIsOk() {
        Verdict v = CapabilityChecker.of(Capabilities.everything(Set.of(7))).check(verify(PROGRAM));
        assertTrue(v.ok(), v.toString());
        assertSame(Verdict.OK, v);
    }

    @Test
    void eachLimitIsNamedAtItsPc() {
        Capabilities caps = Capabilities.builder()
                .programTypes(ProgramType.XDP)
                .lacking(o -> o.mnemonic().startsWith("mod"))
                .arithmetic(Capabilities.Arithmetic.ANY.withMulOperandMax(0xffff).withDivisorConstant(true))
                .loops(Capabilities.Loops.unrolled(4))
                .returns(Capabilities.Returns.only(0, 1, 2, 3))
                .legalizes(Rule.LOOP_TRIPS)
                .build();
        Verdict v = CapabilityChecker.of(caps).check(verify(PROGRAM));
        List<String> got = new ArrayList<>();
        v.reasons().forEach(r -> got.add(r.pc() + " " + r.rule() + (r.liftable() ? " liftable" : "")));
        assertEquals(List.of("-1 program-type", "0 helper", "2 mul-range", "4 div-constant", "5 opcode",
                "7 loop-trips liftable", "10 return-code"), got);
        assertEquals("0: helper: bpf_get_prandom_u32#7", v.reasons().get(1).toString());
        assertEquals("7: loop-trips: loop with at most 5 trips, the target unrolls up to 4 (liftable)",
                v.reasons().get(5).toString());
        assertEquals("not supported: program type raw (the target runs xdp) (and 6 more)", v.message());
    }

    @Test
    void groupsVersionsAndLoopsNone() {
        Capabilities caps = Capabilities.builder().groups(Group.BASE32, Group.BASE64).maxVersion(CpuVersion.V1)
                .loops(Capabilities.Loops.none()).helpers(7).build();
        Verdict v = CapabilityChecker.of(caps).check(verify(PROGRAM));
        assertEquals(List.of("4 group", "5 group", "7 loop", "8 cpu-version"),
                v.reasons().stream().map(r -> r.pc() + " " + r.rule()).toList(), "div and mod are divmul64, jlt is v2");
    }

    @Test
    void theOldShapeStillWorks() {
        Capabilities old = new Capabilities(Set.of(Group.BASE32), CpuVersion.V2, Set.of(1, 2));
        assertEquals(Set.of(1, 2), old.helpers());
        assertEquals(Set.of(ProgramType.values()).size(), old.programTypes().size());
        assertTrue(old.maps().containsKey(MapType.HASH));
        assertTrue(old.atomics().contains(AtomicOp.XCHG));
    }

    @Test
    void refusalCarriesTheVerdict() {
        Verdict v = Verdict.of(List.of(Reason.of(3, Rule.OPCODE, "mod64 dst, imm (opcode 0x97)", false)));
        TargetException e = assertThrows(TargetException.class, v::orThrow);
        assertTrue(e.isUnsupported());
        assertSame(v, e.verdict());
        assertEquals("3: not supported: mod64 dst, imm (opcode 0x97)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Rule.require("no-such-rule"));
        assertThrows(IllegalArgumentException.class, () -> Rule.define("Bad Id", "x"));
    }

    @Test
    void batchRunDefaultLoops() {
        List<RunInput> seen = new ArrayList<>();
        Executable exe = new Executable() {
            @Override
            public RunResult run(RunInput input) {
                seen.add(input);
                return new RunResult(input.mem().length, input.mem());
            }

            @Override
            public void close() {
            }
        };
        List<RunResult> out = exe.run(List.of(RunInput.ofMem(new byte[2]), RunInput.ofMem(new byte[5])));
        assertEquals(List.of(2L, 5L), out.stream().map(RunResult::r0).toList());
        assertEquals(2, seen.size());
        assertFalse(out.isEmpty());
    }
}
