package dev.prism.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Where PTX differs from RFC 9669, the emitted sequence guards it. Nothing executes PTX here, so
 * each case checks the instructions of one BPF instruction's block in order: the guard comes
 * before the operation it protects, and the result is selected from the guard's predicate.
 * (PTX ISA 9.0: shl/shr clamp amounts above the width; div/rem by zero are unspecified; there is
 * no atom.sub.) PtxAssemblesTest assembles all of it; scripts/gpu-check runs it on a GPU.
 */
class PtxGuardsTest {
    private static final PtxTarget PTX = new PtxTarget();

    private static String lower(String asm, MapDef... maps) {
        Program p = Program.builder("t", ProgramType.XDP, Assembler.assemble(asm)).maps(List.of(maps)).build();
        return PTX.compile(Verifier.verify(p, Profile.RFC9669)).listing();
    }

    /** {@return the instructions lowered for {@code pc}: the lines after label L<pc> up to the next label, comments left out} */
    private static List<String> block(String ptx, int pc) {
        List<String> out = new ArrayList<>();
        boolean in = false;
        for (String line : ptx.split("\n")) {
            if (line.endsWith(":") && !line.startsWith("\t")) {
                in = line.equals("L" + pc + ":");
                continue;
            }
            if (in && !line.strip().startsWith("//")) {
                out.add(line.strip());
            }
        }
        assertFalse(out.isEmpty(), "no block for pc " + pc + " in\n" + ptx);
        return out;
    }

    /** Asserts that {@code lines} hold {@code want} in this order (other lines may come between). */
    private static void inOrder(List<String> lines, String... want) {
        int at = 0;
        for (String w : want) {
            while (at < lines.size() && !lines.get(at).equals(w)) {
                at++;
            }
            assertTrue(at < lines.size(), "missing or out of order: " + w + " in\n" + String.join("\n", lines));
            at++;
        }
    }

    @Test
    void shiftAmountsAreMaskedBeforeTheShift() {
        String ptx = lower("mov %r0, 1\nmov %r2, 65\nlsh %r0, %r2\nrsh %r0, %r2\narsh %r0, %r2\nlsh32 %r0, %r2\nrsh32 %r0, %r2\n"
                + "arsh32 %r0, %r2\nexit");
        inOrder(block(ptx, 2), "cvt.u32.u64 %w1, %r2;", "and.b32 %w1, %w1, 63;", "shl.b64 %r0, %r0, %w1;");
        inOrder(block(ptx, 3), "and.b32 %w1, %w1, 63;", "shr.u64 %r0, %r0, %w1;");
        inOrder(block(ptx, 4), "and.b32 %w1, %w1, 63;", "shr.s64 %r0, %r0, %w1;");
        inOrder(block(ptx, 5), "cvt.u32.u64 %w1, %r2;", "and.b32 %w1, %w1, 31;", "shl.b32 %w0, %w0, %w1;", "cvt.u64.u32 %r0, %w0;");
        inOrder(block(ptx, 6), "and.b32 %w1, %w1, 31;", "shr.u32 %w0, %w0, %w1;");
        inOrder(block(ptx, 7), "and.b32 %w1, %w1, 31;", "shr.s32 %w0, %w0, %w1;");
    }

    @Test
    void divisionByZeroGivesZeroAndModuloGivesTheDividend() {
        String ptx = lower("mov %r0, 7\nmov %r2, 0\ndiv %r0, %r2\nmod %r0, %r2\ndiv32 %r0, %r2\nmod32 %r0, %r2\nexit");
        // the divisor is replaced by 1 when zero, and the result selected: 0 for div, dst for mod
        inOrder(block(ptx, 2), "setp.eq.u64 %p0, %r2, 0;", "selp.b64 %t2, 1, %r2, %p0;", "div.u64 %t3, %r0, %t2;",
                "selp.b64 %r0, 0, %t3, %p0;");
        inOrder(block(ptx, 3), "setp.eq.u64 %p0, %r2, 0;", "selp.b64 %t2, 1, %r2, %p0;", "rem.u64 %t3, %r0, %t2;",
                "selp.b64 %r0, %r0, %t3, %p0;");
        inOrder(block(ptx, 4), "setp.eq.u32 %p0, %w1, 0;", "selp.b32 %w2, 1, %w1, %p0;", "div.u32 %w3, %w0, %w2;",
                "selp.b32 %w0, 0, %w3, %p0;", "cvt.u64.u32 %r0, %w0;");
        inOrder(block(ptx, 5), "setp.eq.u32 %p0, %w1, 0;", "rem.u32 %w3, %w0, %w2;", "selp.b32 %w0, %w0, %w3, %p0;");
    }

