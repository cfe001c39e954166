package dev.prism.sys;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.error.TargetException;
import dev.prism.isa.InsnCodec;
import dev.prism.program.MapType;
import dev.prism.testing.Host;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The user-space ring buffer consumer and map freezing against the running kernel. */
class RingBufConsumerTest {
    private static final int RING = 4096;
    /** Payload per record: 1500 + 8 header = 1508, rounded to 1512, so the third record wraps. */
    private static final int PAYLOAD = 1500;

    @BeforeEach
    void needsBpf() {
        Host.requireLinuxBpf();
    }

    /**
     * An XDP program that reserves a {@value #PAYLOAD}-byte record in map 0, copies the packet's
     * first bytes into it with bpf_xdp_load_bytes and submits it (bpf_ringbuf_output may not
     * read the packet directly: "helper access to the packet is not allowed").
     */
    private static int outputProgram(BpfMap ring) {
        byte[] code = InsnCodec.encode(Assembler.assemble("""
                mov %r6, %r1
                lddw %r1, map_idx 0
                mov %r2, 1500
                mov %r3, 0
                call 131                  # ringbuf_reserve(ring, 1500, 0)
                jeq %r0, 0, out
                mov %r7, %r0
                mov %r1, %r6
                mov %r2, 0
                mov %r3, %r7
                mov %r4, 1500
                call 189                  # xdp_load_bytes(ctx, 0, record, 1500)
                mov %r1, %r7
                mov %r2, 0
                call 132                  # ringbuf_submit(record, 0)
                out:
                mov %r0, 2
                exit
                """));
        return LinuxBpf.progLoad(ProgType.XDP, code, "rb_output", new int[] {ring.fd()});
    }

    private static byte[] packet(int seed) {
        byte[] p = new byte[PAYLOAD];
        for (int i = 0; i < p.length; i++) {
            p[i] = (byte) (i * 7 + seed);
        }
        return p;
    }

    @Test
    void recordsComeBackInOrderAcrossTheWrapAndFreeTheirSpace() {
        BpfMap ring = LinuxBpf.mapCreate(MapType.RINGBUF, 0, 0, RING, 0, "prism_rb");
        int prog = outputProgram(ring);
        try (RingBufConsumer consumer = RingBufConsumer.open(ring)) {
            assertEquals(List.of(), consumer.drain());
            for (int round = 0; round < 4; round++) {
                byte[] a = packet(2 * round);
                byte[] b = packet(2 * round + 1);
                LinuxBpf.testRun(prog, a, 0, 1);
                LinuxBpf.testRun(prog, b, 0, 1);
                // Two records of 1512 bytes fit in 4096; a third would not until they are consumed.
                List<byte[]> records = consumer.drain();
                assertEquals(2, records.size(), "round " + round);
                assertArrayEquals(a, records.get(0));
                assertArrayEquals(b, records.get(1));
                assertEquals(consumer.producerPosition(), consumer.consumerPosition());
            }
            assertTrue(consumer.consumerPosition() > RING, "records wrapped past the end of the data area");
        } finally {
            LinuxBpf.close(prog);
            LinuxBpf.close(ring.fd());
        }
    }

    @Test
    void closeUnmapsOnceAndOnlyRingsOpen() {
        BpfMap ring = LinuxBpf.mapCreate(MapType.RINGBUF, 0, 0, RING, 0, "prism_rb");
        BpfMap array = LinuxBpf.mapCreate(MapType.ARRAY, 4, 4, 1, 0, "prism_arr");
        try {
            RingBufConsumer consumer = RingBufConsumer.open(ring);
            consumer.close();
            assertDoesNotThrow(consumer::close);
            assertThrows(IllegalStateException.class, consumer::drain);
            assertThrows(IllegalArgumentException.class, () -> RingBufConsumer.open(array));
        } finally {
            LinuxBpf.close(ring.fd());
            LinuxBpf.close(array.fd());
        }
    }

    @Test
    void aFrozenMapRefusesUserWritesButStillReads() {
        BpfMap map = LinuxBpf.mapCreate(MapType.ARRAY, 4, 4, 1, 1 << 7 /* BPF_F_RDONLY_PROG */, "prism_ro");
        try {
            byte[] value = {9, 0, 0, 0};
            LinuxBpf.mapUpdate(map, new byte[4], value, LinuxBpf.BPF_ANY);
            LinuxBpf.mapFreeze(map);
            TargetException e = assertThrows(TargetException.class,
                    () -> LinuxBpf.mapUpdate(map, new byte[4], new byte[4], LinuxBpf.BPF_ANY));
            assertTrue(e.getMessage().contains("EPERM"), e.getMessage());
            assertArrayEquals(value, LinuxBpf.mapLookup(map, new byte[4]));
        } finally {
            LinuxBpf.close(map.fd());
        }
    }
}
