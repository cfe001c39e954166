package dev.prism.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.error.TrapException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** XDP context, maps through helpers, tail calls, bpf_loop, ring buffers and traces on the interpreter. */
class InterpreterXdpTest {
    private static final byte[] PACKET = HexFormat.of().parseHex("ffffffffffff0011223344550800" + "45000014000000004011" + "00000a0000010a000002");

    private static Program xdp(String name, String text, MapDef... maps) {
        return Program.builder(name, ProgramType.XDP, Assembler.assemble(text)).maps(List.of(maps)).build();
    }

    private static Interpreter interpreter(List<String> trace) {
        Environment env = Environment.deterministic(1_000_000, 42);
        env = new Environment(env.monotonicNs(), env.bootNs(), env.jiffies(), env.random(), 0, trace::add);
        return new Interpreter(HelperTable.standard(), Interpreter.DEFAULT_BUDGET, env);
    }

    private static Interpreter.Result run(Program p) {
        try (Interpreter.Instance i = interpreter(new ArrayList<>()).instantiate(List.of(p))) {
            return i.run(null, PACKET);
        }
    }

    @Test
    void xdpMdGivesPacketPointersAndTheTestRunIfindex() {
        Program p = xdp("len", """
                ldxw %r2, [%r1+0]     # data
                ldxw %r3, [%r1+4]     # data_end
                mov %r0, %r3
                sub %r0, %r2
                ldxw %r4, [%r1+12]    # ingress_ifindex
                mul %r4, 1000
                add %r0, %r4
                exit
                """);
        assertEquals(1000 + PACKET.length, run(p).r0(), "ifindex 1 (lo, as in Linux's test run) and the packet length");
    }

    @Test
    void packetAccessIsCheckedAgainstDataEnd() {
        Program ok = xdp("last", "ldxw %r2, [%r1+0]\nldxb %r0, [%r2+33]\nexit");
        assertEquals(0x02, run(ok).r0());
        Program past = xdp("past", "ldxw %r2, [%r1+0]\nldxb %r0, [%r2+34]\nexit");
        TrapException e = assertThrows(TrapException.class, () -> run(past));
        assertTrue(e.getMessage().contains("invalid load of 1 bytes"), e.getMessage());
        Program ctxWrite = xdp("ctxw", "stw [%r1+0], 1\nmov %r0, 2\nexit");
        assertTrue(assertThrows(TrapException.class, () -> run(ctxWrite)).getMessage().contains("XDP context can only be read"));
    }

    @Test
    void adjustHeadMovesDataAndTheOutputStartsAtTheNewHead() {
        Program p = xdp("push", """
                mov %r6, %r1
                mov %r2, -4
                call 44               # xdp_adjust_head(ctx, -4)
                jne %r0, 0, fail
                ldxw %r2, [%r6+0]
                ldxw %r3, [%r6+4]
                mov %r4, %r2
                add %r4, 4
                jgt %r4, %r3, fail
                stw [%r2+0], 0x44332211
                mov %r0, 2
                exit
                fail:
                mov %r0, 0
                exit
                """);
        Interpreter.Result r = run(p);
        assertEquals(2, r.r0());
        assertArrayEquals(HexFormat.of().parseHex("11223344"), java.util.Arrays.copyOf(r.packetAfter(), 4));
        assertEquals(PACKET.length + 4, r.packetAfter().length);
    }

    @Test
    void arrayAndHashMapsThroughHelpersPersistAcrossRuns() {
        MapDef counts = MapDef.of("counts", MapType.ARRAY, 4, 8, 4, 0);
        MapDef seen = MapDef.of("seen", MapType.HASH, 4, 4, 16, 0);
        Program p = xdp("count", """
                stw [%r10-4], 2           # key 2
                lddw %r1, map_idx 0
                mov %r2, %r10
                add %r2, -4
                call 1                    # map_lookup_elem(counts, &key)
                jeq %r0, 0, out
                mov %r1, 1
                lock add [%r0+0], %r1
                stw [%r10-8], 7           # value 7 under key 2 in "seen", only if absent
                lddw %r1, map_idx 1
                mov %r2, %r10
                add %r2, -4
                mov %r3, %r10
                add %r3, -8
                mov %r4, 1                # BPF_NOEXIST
                call 2
                out:
                exit
                """, counts, seen);
        try (Interpreter.Instance i = interpreter(new ArrayList<>()).instantiate(List.of(p))) {
            assertEquals(0, i.run(null, PACKET).r0(), "first insert succeeds");
            assertEquals(-17 & 0xffff_ffffL, i.run(null, PACKET).r0(), "second: -EEXIST, as the u32 an XDP program returns");
            assertEquals(-17 & 0xffff_ffffL, i.run(null, PACKET).r0());
            byte[] v = i.map("counts").lookupUser(new byte[] {2, 0, 0, 0});
            assertEquals(3, v[0], "three runs counted");
            assertArrayEquals(new byte[] {7, 0, 0, 0}, i.map("seen").lookupUser(new byte[] {2, 0, 0, 0}));
        }
    }

    @Test
    void globalDataIsReachedByMapValueIndex() {
        MapDef data = new MapDef(".data", MapType.ARRAY, 4, 8, 1, 0, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, false);
        MapDef rodata = new MapDef(".rodata", MapType.ARRAY, 4, 4, 1, 0, new byte[] {9, 0, 0, 0}, true);
        Program p = xdp("g", "lddw %r1, map_value_idx 0, 4\nldxw %r0, [%r1+0]\nlddw %r2, map_value_idx 1, 0\nldxb %r3, [%r2+0]\nadd %r0, %r3\nexit", data, rodata);
        assertEquals(0x08070605L + 9, run(p).r0());
        Program w = xdp("w", "lddw %r2, map_value_idx 1, 0\nstb [%r2+0], 1\nmov %r0, 0\nexit", data, rodata);
        assertTrue(assertThrows(TrapException.class, () -> run(w)).getMessage().contains("read-only"));
    }