    @Test
    void signedDivisionByMinusOneNeverOverflows() {
        String ptx = lower("lddw %r0, 0x8000000000000000\nmov %r2, -1\nsdiv %r0, %r2\nsmod %r0, %r2\nsdiv32 %r0, %r2\n"
                + "smod32 %r0, %r2\nexit");
        // pc 0 is lddw (two slots): the divisions are at 3..6
        inOrder(block(ptx, 3), "setp.eq.s64 %p1, %r2, -1;", "selp.b64 %t2, 1, %t2, %p1;", "div.s64 %t3, %r0, %t2;",
                "neg.s64 %t4, %r0;", "selp.b64 %t3, %t4, %t3, %p1;", "selp.b64 %r0, 0, %t3, %p0;");
        inOrder(block(ptx, 4), "setp.eq.s64 %p1, %r2, -1;", "rem.s64 %t3, %r0, %t2;", "selp.b64 %t3, 0, %t3, %p1;");
        inOrder(block(ptx, 5), "setp.eq.s32 %p1, %w1, -1;", "div.s32 %w3, %w0, %w2;", "neg.s32 %w2, %w0;",
                "selp.b32 %w3, %w2, %w3, %p1;", "cvt.u64.u32 %r0, %w0;");
        inOrder(block(ptx, 6), "setp.eq.s32 %p1, %w1, -1;", "rem.s32 %w3, %w0, %w2;", "selp.b32 %w3, 0, %w3, %p1;");
    }

    @Test
    void thirtyTwoBitResultsAreZeroExtended() {
        String ptx = lower("mov %r0, -1\nadd32 %r0, 1\nneg32 %r0\nmov32 %r0, -1\nexit");
        inOrder(block(ptx, 1), "add.u32 %w0, %w0, %w1;", "cvt.u64.u32 %r0, %w0;");
        inOrder(block(ptx, 2), "neg.s32 %w0, %w0;", "cvt.u64.u32 %r0, %w0;");
        inOrder(block(ptx, 3), "mov.b32 %w0, %w1;", "cvt.u64.u32 %r0, %w0;");
    }

    @Test
    void signExtendingLoadsShiftTheSignIn() {
        String ptx = lower("mov %r2, 0\nstxh [%r10-8], %r2\nldxsh %r0, [%r10-8]\nldxsb %r0, [%r10-8]\nldxh %r0, [%r10-8]\nexit");
        inOrder(block(ptx, 2), "ld.global.u8 %w0, [%a+-8];", "ld.global.u8 %w0, [%a+-7];", "shl.b64 %t3, %t3, 48;",
                "shr.s64 %t3, %t3, 48;", "mov.b64 %r0, %t3;");
        inOrder(block(ptx, 3), "shl.b64 %t3, %t3, 56;", "shr.s64 %t3, %t3, 56;");
        assertFalse(block(ptx, 4).stream().anyMatch(l -> l.startsWith("shr.s64")), "ldxh zero-extends");
    }

