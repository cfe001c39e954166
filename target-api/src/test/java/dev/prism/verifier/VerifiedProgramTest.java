package dev.prism.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.error.VerificationException;
import dev.prism.isa.Group;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import org.junit.jupiter.api.Test;

/** The IR's facts on a small XDP program whose every fact can be worked out by hand. */
class VerifiedProgramTest {
    private static final String PROGRAM = """
            ldxw %r2, [%r1+0]        #  0 data
            ldxw %r3, [%r1+4]        #  1 data_end
            mov %r4, %r2             #  2
            add %r4, 20              #  3
            jgt %r4, %r3, out        #  4 bounds check: proves 20 bytes
            ldxw %r5, [%r2+16]       #  5 packet access [16, 20)
            mov %r6, 10              #  6
            mov %r7, 3               #  7
            div %r6, %r7             #  8 divisor: the constant 3
            jgt %r6, 5, out          #  9 3 > 5 never: decided
            stxdw [%r10-24], %r6     # 10 stack access at -24
            mov %r8, 0               # 11
            loop:
            add %r8, 1               # 12 loop head
            jlt %r8, 7, loop         # 13 seven trips
            out:
            mov %r0, 2
            exit
            """;

    private static VerifiedProgram verify(String text) {
        return Verifier.verify(Program.of("t", ProgramType.XDP, Assembler.assemble(text)), Profile.RFC9669);
    }

    @Test
    void factsAreWhatWasProven() {
        VerifiedProgram v = verify(PROGRAM);
        Facts load = v.facts(5);
        assertEquals(new Facts.Access(Facts.Kind.PACKET, 16, 16, 4, false, -1), load.access());
        assertEquals(Facts.Kind.PACKET, load.registers().get(2).kind());
        assertEquals(Facts.Kind.PACKET_END, v.facts(4).registers().get(3).kind());
        assertEquals(Facts.Kind.UNINIT, load.registers().get(3).kind(), "dead after the check: forgotten");
        assertEquals(Long.valueOf(3), v.facts(8).divisor());
        assertEquals(Boolean.FALSE, v.facts(9).branch(), "10 / 3 = 3 is never above 5");
        assertNull(v.facts(4).branch(), "the bounds check goes both ways");
        assertEquals(new Facts.Access(Facts.Kind.STACK, -24, -24, 8, true, 0), v.facts(10).access());
        assertTrue(v.facts(10).registers().get(6).value().isConstant());
        assertEquals(3, v.facts(10).registers().get(6).value().constantValue());
        assertEquals(Long.valueOf(7), v.loopBounds().get(12));
        assertEquals(Integer.valueOf(24), v.stackDepths().get(0));
        assertEquals(24, v.requires().stackDepth());
        assertEquals(20, v.requires().maxPacketOff());
        assertTrue(v.requires().groups().contains(Group.DIVMUL64));
        assertTrue(v.stats().executedBound() >= 16 && v.stats().executedBound() < 40, "bound " + v.stats().executedBound());
    }

    @Test
    void mapCallsListTheMapsR1MayBe() {
        // maps: 0 and 1 hashes of one shape (sizes differ), 2 an array, 3 an array of maps whose
        // template fits 0 and 1 (a hash's max_entries may differ from the template's) but not 2
        var template = dev.prism.program.MapDef.of("t", dev.prism.program.MapType.HASH, 8, 8, 16, 0);
        java.util.List<dev.prism.program.MapDef> maps = java.util.List.of(
                dev.prism.program.MapDef.of("h0", dev.prism.program.MapType.HASH, 8, 8, 16, 0),
                dev.prism.program.MapDef.of("h1", dev.prism.program.MapType.HASH, 8, 8, 64, 0),
                dev.prism.program.MapDef.of("a", dev.prism.program.MapType.ARRAY, 4, 8, 4, 0),
                dev.prism.program.MapDef.ofMaps("outer", dev.prism.program.MapType.ARRAY_OF_MAPS, 4, 4, 0,
                        new dev.prism.program.MapDef.Inner(template, new java.util.TreeMap<>())));
        Program p = Program.builder("m", ProgramType.XDP, Assembler.assemble("""
                stdw [%r10-8], 0
                ldxw %r6, [%r1+0]
                lddw %r1, map_idx 0
                jeq %r6, 0, picked
                lddw %r1, map_idx 1
                picked:
                mov %r2, %r10
                add %r2, -8
                call 1
                stw [%r10-12], 0
                lddw %r1, map_idx 3
                mov %r2, %r10
                add %r2, -12
                call 1
                jeq %r0, 0, out
                mov %r1, %r0
                mov %r2, %r10
                add %r2, -8
                mov %r3, %r10
                add %r3, -8
                mov %r4, 0
                call 2
                lddw %r1, map_idx 2
                mov %r2, %r10
                add %r2, -12
                call 1
                out:
                mov %r0, 2
                exit
                """)).maps(maps).build();
        VerifiedProgram v = Verifier.verify(p, Profile.LINUX);
        java.util.Map<Integer, java.util.List<Integer>> calls = new java.util.TreeMap<>();
        for (int pc = 0; pc < p.length(); pc++) {
            if (p.at(pc) instanceof dev.prism.isa.Insn.Call && v.facts(pc) != null) {
                calls.put(pc, v.facts(pc).maps());
            }
        }
        // the calls' pcs (lddw takes two slots): 9, 15, 23, 28
        assertEquals(java.util.Map.of(9, java.util.List.of(0, 1), 15, java.util.List.of(3), 23, java.util.List.of(0, 1),
                28, java.util.List.of(2)), calls);
        assertNull(v.facts(8).maps(), "not a call");
        assertEquals(Facts.Kind.UNINIT, v.facts(9).registers().get(1).kind(), "r1 itself names no one map");
    }

    @Test
    void rejectionsNameThePcAndTheSourceLineWhenKnown() {
        VerificationException e = assertThrows(VerificationException.class, () -> verify(PROGRAM.replace("[%r2+16]", "[%r2+17]")));
        assertEquals("5: invalid packet access (off=17 size=4 (proven range 0..20))", e.getMessage());
    }

    @Test
    void aLoopWithoutABoundIsRefusedNamingHeadAndBackEdge() {
        VerificationException e = assertThrows(VerificationException.class, () -> verify("""
                ldxw %r2, [%r1+12]
                mov %r0, 0
                l:
                add %r0, 1
                jgt %r2, %r0, l
                exit
                """));
        assertTrue(e.getMessage().startsWith("2: unbounded loop (head 2, back edge 3"), e.getMessage());
    }
}
