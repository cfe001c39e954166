package dev.prism.csd.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.prism.csd.ChunkKernel;
import dev.prism.csd.image.Ed25519Keys;
import dev.prism.csd.image.FirmwareImage;
import dev.prism.target.MapAccess;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.KeyPair;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The device through 64-byte submission and 16-byte completion queue entries. */
class NvmeWireTest {
    private static final KeyPair KEY = Ed25519Keys.generate();

    /** Writes the chunk's first byte and its offset's low byte; r0 = 2. */
    private static final class FirstByte implements ChunkKernel {
        @Override
        public long run(MemorySegment ns, long off, long len, MemorySegment out, long p0, long p1) {
            out.set(ValueLayout.JAVA_BYTE, 0, (byte) (ns.get(ValueLayout.JAVA_BYTE, off) + p0));
            out.set(ValueLayout.JAVA_BYTE, 1, (byte) off);
            return 2;
        }

        @Override
        public MapAccess maps() {
            throw new UnsupportedOperationException();
        }

        @Override
        public String description() {
            return "first byte";
        }

        @Override
        public void close() {
        }
    }

    private static CsdDevice device() {
        byte[] data = new byte[300];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 3);
        }
        KernelLoader loader = new KernelLoader() {
            public ChunkKernel load(FirmwareImage image) {
                return new FirstByte();
            }

            public String description() {
                return "first byte loader";
            }
        };
        return new CsdDevice(NvmNamespace.of(data), new DeviceConfig(2, 2, 64, 1 << 16, 100, 4,
                List.of(Ed25519Keys.raw(KEY.getPublic())), loader));
    }

    private static byte[] image() {
        return FirmwareImage.unsigned("csd", "first", List.of(), List.of(), List.of(), List.of(), Map.of("bpf", new byte[8]))
                .sign(KEY.getPrivate(), KEY.getPublic()).bytes();
    }

    private static Completion admin(CsdDevice d, int opcode, int cdw10, int cdw11, byte[] data) {
        return NvmeWire.submit(d, true, NvmeWire.sqe(opcode, 7, 0, 0, cdw10, cdw11, 0, 0), data);
    }

    @Test
    void aWholeComputationThroughQueueEntries() {
        try (CsdDevice d = device()) {
            assertEquals(NvmeStatus.SUCCESS, admin(d, 0x85, 1, CsdDevice.PROGRAM_TYPE_EBPF, image()).status());
            assertEquals(NvmeStatus.SUCCESS, admin(d, 0x88, 1 | 1 << 16, 0, null).status());
            ByteBuffer ranges = ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN);
            ranges.putInt(0, 1).putLong(8, 50).putLong(16, 250);
            ranges.putInt(24, 2).putLong(32, 10).putLong(40, 20);
            Completion set = admin(d, 0x89, 0, 0, ranges.array());
            assertEquals(NvmeStatus.SUCCESS, set.status(), set.toString());
            Completion run = NvmeWire.submit(d, false, NvmeWire.sqe(0x01, 8, 3, 0, 1, (int) set.result(), 1, 0), null);
            assertEquals(NvmeStatus.SUCCESS, run.status(), run.toString());
            assertEquals(6, run.result(), "chunks at 50, 150, 250: two bytes each");
            Completion read = NvmeWire.submit(d, false, NvmeWire.sqe(0x02, 9, 2, 0, 10, 0, 6, 0), null);
            // byte (offset * 3) + param0 1, then the offset's low byte
            assertArrayEquals(new byte[] {(byte) 151, 50, (byte) 195, (byte) 150, (byte) 239, (byte) 250}, read.data());
            Completion nvm = NvmeWire.submit(d, false, NvmeWire.sqe(0x02, 9, 1, 0, 2, 0, 3, 0), null);
            assertArrayEquals(new byte[] {6, 9, 12}, nvm.data());
            assertEquals(NvmeStatus.SUCCESS, admin(d, 0x89, 1, (int) set.result(), null).status());
            assertEquals(NvmeStatus.INVALID_RANGE_SET, admin(d, 0x89, 1, (int) set.result(), null).status());
        }
    }

    @Test
    void completionEntriesCarryStatusResultAndIds() {
        try (CsdDevice d = device()) {
            Completion unsigned = admin(d, 0x85, 0, CsdDevice.PROGRAM_TYPE_EBPF,
                    FirmwareImage.unsigned("csd", "x", List.of(), List.of(), List.of(), List.of(), Map.of()).bytes());
            byte[] cqe = NvmeWire.cqe(unsigned, 0x1234, 3, 17, true);
            ByteBuffer b = ByteBuffer.wrap(cqe).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(17, b.getShort(8));
            assertEquals(3, b.getShort(10));
            assertEquals(0x1234, b.getShort(12));
            int status = b.getShort(14) & 0xffff;
            assertEquals(1, status & 1, "phase");
            assertEquals(0xc8, status >> 1 & 0xff, "SC of a Prism-defined status");
            assertEquals(7, status >> 9 & 7, "SCT 7h, vendor specific");
            Completion ok = Completion.ok(0x1_0000_0002L);
            assertEquals(0x1_0000_0002L, ByteBuffer.wrap(NvmeWire.cqe(ok, 1, 1, 0, false)).order(ByteOrder.LITTLE_ENDIAN).getLong(0));
        }
    }

    @Test
    void badEntries() {
        try (CsdDevice d = device()) {
            assertEquals(NvmeStatus.INVALID_OPCODE, admin(d, 0x7f, 0, 0, null).status());
            assertEquals(NvmeStatus.INVALID_OPCODE, NvmeWire.submit(d, false, NvmeWire.sqe(0x09, 1, 1, 0, 0, 0, 1, 0), null).status());
            assertEquals(NvmeStatus.INVALID_OPCODE, NvmeWire.submit(d, false, NvmeWire.sqe(0x02, 1, 3, 0, 0, 0, 1, 0), null).status());
            assertEquals(NvmeStatus.INVALID_NAMESPACE, NvmeWire.submit(d, false, NvmeWire.sqe(0x02, 1, 9, 0, 0, 0, 1, 0), null).status());
            assertEquals(NvmeStatus.INVALID_NAMESPACE, NvmeWire.submit(d, false, NvmeWire.sqe(0x02, 1, -1, 0, 0, 0, 1, 0), null).status());
            assertEquals(NvmeStatus.INVALID_FIELD, NvmeWire.submit(d, true, new byte[10], null).status());
            assertEquals(NvmeStatus.INVALID_FIELD, admin(d, 0x89, 5, 0, null).status());
            assertEquals(NvmeStatus.INVALID_FIELD, admin(d, 0x89, 0, 0, new byte[25]).status());
            assertEquals(NvmeStatus.OUT_OF_RANGE, NvmeWire.submit(d, false, NvmeWire.sqe(0x02, 1, 1, 0, 299, 0, 2, 0), null).status());
            assertEquals(NvmeStatus.OUT_OF_RANGE, NvmeWire.submit(d, false, NvmeWire.sqe(0x02, 1, 1, 0, 0, 1, 2, 0), null).status(), "offset 4 GiB");
        }
    }

    @Test
    void randomEntriesAreAnsweredNeverThrown() {
        Random r = new Random(85);
        int[] opcodes = {0x85, 0x88, 0x89, 0xc0, 0x01, 0x02, 0x00, 0xff};
        try (CsdDevice d = device()) {
            for (int i = 0; i < 20_000; i++) {
                byte[] sqe = new byte[64];
                r.nextBytes(sqe);
                sqe[0] = (byte) opcodes[r.nextInt(opcodes.length)];
                if (r.nextBoolean()) {
                    sqe[4] = (byte) r.nextInt(4);
                    sqe[5] = sqe[6] = sqe[7] = 0;
                }
                byte[] data = new byte[r.nextInt(4) == 0 ? 48 : r.nextInt(64)];
                r.nextBytes(data);
                Completion c = NvmeWire.submit(d, r.nextBoolean(), sqe, data);
                assertNotEquals(NvmeStatus.INTERNAL_ERROR, c.status(), c.toString());
            }
        }
    }
}