    @Test
    void noAtomSubAnywhereAndHashCountsGoDownByAddingTheNegation() {
        MapDef h = new MapDef("h", MapType.HASH, 4, 8, 16, 0, null, false);
        String ptx = lower("""
                mov %r1, 7
                stxw [%r10-4], %r1
                stdw [%r10-16], 1
                lddw %r1, map_idx 0
                mov %r2, %r10
                add %r2, -4
                mov %r3, %r10
                add %r3, -16
                mov %r4, 0
                call 2
                lddw %r1, map_idx 0
                mov %r2, %r10
                add %r2, -4
                call 3
                mov %r0, 2
                exit""", h);
        assertFalse(ptx.contains("atom.global.sub") || ptx.contains("red.global.sub"), "PTX has no atom.sub");
        String update = function(ptx, "hash_update");
        List<String> lines = List.of(update.split("\n")).stream().map(String::strip).toList();
        // claim a slot's state (as read: empty, or deleted in an LRU map) -> being written with a CAS,
        // publish it full after a fence
        inOrder(lines, "atom.global.add.u32 %b0, [%a18], 1;", "cvt.u32.u64 %b4, %a14;", "mov.b32 %b5, 1;",
                "atom.global.cas.b32 %b6, [%a17], %b4, %b5;", "setp.ne.u32 %q0, %b6, %b4;", "@%q0 bra LOST;", "fence.acq_rel.gpu;",
                "atom.global.exch.b32 %b1, [%a17], 2;");
        assertTrue(update.contains("atom.global.add.u32 %b0, [%a18], 0xffffffff;"), "the count given back by adding -1");
        String delete = function(ptx, "hash_delete");
        inOrder(List.of(delete.split("\n")).stream().map(String::strip).toList(), "atom.global.cas.b32 %b1, [%a7], 2, 3;",
                "atom.global.add.u32 %b0, [%a9], 0xffffffff;");
    }

    @Test
    void bpfToBpfCallsAreFunctionsWithTheirOwnFrame() {
        String ptx = lower("mov %r1, 5\ncall local fn\nexit\nfn:\nmov %r0, %r1\nexit");
        assertTrue(ptx.contains(".func (.param .b64 rv) bpf_3 (.param .b64 M, .param .b64 base, .param .b64 a1,"), ptx);
        inOrder(block(ptx, 1), "sub.u64 %t5, %r10, " + DeviceLayout.FRAME_SIZE + ";", "mov.b64 %ca7, %t5;",
                "call.uni (cr), bpf_3, (c0, c1, c2, c3, c4, c5, c6, c7);", "ld.param.b64 %r0, [cr];");
    }

    @Test
    void helpersOnTheDevice() {
        String ptx = lower("call 5\ncall 7\nmov %r0, 2\nexit");
        assertEquals(List.of("mov.u64 %r0, %globaltimer;"), block(ptx, 0), "ktime is the device's ns timer");
        inOrder(block(ptx, 1), "ld.global.u64 %t0, [%a+" + PtxC.RNG + "];", "st.global.u64 [%a+" + PtxC.RNG + "], %t0;",
                "and.b64 %r0, %t0, 0xffffffff;");
    }

    @Test
    void bpfLoopCallsItsCallbackUntilItAnswersNonzero() {
        String ptx = lower("mov %r1, 4\nlddw %r2, code cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\ncb:\nmov %r0, 0\nexit");
        // the callback (label cb) is at pc 7: mov, lddw (two slots), mov, mov, call, exit
        assertTrue(ptx.contains(".func (.param .b64 rv) bpf_7 ("), ptx);
        String loop = ptx.substring(ptx.indexOf("L5:"), ptx.indexOf("H5_END:"));
        List<String> lines = List.of(loop.split("\n")).stream().map(String::strip).toList();
        inOrder(lines, "and.b64 %ln, %r1, 0xffffffff;", "setp.gt.u64 %p0, %ln, 8388608;", "mov.b64 %li, 0;", "H5_LOOP:",
                "setp.ge.u64 %p0, %li, %ln;", "sub.u64 %t5, %r10, " + DeviceLayout.FRAME_SIZE + ";", "setp.eq.u64 %p0, %lcb, 7;",
                "mov.b64 %ca2, %li;", "mov.b64 %ca3, %lctx;", "call.uni (cr), bpf_7, (c0, c1, c2, c3, c4, c5, c6, c7);",
                "H5_NEXT:", "add.u64 %li, %li, 1;", "setp.eq.u64 %p0, %t4, 0;", "@%p0 bra H5_LOOP;", "H5_DONE:",
                "mov.b64 %r0, %li;");
    }

