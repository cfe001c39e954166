package dev.prism.csd.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.csd.ChunkKernel;
import dev.prism.csd.device.Command.ExecuteProgram;
import dev.prism.csd.device.Command.LoadProgram;
import dev.prism.csd.device.Command.MemoryRange;
import dev.prism.csd.device.Command.MemoryRangeSetManagement;
import dev.prism.csd.device.Command.ProgramActivation;
import dev.prism.csd.image.Ed25519Keys;
import dev.prism.csd.image.FirmwareImage;
import dev.prism.csd.image.Manifest;
import dev.prism.program.MapDef;
import dev.prism.target.MapAccess;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Command-level tests of the emulated device, one per status it can answer, with a tiny
 * {@link ChunkKernel} written here: it copies the chunk's bytes equal to param0 to out (r0: how
 * many), or, by param1, returns an errno (1), throws (2) or claims more bytes than out holds (3).
 */
class CsdDeviceTest {
    private static final KeyPair KEY = Ed25519Keys.generate();
    private static final KeyPair OTHER = Ed25519Keys.generate();

    @TempDir
    Path tmp;

    private CsdDevice device;
    private final AtomicInteger closedKernels = new AtomicInteger();
    private final Map<String, Boolean> threads = new ConcurrentHashMap<>();

    private final class Matcher implements ChunkKernel {
        @Override
        public long run(MemorySegment ns, long off, long len, MemorySegment out, long p0, long p1) {
            threads.put(Thread.currentThread().getName(), true);
            if (p1 == 1) {
                return -22;
            }
            if (p1 == 2) {
                throw new IllegalStateException("trap at pc 3");
            }
            if (p1 == 3) {
                return out.byteSize() + 1;
            }
            long n = 0;
            for (long i = off; i < off + len; i++) {
                byte b = ns.get(ValueLayout.JAVA_BYTE, i);
                if (b == (byte) p0) {
                    out.set(ValueLayout.JAVA_BYTE, n++, b);
                }
            }
            return n;
        }

        @Override
        public MapAccess maps() {
            return new MapAccess() {
                public List<MapDef> defs() {
                    return List.of();
                }

                public byte[] lookup(String map, byte[] key) {
                    return null;
                }

                public void update(String map, byte[] key, byte[] value, long flags) {
                }

                public boolean delete(String map, byte[] key) {
                    return false;
                }

                public List<byte[]> keys(String map) {
                    return List.of();
                }

                public List<byte[]> drain(String ringbuf) {
                    return List.of();
                }

                public void setProgram(String progArray, int index, String program) {
                }
            };
        }

        @Override
        public String description() {
            return "test matcher";
        }

        @Override
        public void close() {
            closedKernels.incrementAndGet();
        }
    }

    private final KernelLoader loader = new KernelLoader() {
        @Override
        public ChunkKernel load(FirmwareImage image) {
            if (image.code("x86-64") == null) {
                throw new IllegalArgumentException("not supported: no x86-64 code in the image");
            }
            return new Matcher();
        }

        @Override
        public String description() {
            return "test loader";
        }
    };

    private static FirmwareImage image(String type, String... arches) {
        Map<String, byte[]> code = new java.util.LinkedHashMap<>();
        for (String a : arches) {
            code.put(a, new byte[] {1, 2, 3});
        }
        return FirmwareImage.unsigned(type, "matcher", List.of(), List.of(new Manifest.FunctionEntry("matcher", 0)),
                List.of(), List.of(), code);
    }

    private static byte[] signed() {
        return image("csd", "bpf", "x86-64").sign(KEY.getPrivate(), KEY.getPublic()).bytes();
    }

    private CsdDevice device(byte[] data, int engines, long slm) throws Exception {
        Path f = tmp.resolve("ns.bin");
        Files.write(f, data);
        DeviceConfig cfg = new DeviceConfig(4, engines, slm, 4096, 1000, 2,
                List.of(Ed25519Keys.raw(KEY.getPublic())), loader);
        device = new CsdDevice(NvmNamespace.map(f), cfg);
        return device;
    }

    @AfterEach
    void close() {
        if (device != null) {
            device.close();
        }
    }

    private static void ok(Completion c) {
        assertTrue(c.ok(), c.toString());
    }

    private static void status(NvmeStatus expected, Completion c) {
        assertEquals(expected, c.status(), c.toString());
        assertTrue(!c.detail().isEmpty(), "every error says why");
    }

    private int loaded(CsdDevice d) {
        ok(d.submit(LoadProgram.load(1, signed())));
        ok(d.submit(new ProgramActivation(1, true)));
        return 1;
    }

