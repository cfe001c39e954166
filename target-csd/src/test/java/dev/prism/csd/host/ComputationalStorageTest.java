package dev.prism.csd.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.csd.ChunkKernel;
import dev.prism.csd.device.CsdDevice;
import dev.prism.csd.device.DeviceConfig;
import dev.prism.csd.device.KernelLoader;
import dev.prism.csd.device.NvmNamespace;
import dev.prism.csd.device.NvmeStatus;
import dev.prism.csd.host.ComputationalStorage.ComputeRequest;
import dev.prism.csd.host.ComputationalStorage.ComputeResult;
import dev.prism.csd.host.ComputationalStorage.DeviceMemory;
import dev.prism.csd.host.ComputationalStorage.Range;
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

/** The SNIA-shaped host library over the emulator, with a kernel that sums each chunk's bytes into 8 output bytes. */
class ComputationalStorageTest {
    private static final KeyPair KEY = Ed25519Keys.generate();

    private static final class Summer implements ChunkKernel {
        @Override
        public long run(MemorySegment ns, long off, long len, MemorySegment out, long p0, long p1) {
            long sum = 0;
            for (long i = off; i < off + len; i++) {
                sum += ns.get(ValueLayout.JAVA_BYTE, i) & 0xff;
            }
            out.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, sum);
            return 8;
        }

        @Override
        public MapAccess maps() {
            throw new UnsupportedOperationException();
        }

        @Override
        public String description() {
            return "summer";
        }

        @Override
        public void close() {
        }
    }

    private static CsdDevice device(byte[] data) {
        KernelLoader loader = new KernelLoader() {
            public ChunkKernel load(FirmwareImage image) {
                return new Summer();
            }

            public String description() {
                return "summer loader";
            }
        };
        return new CsdDevice(NvmNamespace.of(data), new DeviceConfig(2, 3, 4096, 1 << 16, 1024, 4,
                List.of(Ed25519Keys.raw(KEY.getPublic())), loader));
    }

    private static byte[] image() {
        return FirmwareImage.unsigned("csd", "summer", List.of(), List.of(), List.of(), List.of(), Map.of("bpf", new byte[8]))
                .sign(KEY.getPrivate(), KEY.getPublic()).bytes();
    }

    @Test
    void queryAllocateComputeRead() throws Exception {
        byte[] data = new byte[5000];
        new Random(3).nextBytes(data);
        try (CsdDevice d = device(data); ComputationalStorage cs = ComputationalStorage.open(d)) {
            var props = cs.queryDeviceProperties();
            assertEquals(5000, props.storageBytes());
            assertEquals(2, props.functionSlots());
            int fn = cs.downloadFunction(image());
            assertEquals(0, fn);
            DeviceMemory out = cs.allocMem(100);
            ComputeResult r = cs.queueComputeRequest(new ComputeRequest(fn, List.of(new Range(0, 3000), new Range(4000, 1000)),
                    out, 0, 0, 0)).get();
            assertTrue(r.ok(), r.toString());
            assertEquals(4 * 8, r.value(), "3 chunks of the first range, 1 of the second");
            ByteBuffer sums = ByteBuffer.wrap(cs.copyFromDevice(out, 0, r.value())).order(ByteOrder.LITTLE_ENDIAN);
            int[][] chunks = {{0, 1024}, {1024, 2048}, {2048, 3000}, {4000, 5000}};
            for (int[] c : chunks) {
                long expected = 0;
                for (int i = c[0]; i < c[1]; i++) {
                    expected += data[i] & 0xff;
                }
                assertEquals(expected, sums.getLong(), "chunk " + c[0]);
            }
            assertEquals(32, d.stats().bytesToHost());
            assertEquals(5000 - 1000, d.stats().bytesProcessed());
        }
    }

    @Test
    void refusalsCarryTheDeviceStatus() throws Exception {
        try (CsdDevice d = device(new byte[100]); ComputationalStorage cs = ComputationalStorage.open(d)) {
            DeviceMemory a = cs.allocMem(4000);
            assertThrows(CsException.class, () -> cs.allocMem(100), "only 96 bytes are left");
            DeviceMemory b = cs.allocMem(96);
            cs.freeMem(a);
            assertEquals(0, cs.allocMem(10).offset(), "first fit reuses the freed range");
            assertThrows(CsException.class, () -> cs.freeMem(new DeviceMemory(1, 2)));
            ComputeResult r = cs.queueComputeRequest(new ComputeRequest(0, List.of(new Range(0, 10)), b, 0, 0, 0)).get();
            assertEquals(NvmeStatus.PROGRAM_SLOT_EMPTY, r.status());
            ComputeResult outside = cs.queueComputeRequest(new ComputeRequest(0, List.of(new Range(50, 51)), b, 0, 0, 0)).get();
            assertEquals(NvmeStatus.OUT_OF_RANGE, outside.status());
            CsException e = assertThrows(CsException.class, () -> cs.downloadFunction(new byte[] {1, 2, 3}));
            assertEquals(NvmeStatus.INVALID_IMAGE, e.status());
            cs.downloadFunction(image());
            cs.downloadFunction(image());
            assertThrows(CsException.class, () -> cs.downloadFunction(image()), "both slots are in use");
            cs.unloadFunction(1);
            assertEquals(1, cs.downloadFunction(image()));
        }
    }
}