    @Test
    void ringRecordsAreClaimedByCasAndCommittedByExchange() {
        MapDef ring = new MapDef("events", MapType.RINGBUF, 0, 0, 4096, 0, null, false);
        String ptx = lower("""
                lddw %r1, map_idx 0
                mov %r2, 8
                mov %r3, 0
                call 131
                jeq %r0, 0, out
                stdw [%r0+0], 7
                mov %r1, %r0
                mov %r2, 0
                call 132
                out:
                mov %r0, 2
                exit""", ring);
        List<String> reserve = List.of(function(ptx, "rb_reserve").split("\n")).stream().map(String::strip).toList();
        // the claim: bytes used + need must fit the capacity, then a CAS from the value read; retried when another won
        inOrder(reserve, "ld.global.u64 %a6, [%a5+8];", "atom.global.add.u64 %a7, [%a5], %a12;", "CLAIM:",
                "setp.gt.u64 %q0, %a8, %a6;", "atom.global.cas.b64 %a9, [%a5], %a7, %a8;", "mov.b64 %a7, %a9;", "bra CLAIM;",
                "GOT:", "or.b32 %b0, %b0, 0x80000000;", "st.global.u32 [%a11], %b0;");
        List<String> commit = List.of(function(ptx, "rb_commit").split("\n")).stream().map(String::strip).toList();
        inOrder(commit, "and.b32 %b0, %b0, 0x3fffffff;", "or.b32 %b0, %b0, 0x40000000;", "KEEP:",
                "atom.global.exch.b32 %b1, [%a3], %b0;");
        inOrder(block(ptx, 4), "call.uni (cr), rb_reserve, (c0, c1, c2, c3);");
        inOrder(block(ptx, 9), "mov.b64 %ca2, 0;", "call.uni (cr), rb_commit, (c0, c1, c2);");
    }

    @Test
    void tailCallsCallTheTargetsMainAndCountToThirtyThree() {
        MapDef jmp = new MapDef("jmp", MapType.PROG_ARRAY, 4, 4, 4, 0, null, false);
        String ptx = lower("lddw %r2, map_idx 0\nmov %r3, 1\ncall 12\nmov %r0, 2\nexit", jmp);
        // with a tail call every program's main body is a function the kernel calls
        assertTrue(ptx.contains(".func (.param .b64 rv) main_0 (.param .b64 M,"), ptx);
        int kernel = ptx.indexOf(".visible .entry prism(");
        assertTrue(ptx.indexOf("call.uni (cr), main_0,", kernel) > kernel, "the kernel calls main_0");
        String call = ptx.substring(ptx.indexOf("L3:", ptx.indexOf("main_0 (.param .b64 M, .param .b64 base", kernel)),
                ptx.indexOf("T3_FAIL:"));
        inOrder(List.of(call.split("\n")).stream().map(String::strip).toList(), "call.uni (cr), prog_slot, (c0, c1, c2);",
                "setp.eq.u64 %p0, %t4, 0;", "@%p0 bra T3_FAIL;", "ld.global.u32 %w0, [%a+" + PtxC.TAIL_CALLS + "];",
                "setp.ge.u32 %p0, %w0, 33;", "@%p0 bra T3_FAIL;", "add.u32 %w0, %w0, 1;", "setp.eq.u64 %p0, %t4, 1;",
                "call.uni (cr), main_0, (c0, c1, c2, c3, c4, c5, c6, c7);", "bra EXIT;");
        assertTrue(ptx.contains("T3_FAIL:\n\tmov.b64 %r0, -2;"), "a failed tail call leaves -ENOENT and goes on");
    }

    /** {@return the text of the PTX function {@code name}, from its definition to its closing brace} */
    private static String function(String ptx, String name) {
        String head = ".func (.param .b64 rv) " + name + " (";
        int at = ptx.indexOf(head);
        at = ptx.indexOf(head, at + 1); // the first is the prototype
        assertTrue(at > 0, "no definition of " + name);
        return ptx.substring(at, ptx.indexOf("\n}\n", at));
    }
}