    @Test
    void executeRunsChunksInParallelAndConcatenatesInOrder() throws Exception {
        byte[] data = new byte[10_000];
        new Random(1).nextBytes(data);
        CsdDevice d = device(data, 4, 20_000);
        int slot = loaded(d);
        Completion set = d.submit(MemoryRangeSetManagement.create(List.of(
                new MemoryRange(CsdDevice.NSID_NVM, 123, 9_000), new MemoryRange(CsdDevice.NSID_MEMORY, 100, 5_000))));
        ok(set);
        Completion run = d.submit(new ExecuteProgram(slot, (int) set.result(), 7, 0));
        ok(run);
        // the expected output, computed directly: every byte 7 of [123, 9123) in order
        byte[] expected = new byte[(int) java.util.stream.IntStream.range(123, 9_123).filter(i -> data[i] == 7).count()];
        Arrays.fill(expected, (byte) 7);
        assertEquals(expected.length, run.result());
        Completion mem = d.submit(new Command.MemoryRead(CsdDevice.NSID_MEMORY, 100, run.result()));
        ok(mem);
        assertArrayEquals(expected, mem.data());
        assertEquals(9, d.stats().chunks(), "9,000 bytes in 1,000-byte chunks");
        assertEquals(9_000, d.stats().bytesProcessed());
        assertEquals(expected.length, d.stats().bytesToHost(), "only the result crossed to the host");
        assertTrue(threads.size() > 1 || Runtime.getRuntime().availableProcessors() == 1, "chunks ran on " + threads.keySet());
    }

    @Test
    void unsignedTamperedAndUnknownKeyImagesAreRefused() throws Exception {
        CsdDevice d = device(new byte[100], 1, 100);
        status(NvmeStatus.IMAGE_NOT_SIGNED, d.submit(LoadProgram.load(0, image("csd", "bpf", "x86-64").bytes())));
        byte[] tampered = signed();
        tampered[40] ^= 4;
        status(NvmeStatus.IMAGE_SIGNATURE_INVALID, d.submit(LoadProgram.load(0, tampered)));
        byte[] other = image("csd", "bpf", "x86-64").sign(OTHER.getPrivate(), OTHER.getPublic()).bytes();
        status(NvmeStatus.IMAGE_KEY_UNKNOWN, d.submit(LoadProgram.load(0, other)));
        byte[] cut = Arrays.copyOf(signed(), 30);
        Completion malformed = d.submit(LoadProgram.load(0, cut));
        status(NvmeStatus.INVALID_IMAGE, malformed);
        assertTrue(malformed.detail().startsWith("offset "), malformed.detail());
        assertEquals("[empty, empty, empty, empty]", d.identify().slots().toString(), "nothing was loaded");
    }

    /** Load Program of the image with one bit flipped at each byte position: never loaded, always a refusal status. */
    @Test
    void everyFlippedByteIsRefusedAtLoadProgram() throws Exception {
        CsdDevice d = device(new byte[100], 1, 100);
        byte[] good = signed();
        java.util.Set<NvmeStatus> seen = java.util.EnumSet.noneOf(NvmeStatus.class);
        for (int i = 0; i < good.length; i++) {
            byte[] bad = good.clone();
            bad[i] ^= (byte) (1 << (i % 8));
            Completion c = d.submit(LoadProgram.load(0, bad));
            assertTrue(!c.ok(), "byte " + i + " flipped and the image loaded");
            seen.add(c.status());
        }
        assertTrue(seen.containsAll(List.of(NvmeStatus.INVALID_IMAGE, NvmeStatus.IMAGE_SIGNATURE_INVALID,
                NvmeStatus.IMAGE_KEY_UNKNOWN)), seen.toString());
        ok(d.submit(LoadProgram.load(0, good)));
    }

