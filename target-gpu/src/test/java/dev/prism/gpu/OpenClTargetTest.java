package dev.prism.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.error.TargetException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Verdict;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The opencl target on PoCL: refusals through check, hash inserts racing in one batch, batch bookkeeping. */
class OpenClTargetTest {
    private static final OpenClTarget TARGET = new OpenClTarget();

    private static void requireDevice() {
        Host.require("opencl", TARGET.availability().available(), TARGET.availability().reason());
    }

    private static Program xdp(String text, MapDef... maps) {
        return Program.builder("t", ProgramType.XDP, Assembler.assemble(text)).maps(List.of(maps)).build();
    }

    /**
     * Tail calls against the interpreter: p0 counts itself in an array and tail-calls slot 0 of
     * a prog_array; p1 counts and tail-calls slot 1. Slot 0 = p0 runs p0 33 more times (the limit)
     * then falls through (r0 2, count 34); slot 0 = p1 with slot 1 empty ends in p1 (r0 3, count
     * 2); both slots empty: p0 alone. Each in a batch of 70 packets; r0 and the count agree.
     */
    @Test
    void tailCallsAgreeWithTheInterpreter() {
        requireDevice();
        MapDef jmp = new MapDef("jmp", MapType.PROG_ARRAY, 4, 4, 4, 0, null, false);
        MapDef cnt = new MapDef("cnt", MapType.ARRAY, 4, 8, 1, 0, null, false);
        String body = """
                mov %%r6, %%r1
                lddw %%r1, map_idx 1
                stw [%%r10-4], 0
                mov %%r2, %%r10
                add %%r2, -4
                call 1
                jeq %%r0, 0, out
                mov %%r1, 1
                lock add [%%r0+0], %%r1
                out:
                mov %%r1, %%r6
                lddw %%r2, map_idx 0
                mov %%r3, %d
                call 12
                mov %%r0, %d
                exit
                """;
        Program p0 = Program.builder("p0", ProgramType.XDP, Assembler.assemble(body.formatted(0, 2))).maps(List.of(jmp, cnt)).build();
        Program p1 = Program.builder("p1", ProgramType.XDP, Assembler.assemble(body.formatted(1, 3))).maps(List.of(jmp, cnt)).build();
        assertTrue(TARGET.check(Verifier.verify(p0, Profile.RFC9669)).ok(), "tail calls pass check");
        List<RunInput> batch = new ArrayList<>();
        for (int i = 0; i < 70; i++) {
            batch.add(RunInput.ofPacket(new byte[64]));
        }
        for (String slot0 : new String[] {"p0", "p1", null}) {
            try (Executable interp = new dev.prism.runtime.InterpreterTarget().load(List.of(p0, p1));
                 Executable gpu = TARGET.load(List.of(p0, p1))) {
                if (slot0 != null) {
                    interp.maps().setProgram("jmp", 0, slot0);
                    gpu.maps().setProgram("jmp", 0, slot0);
                }
                long want = interp.run(batch.getFirst()).r0();
                List<RunResult> got = gpu.run(batch);
                for (RunResult r : got) {
                    assertEquals(want, r.r0(), "slot 0 = " + slot0);
                }
                byte[] n = interp.maps().lookup("cnt", new byte[4]);
                long perRun = ByteBuffer.wrap(n).order(ByteOrder.LITTLE_ENDIAN).getLong();
                long total = ByteBuffer.wrap(gpu.maps().lookup("cnt", new byte[4])).order(ByteOrder.LITTLE_ENDIAN).getLong();
                assertEquals(perRun * batch.size(), total, "slot 0 = " + slot0);
                assertEquals(slot0 == null ? 1 : slot0.equals("p0") ? 34 : 2, perRun, "the interpreter's count");
            }
        }
    }

    @Test
    void checkRefusesAHelperTheDeviceLacksNamingThePc() {
        // bpf_redirect (23) at pc 2
        Program p = xdp("mov %r1, 1\nmov %r2, 0\ncall 23\nexit");
        Verdict v = TARGET.check(Verifier.verify(p, Profile.RFC9669));
        assertFalse(v.ok());
        assertEquals(2, v.reasons().getFirst().pc(), v.message());
    }

