package dev.prism.verifier.cfg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.isa.AluOp;
import dev.prism.isa.CallKind;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.JumpOp;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.isa.Reg;
import dev.prism.isa.Width;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CfgTest {

    private static Cfg cfg(String text) {
        return Cfg.build(Assembler.assemble(text));
    }

    private static List<String> problems(Cfg cfg) {
        return cfg.problems().stream().map(Diagnostic::toString).toList();
    }

    private static Block block(int first, int last, Integer... successors) {
        return new Block(first, last, List.of(successors));
    }

    private static FunctionCfg only(Cfg cfg) {
        assertEquals(1, cfg.functions().size(), cfg.describe());
        return cfg.functions().getFirst();
    }

    @Test
    void straightLineIsOneBlock() {
        Cfg c = cfg("""
                mov %r0, 0
                add %r0, 1
                exit
                """);
        FunctionCfg f = only(c);
        assertEquals(0, f.start());
        assertEquals(List.of(block(0, 2)), f.blocks());
        assertEquals(List.of(2), f.exits());
        assertEquals(Set.of(0, 1, 2), f.slots());
        assertEquals(List.of(), c.problems());
        assertEquals(Set.of(), c.unreachable());
        assertEquals(List.of(), f.loops());
        assertEquals(List.of(0), f.reversePostorder());
        assertEquals(-1, f.idom(0));
    }

    @Test
    void diamondHasFourBlocksAndTheBranchDominatesTheJoin() {
        Cfg c = cfg("""
                    jeq %r1, 0, else
                    mov %r0, 1
                    ja join
                else:
                    mov %r0, 2
                join:
                    exit
                """);
        FunctionCfg f = only(c);
        assertEquals(List.of(block(0, 0, 1, 3), block(1, 2, 4), block(3, 3, 4), block(4, 4)), f.blocks());
        assertEquals(List.of(1, 3), f.predecessors(4));
        assertEquals(List.of(), f.predecessors(0));
        assertEquals(0, f.idom(1));
        assertEquals(0, f.idom(3));
        assertEquals(0, f.idom(4));
        assertTrue(f.dominates(0, 4));
        assertFalse(f.dominates(1, 4));
        assertFalse(f.dominates(3, 4));
        assertTrue(f.dominates(1, 2));
        assertFalse(f.dominates(2, 1));
        assertTrue(f.dominates(4, 4));
        // the fall-through is explored first, so it finishes first and comes last
        assertEquals(List.of(0, 3, 1, 4), f.reversePostorder());
        assertEquals(List.of(), f.loops());
        assertArrayEquals(new int[] {2, 3}, c.predecessors(4));
        assertArrayEquals(new int[] {1, 3}, c.successors(0));
        assertArrayEquals(new int[] {4}, c.successors(2));
        assertArrayEquals(new int[] {}, c.successors(4));
        assertEquals(List.of(), c.problems());
    }

    @Test
    void countingLoop() {
        Cfg c = cfg("""
                    mov %r0, 0
                    mov %r1, 10
                loop:
                    add %r0, 1
                    sub %r1, 1
                    jne %r1, 0, loop
                    exit
                """);
        FunctionCfg f = only(c);
        assertEquals(List.of(block(0, 1, 2), block(2, 4, 5, 2), block(5, 5)), f.blocks());
        assertEquals(List.of(new Loop(2, List.of(2), Set.of(2))), f.loops());
        assertEquals(Set.of(2), f.widenPoints());
        assertArrayEquals(new int[] {1, 4}, c.predecessors(2));
        assertEquals(List.of(0, 2), f.predecessors(2));
        assertEquals(List.of(0, 2, 5), f.reversePostorder());
        assertEquals(List.of(), c.problems());
    }

    @Test
    void nestedLoops() {
        Cfg c = cfg("""
                    mov %r1, 0
                outer:
                    mov %r2, 0
                inner:
                    add %r2, 1
                    jlt %r2, 10, inner
                    add %r1, 1
                    jlt %r1, 10, outer
                    exit
                """);
        FunctionCfg f = only(c);
        assertEquals(List.of(block(0, 0, 1), block(1, 1, 2), block(2, 3, 4, 2), block(4, 5, 6, 1), block(6, 6)),
                f.blocks());
        assertEquals(List.of(
                new Loop(1, List.of(4), Set.of(1, 2, 4)),
                new Loop(2, List.of(2), Set.of(2))), f.loops());
        assertEquals(1, f.idom(2));
        assertEquals(2, f.idom(4));
        assertEquals(4, f.idom(6));
        assertTrue(f.dominates(1, 5));
        assertFalse(f.dominates(4, 2));
    }

    @Test
    void twoBackEdgesToOneHeadMakeOneLoop() {
        Cfg c = cfg("""
                    mov %r0, 0
                head:
                    add %r0, 1
                    jeq %r0, 5, head
                    jlt %r0, 10, head
                    exit
                """);
        FunctionCfg f = only(c);
        assertEquals(List.of(block(0, 0, 1), block(1, 2, 3, 1), block(3, 3, 4, 1), block(4, 4)), f.blocks());
        assertEquals(List.of(new Loop(1, List.of(1, 3), Set.of(1, 3))), f.loops());
        assertEquals(List.of(0, 1, 3), f.predecessors(1));
    }

    @Test
    void selfLoopIsALoopNotAProblem() {
        Cfg c = cfg("""
                    mov %r0, 0
                    ja -1
                """);
        FunctionCfg f = only(c);
        assertEquals(List.of(block(0, 0, 1), block(1, 1, 1)), f.blocks());
        assertEquals(List.of(new Loop(1, List.of(1), Set.of(1))), f.loops());
        assertEquals(List.of(), f.exits());
        assertEquals(List.of(), c.problems());
    }

    @Test
    void loopInsideACalledFunction() {
        Cfg c = cfg("""
                    mov %r1, 3
                    call local f
                    exit
                f:
                    mov %r0, 0
                floop:
                    add %r0, 1
                    jlt %r0, %r1, floop
                    exit
                """);
        assertEquals(2, c.functions().size());
        FunctionCfg main = c.function(0).orElseThrow();
        FunctionCfg f = c.function(3).orElseThrow();
        assertEquals(List.of(block(0, 2)), main.blocks(), "a call does not end a block");
        assertEquals(List.of(new CallEdge(1, 3, CallEdge.Kind.CALL)), main.callees());
        assertEquals(List.of(), main.loops());
        assertEquals(Set.of(0, 1, 2), main.slots());
        assertEquals(List.of(block(3, 3, 4), block(4, 5, 6, 4), block(6, 6)), f.blocks());
        assertEquals(List.of(new Loop(4, List.of(4), Set.of(4))), f.loops());
        assertEquals(List.of(6), f.exits());
        assertEquals(List.of(), f.callees());
        assertFalse(main.recursive());
        assertFalse(f.recursive());
        assertEquals(List.of(), c.recursion());
        assertEquals(List.of(), c.problems());
        assertEquals(List.of(f), c.functionsContaining(5));
        assertArrayEquals(new int[] {2}, c.successors(1), "a call returns to the next instruction");
    }

    @Test
    void unreachableRunsAreOneDiagnosticEach() {
        Cfg c = cfg("""
                    ja live
                    mov %r0, 1
                    lddw %r1, 5
                live:
                    mov %r0, 0
                    exit
                    exit
                """);
        assertEquals(Set.of(1, 2, 3, 6), c.unreachable());
        assertEquals(List.of("1: unreachable instruction", "6: unreachable instruction"), problems(c));
        assertFalse(c.isReachable(3));
        assertTrue(c.isReachable(4));
        assertEquals(List.of(), c.functionsContaining(2));
        assertEquals(List.of(block(0, 0, 4), block(4, 5)), only(c).blocks());
        assertArrayEquals(new int[] {0}, c.predecessors(4));
        assertArrayEquals(new int[] {}, c.predecessors(6));
    }

    @Test
    void aFunctionCalledOnlyFromDeadCodeIsDead() {
        Cfg c = cfg("""
                    exit
                    call local f
                    exit
                f:
                    exit
                """);
        only(c);
        assertEquals(Set.of(1, 2, 3), c.unreachable());
        assertEquals(List.of("1: unreachable instruction"), problems(c));
    }

    @Test
    void directRecursion() {
        Cfg c = cfg("""
                    call local f
                    exit
                f:
                    call local f
                    exit
                """);
        assertEquals(List.of(2), c.recursion());
        assertEquals(List.of("2: recursive call (2 -> 2)"), problems(c));
        assertFalse(c.function(0).orElseThrow().recursive());
        assertTrue(c.function(2).orElseThrow().recursive());
    }

    @Test
    void mutualRecursion() {
        Cfg c = cfg("""
                    call local a
                    exit
                a:
                    call local b
                    exit
                b:
                    call local a
                    exit
                """);
        assertEquals(List.of(2, 4), c.recursion());
        assertEquals(List.of("4: recursive call (2 -> 4 -> 2)"), problems(c));
        assertEquals(List.of(false, true, true), c.functions().stream().map(FunctionCfg::recursive).toList());
    }

    @Test
    void theEntryCallingItselfIsRecursive() {
        Cfg c = cfg("""
                    call local -1
                    exit
                """);
        assertEquals(List.of(0), c.recursion());
        assertEquals(List.of("0: recursive call (0 -> 0)"), problems(c));
        assertEquals(List.of(new CallEdge(0, 0, CallEdge.Kind.CALL)), only(c).callees());
    }

    @Test
    void aCallbackThatPassesItselfToBpfLoopIsRecursive() {
        Cfg c = cfg("""
                    lddw %r2, code cb
                    call 181
                    exit
                cb:
                    lddw %r2, code cb
                    call 181
                    exit
                """);
        assertEquals(List.of(4), c.recursion());
        assertEquals(List.of("4: recursive call (4 -> 4)"), problems(c));
    }

    @Test
    void aLastInstructionThatFallsThroughIsAProblem() {
        assertEquals(List.of("0: last instruction is not an exit or a jump"), problems(cfg("mov %r0, 0")));
        assertEquals(List.of("1: last instruction is not an exit or a jump"), problems(cfg("""
                mov %r1, 0
                call 1
                """)));
        Cfg c = cfg("""
                    mov %r0, 0
                    jeq %r0, 0, -2
                """);
        assertEquals(List.of("1: jump falls off the end of the program"), problems(c));
        assertEquals(List.of(block(0, 1, 0)), only(c).blocks());
        assertEquals(List.of(new Loop(0, List.of(0), Set.of(0))), only(c).loops());
    }

    @Test
    void aDeadLastInstructionIsOnlyUnreachable() {
        assertEquals(List.of("1: unreachable instruction"), problems(cfg("""
                exit
                mov %r0, 0
                """)));
    }

    @Test
    void badTargetsAreProblemsNotEdges() {
        // the codec refuses these, so they can only come from a hand-made slot array
        Insn[] slots = {
            new Insn.Jump(JumpOp.JEQ, Width.W64, Reg.R1, new Imm(0), (short) 7),
            new Insn.Jump(JumpOp.JEQ, Width.W64, Reg.R1, new Imm(0), (short) 1),
            Insn.LoadImm64.of(Reg.R0, 1),
            null,
            new Insn.Call(CallKind.LOCAL, -10),
            new Insn.LoadImm64(LoadImm64Kind.CODE_ADDR, Reg.R2, 100, 0),
            null,
            new Insn.Ja(Integer.MAX_VALUE, true),
        };
        Cfg c = Cfg.build(slots);
        assertEquals(List.of(
                "0: jump out of range (target 8)",
                "1: jump into the middle of lddw (target 3)",
                "4: call out of range (target -5)",
                "5: code address out of range (target 106)",
                "7: jump out of range (target 2147483655)"), problems(c), c.describe());
        assertEquals(List.of(block(0, 0, 1), block(1, 1, 2), block(2, 7)), only(c).blocks());
        assertEquals(List.of(), only(c).callees());
        assertEquals(Set.of(), c.unreachable());
    }

    @Test
    void incompleteLddwInAHandMadeArray() {
        Cfg c = Cfg.build(new Insn[] {new Insn.Alu(AluOp.MOV, Width.W64, Reg.R0, new Imm(0)),
            Insn.LoadImm64.of(Reg.R1, 7)});
        assertEquals(List.of("1: lddw without its second slot"), problems(c));
    }

    @Test
    void emptyProgram() {
        Cfg c = Cfg.build(new Insn[0]);
        assertEquals(List.of("0: empty program"), problems(c));
        assertEquals(List.of(), c.functions());
        assertEquals(Set.of(), c.unreachable());
        assertEquals(List.of(), c.recursion());
    }

    @Test
    void lddwIsNeverSplitAcrossBlocks() {
        Cfg c = cfg("""
                    jeq %r1, 0, out
                    lddw %r0, 0x1122334455667788
                out:
                    exit
                """);
        FunctionCfg f = only(c);
        assertEquals(List.of(block(0, 0, 1, 3), block(1, 1, 3), block(3, 3)), f.blocks());
        assertEquals(Set.of(0, 1, 2, 3), f.slots());
        assertEquals(block(1, 1, 3), f.blockContaining(2).orElseThrow());
        assertArrayEquals(new int[] {3}, c.successors(1));
        assertArrayEquals(new int[] {0, 1}, c.predecessors(3));
        assertArrayEquals(new int[] {}, c.successors(2), "the second slot is not an instruction");

        FunctionCfg g = only(cfg("""
                lddw %r0, 1
                lddw %r1, 2
                exit
                """));
        assertEquals(List.of(block(0, 4)), g.blocks());
        assertTrue(g.dominates(0, 3));
    }

    @Test
    void conditionalJumpToTheNextInstruction() {
        Cfg c = cfg("""
                jeq %r1, 0, +0
                mov %r0, 0
                exit
                """);
        // one successor: both ways lead to slot 1; the jump still ends its block
        assertEquals(List.of(block(0, 0, 1), block(1, 2)), only(c).blocks());
        assertArrayEquals(new int[] {0}, c.predecessors(1));
        assertEquals(List.of(), c.problems());
    }

    @Test
    void tailCallDoesNotEndABlock() {
        Cfg c = cfg("""
                mov %r6, %r1
                call 12
                mov %r0, 0
                exit
                """);
        assertEquals(List.of(block(0, 3)), only(c).blocks());
        assertEquals(List.of(), only(c).callees(), "a helper call is not a call graph edge");
    }

    @Test
    void bpfLoopCallbackIsAFunction() {
        Cfg c = cfg("""
                    mov %r1, 10
                    lddw %r2, code cb
                    mov %r3, 0
                    mov %r4, 0
                    call 181
                    exit
                cb:
                    mov %r0, 0
                    exit
                """);
        assertEquals(List.of(0, 7), c.functions().stream().map(FunctionCfg::start).toList());
        assertEquals(List.of(new CallEdge(1, 7, CallEdge.Kind.CODE_ADDRESS)), c.function(0).orElseThrow().callees());
        assertEquals(List.of(block(7, 8)), c.function(7).orElseThrow().blocks());
        assertEquals(List.of(), c.problems());

        Cfg without = cfg("""
                    mov %r1, 10
                    call 181
                    exit
                cb:
                    mov %r0, 0
                    exit
                """);
        assertEquals(List.of("3: unreachable instruction"), problems(without));
    }

    @Test
    void callxTargetComesFromLddwCode() {
        Cfg c = cfg("""
                    lddw %r3, code f
                    callx %r3
                    exit
                f:
                    mov %r0, 1
                    exit
                """);
        assertEquals(List.of(0, 4), c.functions().stream().map(FunctionCfg::start).toList());
        assertEquals(List.of(block(0, 3)), c.function(0).orElseThrow().blocks());
    }

    @Test
    void codeReachedByTwoFunctionsIsShared() {
        Cfg c = cfg("""
                    call local f
                    ja done
                f:
                    mov %r0, 1
                done:
                    exit
                """);
        assertEquals(List.of("3: code shared between functions (functions 0 and 2)"), problems(c));
        assertEquals(2, c.functionsContaining(3).size());
        // each function still has a complete graph of its own
        assertEquals(List.of(block(0, 1, 3), block(3, 3)), c.function(0).orElseThrow().blocks());
        assertEquals(List.of(block(2, 3)), c.function(2).orElseThrow().blocks());

        assertEquals(List.of("2: code shared between functions (functions 0 and 2)"), problems(cfg("""
                    call local f
                    mov %r0, 0
                f:
                    exit
                """)), "the entry falls into its callee");
    }

    @Test
    void twoEntryCycleIsIrreducible() {
        Cfg c = cfg("""
                    jeq %r1, 0, c
                b:
                    add %r0, 1
                    jgt %r0, 100, out
                c:
                    add %r0, 2
                    jlt %r0, 50, b
                    exit
                out:
                    exit
                """);
        FunctionCfg f = only(c);
        assertEquals(List.of(block(0, 0, 1, 3), block(1, 2, 3, 6), block(3, 4, 5, 1), block(5, 5), block(6, 6)),
                f.blocks());
        assertEquals(0, f.idom(1));
        assertEquals(0, f.idom(3));
        assertEquals(List.of(), f.loops());
        assertEquals(Set.of(1), f.widenPoints());
        assertEquals(List.of("4: irreducible loop (between 1 and 4)"), problems(c));
    }

    @Test
    void describeListsFunctionsBlocksAndLoops() {
        Cfg c = cfg("""
                    mov %r1, 3
                    call local f
                    exit
                    exit
                f:
                    mov %r0, 0
                floop:
                    add %r0, 1
                    jlt %r0, %r1, floop
                    exit
                """);
        assertEquals("""
                cfg: 8 slots, 2 functions
                function 0: slots 0..2
                  exits [2]
                  call 1 -> 4
                  block 0..2 -> (none)
                  rpo [0]
                function 4: slots 4..7
                  exits [7]
                  block 4..4 -> [5]
                  block 5..6 idom 4 -> [7, 5]
                  block 7..7 idom 5 -> (none)
                  loop 5: back edges from [5], body [5]
                  rpo [4, 5, 7]
                unreachable: 3
                problem 3: unreachable instruction
                """, c.describe());
    }

    @Test
    void diagnosticsReadPcReasonDetail() {
        Diagnostic d = new Diagnostic(4, "irreducible loop (between 1 and 4)");
        assertEquals("4: irreducible loop (between 1 and 4)", d.toString());
        assertTrue(d.is(Cfg.IRREDUCIBLE_LOOP));
        assertFalse(d.is("irreducible"));
        assertEquals(Cfg.IRREDUCIBLE_LOOP, d.kind());
    }
}