    @Test
    void loadProgramStatuses() throws Exception {
        CsdDevice d = device(new byte[100], 1, 100);
        status(NvmeStatus.INVALID_PROGRAM_INDEX, d.submit(LoadProgram.load(4, signed())));
        status(NvmeStatus.INVALID_PROGRAM_INDEX, d.submit(LoadProgram.load(-1, signed())));
        status(NvmeStatus.INVALID_PROGRAM_TYPE, d.submit(new LoadProgram(0, 0x01, false, signed())));
        status(NvmeStatus.IMAGE_TOO_BIG, d.submit(LoadProgram.load(0, new byte[4097])));
        status(NvmeStatus.INVALID_PROGRAM_TYPE, d.submit(LoadProgram.load(0,
                image("xdp", "bpf", "x86-64").sign(KEY.getPrivate(), KEY.getPublic()).bytes())));
        status(NvmeStatus.PROGRAM_LOAD_FAILED, d.submit(LoadProgram.load(0,
                image("csd", "bpf").sign(KEY.getPrivate(), KEY.getPublic()).bytes())));
        status(NvmeStatus.PROGRAM_SLOT_EMPTY, d.submit(LoadProgram.unload(0)));
        ok(d.submit(LoadProgram.load(0, signed())));
        status(NvmeStatus.PROGRAM_INDEX_OCCUPIED, d.submit(LoadProgram.load(0, signed())));
        ok(d.submit(new ProgramActivation(0, true)));
        status(NvmeStatus.PROGRAM_ACTIVE, d.submit(LoadProgram.unload(0)));
        ok(d.submit(new ProgramActivation(0, false)));
        ok(d.submit(LoadProgram.unload(0)));
        assertEquals(1, closedKernels.get(), "unload closes the program");
        ok(d.submit(LoadProgram.load(0, signed())));
    }

    @Test
    void activationStatuses() throws Exception {
        CsdDevice d = device(new byte[100], 1, 100);
        status(NvmeStatus.INVALID_PROGRAM_INDEX, d.submit(new ProgramActivation(9, true)));
        status(NvmeStatus.PROGRAM_SLOT_EMPTY, d.submit(new ProgramActivation(0, true)));
    }

    @Test
    void rangeSetStatuses() throws Exception {
        CsdDevice d = device(new byte[100], 1, 50);
        status(NvmeStatus.INVALID_FIELD, d.submit(MemoryRangeSetManagement.create(List.of())));
        status(NvmeStatus.INVALID_NAMESPACE, d.submit(MemoryRangeSetManagement.create(List.of(new MemoryRange(9, 0, 1)))));
        status(NvmeStatus.INVALID_NAMESPACE, d.submit(MemoryRangeSetManagement.create(List.of(new MemoryRange(3, 0, 1)))));
        status(NvmeStatus.OUT_OF_RANGE, d.submit(MemoryRangeSetManagement.create(List.of(new MemoryRange(1, 90, 11)))));
        status(NvmeStatus.OUT_OF_RANGE, d.submit(MemoryRangeSetManagement.create(List.of(new MemoryRange(1, Long.MAX_VALUE, 2)))));
        status(NvmeStatus.OUT_OF_RANGE, d.submit(MemoryRangeSetManagement.create(List.of(new MemoryRange(2, 1, 50)))));
        status(NvmeStatus.INVALID_FIELD, d.submit(MemoryRangeSetManagement.create(List.of(new MemoryRange(1, 0, 0)))));
        status(NvmeStatus.INVALID_FIELD, d.submit(MemoryRangeSetManagement.create(List.of(new MemoryRange(1, -1, 5)))));
        Completion a = d.submit(MemoryRangeSetManagement.create(List.of(new MemoryRange(1, 0, 100))));
        ok(a);
        ok(d.submit(MemoryRangeSetManagement.create(List.of(new MemoryRange(2, 0, 50)))));
        status(NvmeStatus.RANGE_SET_LIMIT, d.submit(MemoryRangeSetManagement.create(List.of(new MemoryRange(1, 0, 1)))));
        ok(d.submit(MemoryRangeSetManagement.delete((int) a.result())));
        status(NvmeStatus.INVALID_RANGE_SET, d.submit(MemoryRangeSetManagement.delete((int) a.result())));
        ok(d.submit(MemoryRangeSetManagement.create(List.of(new MemoryRange(1, 0, 1)))));
    }