    @Test
    void listingIsAStructuredDispatchLoop() {
        Program p = xdp("mov %r0, 1\njeq %r1, 0, +1\nmov %r0, 2\nexit");
        String src = TARGET.compile(Verifier.verify(p, Profile.RFC9669)).listing();
        assertTrue(src.contains("switch (pc)"), src);
        assertFalse(src.contains("goto"), "no goto");
    }

    /**
     * Up to 16 keys (the packet's byte 14 & 15), 2,000 work-items racing to insert each with
     * BPF_NOEXIST, losers adding 1 atomically: whatever the interleaving, key k ends with the
     * count of packets carrying k (the insert stores 1), and every insert returns 0 or -EEXIST.
     */
    @Test
    void hashInsertsRacingInOneBatchCountEveryPacket() {
        requireDevice();
        MapDef h = new MapDef("counts", MapType.HASH, 4, 8, 64, 0, null, false);
        Program p = xdp("""
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 15
                jgt %r4, %r3, out
                ldxb %r5, [%r2+14]
                and %r5, 15
                stxw [%r10-4], %r5
                stdw [%r10-16], 1
                lddw %r1, map_idx 0
                mov %r2, %r10
                add %r2, -4
                mov %r3, %r10
                add %r3, -16
                mov %r4, 1
                call 2
                jeq %r0, 0, out
                lddw %r1, map_idx 0
                mov %r2, %r10
                add %r2, -4
                call 1
                jeq %r0, 0, out
                mov %r1, 1
                lock add [%r0+0], %r1
                out:
                mov %r0, 2
                exit
                """, h);
        Random r = new Random(14);
        long[] want = new long[16];
        List<RunInput> batch = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            byte[] pkt = new byte[64];
            r.nextBytes(pkt);
            batch.add(RunInput.ofPacket(pkt));
            want[pkt[14] & 15]++;
        }
        try (Executable e = TARGET.load(List.of(p))) {
            List<RunResult> out = e.run(batch);
            assertEquals(batch.size(), out.size());
            out.forEach(x -> assertEquals(2, x.r0()));
            for (int k = 0; k < 16; k++) {
                byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(k).array();
                byte[] v = e.maps().lookup("counts", key);
                if (want[k] == 0) {
                    assertNull(v, "key " + k);
                } else {
                    assertNotNull(v, "key " + k);
                    assertEquals(want[k], ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong(), "key " + k);
                }
            }
            assertEquals(3, e.lastBatchNanos().size());
            // a second batch continues from the device's maps; a host write goes up before it
            byte[] key0 = new byte[4];
            e.maps().update("counts", key0, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).array(), 0);
            e.run(batch);
            long got = ByteBuffer.wrap(e.maps().lookup("counts", key0)).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(1000 + want[0], got);
        }
    }

    /** 32-bit arithmetic on bytes: a loaded 0xff shifted into bit 31 and shifted back arithmetically is -1 as u32. */
    @Test
    void byteOperandsDoNotPromoteToSignedInt() {
        requireDevice();
        Program p = xdp("""
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 14
                jgt %r4, %r3, out
                ldxb %r0, [%r2+0]
                lsh32 %r0, 24
                arsh32 %r0, 24
                exit
                out:
                mov %r0, 0
                exit
                """);
        byte[] pkt = new byte[14];
        pkt[0] = (byte) 0xff;
        try (Executable e = TARGET.load(List.of(p))) {
            assertEquals(0xffff_ffffL, e.run(RunInput.ofPacket(pkt)).r0());
        }
    }

    /**
     * bpf_loop against the interpreter: the count of iterations from the packet's byte 14, a
     * callback that sums the index into a stack slot through ctx and stops when the sum passes
     * the packet's byte 15; short packets: 3 iterations with a NULL ctx, then 0. (Flags
     * other than 0 and nr above BPF_MAX_LOOPS the verifier refuses.)
     */
    @Test
    void bpfLoopAgreesWithTheInterpreter() {
        requireDevice();
        Program p = xdp("""
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 16
                jgt %r4, %r3, out
                ldxb %r1, [%r2+14]
                ldxb %r6, [%r2+15]
                stxdw [%r10-16], %r6
                stdw [%r10-8], 0
                lddw %r2, code cb
                mov %r3, %r10
                add %r3, -16
                mov %r4, 0
                call 181
                lsh %r0, 32
                ldxdw %r1, [%r10-8]
                or %r0, %r1
                exit
                out:
                mov %r1, 3
                lddw %r2, code cb
                mov %r3, 0
                mov %r4, 0
                call 181
                mov %r6, %r0
                mov %r1, 0
                lddw %r2, code cb
                mov %r3, 0
                mov %r4, 0
                call 181
                lsh %r6, 32
                and %r0, 0xffff
                or %r0, %r6
                exit
                cb:
                jeq %r2, 0, zero
                ldxdw %r3, [%r2+8]
                add %r3, %r1
                stxdw [%r2+8], %r3
                ldxdw %r4, [%r2+0]
                mov %r0, 0
                jle %r3, %r4, done
                mov %r0, 1
                done:
                exit
                zero:
                mov %r0, 0
                exit
                """);
        Random r = new Random(181);
        List<RunInput> batch = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            byte[] pkt = new byte[i % 50 == 0 ? 15 : 64];
            r.nextBytes(pkt);
            batch.add(RunInput.ofPacket(pkt));
        }
        try (Executable interp = new dev.prism.runtime.InterpreterTarget().load(List.of(p));
             Executable gpu = TARGET.load(List.of(p))) {
            List<RunResult> got = gpu.run(batch);
            int short1 = 0;
            for (int i = 0; i < batch.size(); i++) {
                long want = interp.run(batch.get(i)).r0();
                assertEquals(want, got.get(i).r0(), "packet " + i);
                short1 += batch.get(i).packet().length < 16 ? 1 : 0;
            }
            assertTrue(short1 > 0, "the NULL-ctx path ran");
        }
    }

    /**
     * An LRU hash of 8 entries on the device: 300 work-items insert keys 0..299 (packet bytes
     * 14-15, little-endian, value the key) and look up key 3 (kept referenced). Every insert
     * answers 0 (an LRU map evicts, never -E2BIG), the map ends with exactly 8 entries whose
     * values equal their keys, and a host insert after the batch still succeeds.
     */
    @Test
    void lruHashEvictsInsteadOfRefusing() {
        requireDevice();
        MapDef lru = new MapDef("lru", MapType.LRU_HASH, 4, 8, 8, 0, null, false);
        Program p = xdp("""
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 16
                jgt %r4, %r3, out
                ldxh %r5, [%r2+14]
                stxw [%r10-4], %r5
                stxdw [%r10-16], %r5
                lddw %r1, map_idx 0
                mov %r2, %r10
                add %r2, -4
                mov %r3, %r10
                add %r3, -16
                mov %r4, 0
                call 2
                exit
                out:
                mov %r0, 99
                exit
                """, lru);
        List<RunInput> batch = new ArrayList<>();
        for (int k = 0; k < 300; k++) {
            byte[] pkt = new byte[64];
            pkt[14] = (byte) k;
            pkt[15] = (byte) (k >> 8);
            batch.add(RunInput.ofPacket(pkt));
        }
        try (Executable e = TARGET.load(List.of(p))) {
            for (int i = 0; i < 3; i++) {
                List<RunResult> out = e.run(batch);
                for (int k = 0; k < out.size(); k++) {
                    assertEquals(0, out.get(k).r0(), "insert of key " + k + " in batch " + i);
                }
                List<byte[]> keys = e.maps().keys("lru");
                assertEquals(8, keys.size(), "a full LRU map after batch " + i);
                for (byte[] key : keys) {
                    long v = ByteBuffer.wrap(e.maps().lookup("lru", key)).order(ByteOrder.LITTLE_ENDIAN).getLong();
                    assertEquals(ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN).getInt(), v);
                }
            }
            e.maps().update("lru", new byte[] {(byte) 0xff, 0x7f, 0, 0}, new byte[8], 0);
            assertEquals(8, e.maps().keys("lru").size());
        }
    }
}