    @Test
    void tailCallsSwitchProgramsAndStopAfter33() {
        MapDef jmp = MapDef.of("jmp", MapType.PROG_ARRAY, 4, 4, 4, 0);
        Program entry = xdp("entry", "lddw %r2, map_idx 0\nmov %r3, 1\ncall 12\nmov %r0, 1\nexit", jmp);
        Program target = xdp("target", "mov %r0, 3\nexit", jmp);
        try (Interpreter.Instance i = interpreter(new ArrayList<>()).instantiate(List.of(entry, target))) {
            assertEquals(1, i.run(null, PACKET).r0(), "empty slot: falls through");
            i.setProgram("jmp", 1, "target");
            assertEquals(3, i.run(null, PACKET).r0());
        }
        // a program that tail-calls itself counts in a map how often it ran: 1 + 33 times
        MapDef count = MapDef.of("n", MapType.ARRAY, 4, 8, 1, 0);
        Program self = xdp("self", """
                mov %r6, %r1
                stw [%r10-4], 0
                lddw %r1, map_idx 1
                mov %r2, %r10
                add %r2, -4
                call 1
                jeq %r0, 0, out
                mov %r1, 1
                lock add [%r0+0], %r1
                mov %r1, %r6
                lddw %r2, map_idx 0
                mov %r3, 0
                call 12
                out:
                mov %r0, 2
                exit
                """, jmp, count);
        try (Interpreter.Instance i = interpreter(new ArrayList<>()).instantiate(List.of(self))) {
            i.setProgram("jmp", 0, "self");
            i.run(null, PACKET);
            assertEquals(34, i.map("n").lookupUser(new byte[4])[0], "Linux's MAX_TAIL_CALL_CNT is 33");
        }
    }

    @Test
    void bpfLoopRunsTheCallbackUntilItReturnsOne() {
        Program p = xdp("loop", """
                stdw [%r10-8], 0
                mov %r1, 10               # nr_loops
                lddw %r2, code cb
                mov %r3, %r10
                add %r3, -8               # ctx: the sum on the caller's stack
                mov %r4, 0
                call 181
                ldxdw %r1, [%r10-8]
                lsh %r0, 8
                or %r0, %r1               # iterations << 8 | sum (XDP returns 32 bits)
                exit
                cb:                        # (index, ctx): add index, stop after index 5
                ldxdw %r3, [%r2+0]
                add %r3, %r1
                stxdw [%r2+0], %r3
                mov %r0, 0
                jne %r1, 5, keep
                mov %r0, 1
                keep:
                exit
                """);
        assertEquals((6 << 8) | 15, run(p).r0(), "indices 0..5 summed, 6 iterations");
    }

    @Test
    void ringbufRecordsAreSubmittedOrDiscarded() {
        MapDef rb = MapDef.of("events", MapType.RINGBUF, 0, 0, 4096, 0);
        Program p = xdp("rb", """
                lddw %r1, map_idx 0
                mov %r2, 8
                mov %r3, 0
                call 131                  # ringbuf_reserve(events, 8, 0)
                jeq %r0, 0, out
                stdw [%r0+0], 0x1234
                mov %r1, %r0
                mov %r2, 0
                call 132                  # submit
                lddw %r1, map_idx 0
                mov %r2, 8
                mov %r3, 0
                call 131
                jeq %r0, 0, out
                mov %r1, %r0
                mov %r2, 0
                call 133                  # discard
                out:
                mov %r0, 2
                exit
                """, rb);
        try (Interpreter.Instance i = interpreter(new ArrayList<>()).instantiate(List.of(p))) {
            i.run(null, PACKET);
            List<byte[]> records = ((dev.prism.runtime.maps.RingBufMap) i.map("events")).drain();
            assertEquals(1, records.size());
            assertArrayEquals(new byte[] {0x34, 0x12, 0, 0, 0, 0, 0, 0}, records.get(0));
        }
    }

    @Test
    void unimplementedHelpersAreRefusedAtLoadByName() {
        Program p = xdp("fib", "mov %r0, 2\njeq %r0, 2, out\ncall 69\nout:\nexit");
        var e = assertThrows(dev.prism.error.TargetException.class, () -> new InterpreterTarget().load(List.of(p)));
        assertTrue(e.getMessage().startsWith("2: not supported: bpf_fib_lookup#69"), e.getMessage());
    }

    @Test
    void traceTimeAndRandomComeFromTheEnvironment() {
        List<String> trace = new ArrayList<>();
        Program p = xdp("t", """
                stdw [%r10-16], 0
                stdw [%r10-8], 0
                stw [%r10-16], 0x25203d78     # "x= %" (bytes 78 3d 20 25)
                stb [%r10-12], 0x64           # "d"
                stb [%r10-11], 0              # NUL
                mov %r1, %r10
                add %r1, -16
                mov %r2, 16
                mov %r3, -5
                call 6
                call 5
                mov %r6, %r0
                call 5
                sub %r0, %r6
                exit
                """);
        try (Interpreter.Instance i = interpreter(trace).instantiate(List.of(p))) {
            assertEquals(1000, i.run(null, PACKET).r0(), "the deterministic clock advances 1000 ns per reading");
        }
        assertEquals(List.of("x= -5"), trace);
    }
}