    @Test
    void executeStatuses() throws Exception {
        CsdDevice d = device(new byte[5000], 2, 3000);
        int both = (int) d.submit(MemoryRangeSetManagement.create(List.of(new MemoryRange(1, 0, 5000),
                new MemoryRange(2, 0, 3000)))).result();
        status(NvmeStatus.INVALID_PROGRAM_INDEX, d.submit(new ExecuteProgram(7, both, 0, 0)));
        status(NvmeStatus.PROGRAM_SLOT_EMPTY, d.submit(new ExecuteProgram(1, both, 0, 0)));
        ok(d.submit(LoadProgram.load(1, signed())));
        status(NvmeStatus.PROGRAM_NOT_ACTIVE, d.submit(new ExecuteProgram(1, both, 0, 0)));
        ok(d.submit(new ProgramActivation(1, true)));
        status(NvmeStatus.INVALID_RANGE_SET, d.submit(new ExecuteProgram(1, 999, 0, 0)));
        status(NvmeStatus.INVALID_FIELD, d.submit(new ExecuteProgram(1, both, 0, 0, -5)));
        status(NvmeStatus.INVALID_FIELD, d.submit(new ExecuteProgram(1, both, 0, 0, CsdDevice.MAX_CHUNK + 1)));
        Completion err = d.submit(new ExecuteProgram(1, both, 0, 1));
        status(NvmeStatus.PROGRAM_ERROR, err);
        assertEquals(-22, err.result(), "the errno is the result");
        Completion fault = d.submit(new ExecuteProgram(1, both, 0, 2));
        status(NvmeStatus.PROGRAM_FAULT, fault);
        assertTrue(fault.detail().contains("trap at pc 3"), fault.detail());
        status(NvmeStatus.PROGRAM_FAULT, d.submit(new ExecuteProgram(1, both, 0, 3)));
        // 5,000 zero bytes match param0 = 0: more than the 3,000-byte output range
        status(NvmeStatus.OUTPUT_OVERFLOW, d.submit(new ExecuteProgram(1, both, 0, 0)));
        ok(d.submit(new ExecuteProgram(1, both, 1, 0)));
        int inputOnly = (int) d.submit(MemoryRangeSetManagement.create(List.of(new MemoryRange(1, 0, 10)))).result();
        status(NvmeStatus.INVALID_FIELD, d.submit(new ExecuteProgram(1, inputOnly, 0, 0)));
    }

    @Test
    void readsAndWritesCheckTheirNamespaceAndRange() throws Exception {
        byte[] data = new byte[64];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        CsdDevice d = device(data, 1, 32);
        Completion r = d.submit(new Command.Read(1, 10, 4));
        ok(r);
        assertArrayEquals(new byte[] {10, 11, 12, 13}, r.data());
        status(NvmeStatus.OUT_OF_RANGE, d.submit(new Command.Read(1, 60, 5)));
        status(NvmeStatus.INVALID_NAMESPACE, d.submit(new Command.Read(2, 0, 5)));
        status(NvmeStatus.INVALID_NAMESPACE, d.submit(new Command.MemoryRead(1, 0, 5)));
        status(NvmeStatus.INVALID_NAMESPACE, d.submit(new Command.MemoryWrite(1, 0, new byte[1])));
        ok(d.submit(new Command.MemoryWrite(2, 30, new byte[] {5, 6})));
        assertArrayEquals(new byte[] {5, 6}, d.submit(new Command.MemoryRead(2, 30, 2)).data());
        status(NvmeStatus.OUT_OF_RANGE, d.submit(new Command.MemoryWrite(2, 31, new byte[] {5, 6})));
        status(NvmeStatus.INVALID_FIELD, d.submit(new Command.MemoryRead(2, 0, 0)));
        assertEquals(6, d.stats().bytesToHost());
        assertEquals(2, d.stats().bytesFromHost());
        status(NvmeStatus.PROGRAM_SLOT_EMPTY, d.submit(new Command.MapDump(0)));
        status(NvmeStatus.INVALID_PROGRAM_INDEX, d.submit(new Command.MapDump(4)));
    }

    @Test
    void closedDeviceAnswersWithAnError() throws Exception {
        CsdDevice d = device(new byte[8], 1, 8);
        d.close();
        status(NvmeStatus.INTERNAL_ERROR, d.submit(new Command.Read(1, 0, 1)));
        device = null;
    }

    @Test
    void randomCommandsNeverThrow() throws Exception {
        CsdDevice d = device(new byte[3000], 2, 2000);
        Random r = new Random(15);
        List<Command> cmds = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            int slot = r.nextInt(6) - 1;
            long off = r.nextInt(4000) - 500;
            long len = r.nextInt(4000) - 500;
            cmds.add(switch (r.nextInt(8)) {
                case 0 -> LoadProgram.load(slot, r.nextBoolean() ? signed() : new byte[r.nextInt(50)]);
                case 1 -> LoadProgram.unload(slot);
                case 2 -> new ProgramActivation(slot, r.nextBoolean());
                case 3 -> MemoryRangeSetManagement.create(List.of(new MemoryRange(r.nextInt(4), off, len),
                        new MemoryRange(2, r.nextInt(100), r.nextInt(2000))));
                case 4 -> MemoryRangeSetManagement.delete(r.nextInt(5));
                case 5 -> new ExecuteProgram(slot, r.nextInt(5), r.nextInt(3), r.nextInt(4), r.nextInt(3) * 500);
                case 6 -> new Command.Read(r.nextInt(4), off, len);
                default -> new Command.MemoryRead(r.nextInt(4), off, len);
            });
        }
        for (Command c : cmds) {
            Completion done = d.submit(c);
            assertTrue(done.status() != NvmeStatus.INTERNAL_ERROR, c + " -> " + done);
        }
    }
}
