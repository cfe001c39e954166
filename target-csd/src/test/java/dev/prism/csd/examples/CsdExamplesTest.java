package dev.prism.csd.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.csd.FirmwareArch;
import dev.prism.csd.device.CsdDevice;
import dev.prism.csd.device.FirmwareKernelLoader;
import dev.prism.csd.device.FirmwareSections;
import dev.prism.csd.device.DeviceConfig;
import dev.prism.csd.device.InterpreterKernelLoader;
import dev.prism.csd.device.KernelLoader;
import dev.prism.csd.device.NvmNamespace;
import dev.prism.csd.host.ComputationalStorage;
import dev.prism.csd.host.ComputationalStorage.ComputeRequest;
import dev.prism.csd.host.ComputationalStorage.ComputeResult;
import dev.prism.csd.host.ComputationalStorage.DeviceMemory;
import dev.prism.csd.host.ComputationalStorage.MapElement;
import dev.prism.csd.host.ComputationalStorage.Range;
import dev.prism.csd.image.Ed25519Keys;
import dev.prism.csd.image.ImageBuilder;
import dev.prism.program.Program;
import dev.prism.sys.Requirements;
import dev.prism.verifier.Profile;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The three csd examples, signed, loaded and executed on the emulated device over random
 * files, against the answers computed here in Java straight from the file's bytes. The device
 * runs each kernel loader available: the reference interpreter over the image's bpf section,
 * the x86-64 firmware in-process, and on the smaller files the aarch64 and riscv64 firmware
 * under qemu-user. The nightly 1 GiB files run on the firmware only: the interpreter
 * would take many minutes there.
 *
 * <p>Sizes: {@code make test} runs files up to 64 MiB for the record programs and 1 MiB for the
 * byte-by-byte search (the interpreter steps about 34 instructions per byte); nightly
 * ({@code PRISM_NIGHTLY=1} or {@code -Dprism.nightly=true}) adds a 1 GiB file.
 */
class CsdExamplesTest {
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    private static final KeyPair KEY = Ed25519Keys.generate();
    private static final int RECORD = 32;

    @TempDir
    static Path tmp;

    /** Record-file sizes: odd tails (a cut record), one chunk, many chunks; 64 MiB; 1 GiB nightly. */
    static List<Long> recordSizes() {
        List<Long> s = new ArrayList<>(List.of(32L * 7 + 5, 32L * 1024 * 3 + 64, (1L << 20) + 96, 64L << 20));
        if (NIGHTLY) {
            s.add(1L << 30);
        }
        return s;
    }

    static List<Long> searchSizes() {
        List<Long> s = new ArrayList<>(List.of(1L, 7L, 100_003L, (1L << 20) + 5));
        if (NIGHTLY) {
            s.add(1L << 30);
        }
        return s;
    }

    /**
     * The interpreter (files up to 64 MiB) and the host firmware (in-process); with {@code cross},
     * also the aarch64 and riscv64 firmware under qemu-user. A firmware arch whose toolchain is
     * missing is left out, or fails the test when PRISM_REQUIRE names its target ("csd",
     * "csd-aarch64", "csd-riscv64") or is "all".
     */
    static List<KernelLoader> loaders(boolean cross, long size) {
        List<KernelLoader> out = new ArrayList<>();
        if (size <= 64L << 20) {
            // beyond, the interpreter would take many minutes (csd_search: ~34 instructions a byte)
            out.add(new InterpreterKernelLoader());
        }
        for (FirmwareArch a : FirmwareArch.values()) {
            if (!a.host() && !cross) {
                continue;
            }
            String why = a.unavailable();
            if (why == null) {
                out.add(new FirmwareKernelLoader(a));
            } else if (Requirements.required(target(a))) {
                throw new AssertionError(target(a) + " unavailable: " + why + " (required by " + Requirements.VARIABLE + ")");
            }
        }
        return out;
    }

    /** {@return the csd target id that runs {@code a}'s firmware: the requirement name} */
    private static String target(FirmwareArch a) {
        return a.host() ? "csd" : "csd-" + a.id();
    }

    private static final List<FirmwareArch> ARCHES = List.of(FirmwareArch.values());

    /** Writes a file of {@code size} random bytes; records get a kind in 0..7 so that filters select about 1/8. */
    private static Path randomFile(long size, boolean records, long seed) throws IOException {
        Path f = tmp.resolve((records ? "records-" : "bytes-") + size + ".bin");
        if (Files.exists(f)) {
            return f;
        }
        Random r = new Random(seed);
        byte[] block = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(f)) {
            for (long done = 0; done < size; done += block.length) {
                r.nextBytes(block);
                if (records) {
                    ByteBuffer b = ByteBuffer.wrap(block).order(ByteOrder.LITTLE_ENDIAN);
                    for (int i = 0; i + RECORD <= block.length; i += RECORD) {
                        b.putInt(i + 8, r.nextInt(8));
                    }
                } else {
                    // a small alphabet, so that patterns of a few bytes occur often
                    for (int i = 0; i < block.length; i++) {
                        block[i] = (byte) ('a' + (block[i] & 3));
                    }
                }
                out.write(block, 0, (int) Math.min(block.length, size - done));
            }
        }
        return f;
    }

    private record Run(ComputeResult result, byte[] out, Map<String, List<MapElement>> maps, CsdDevice.Stats stats) {
    }

    private static Run run(String example, Path file, KernelLoader loader, long p0, long p1, long outBytes) throws Exception {
        // csd_search takes chunks of at most 16 KiB (its verifier bound); the others the device's 32 KiB
        long chunk = example.equals("csd_search") ? 16 << 10 : 0;
        Program program = CsdExamples.program(example);
        byte[] image = ImageBuilder.build(program, Profile.RFC9669, FirmwareSections.of(ARCHES))
                .sign(KEY.getPrivate(), KEY.getPublic()).bytes();
        DeviceConfig cfg = DeviceConfig.defaults(List.of(Ed25519Keys.raw(KEY.getPublic())), loader)
                .withSlmBytes(outBytes).withEngines(4);
        try (CsdDevice device = new CsdDevice(NvmNamespace.map(file), cfg); ComputationalStorage cs = ComputationalStorage.open(device)) {
            int fn = cs.downloadFunction(image);
            DeviceMemory out = cs.allocMem(outBytes);
            long size = Files.size(file);
            ComputeResult r = cs.queueComputeRequest(new ComputeRequest(fn, List.of(new Range(0, size)), out, p0, p1, chunk)).get();
            assertTrue(r.ok(), example + " on " + loader.description() + ": " + r);
            return new Run(r, cs.copyFromDevice(out, 0, r.value()), cs.readMaps(fn), device.stats());
        }
    }

    private static ByteBuffer map(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size()).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    /**
     * The records a chunked filter sees: those wholly inside one 32 KiB chunk (the device's
     * default chunk is a multiple of 32, so every whole record of the file).
     */
    private static int records(ByteBuffer b) {
        return b.capacity() / RECORD;
    }

    @ParameterizedTest(name = "csd_filter over {0} bytes")
    @MethodSource("recordSizes")
    void filter(long size) throws Exception {
        Path file = randomFile(size, true, size);
        ByteBuffer b = map(file);
        int kind = 3;
        long minAmount = 0x8000_0000L;
        java.io.ByteArrayOutputStream expected = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < records(b); i++) {
            int at = i * RECORD;
            if (b.getInt(at + 8) == kind && Integer.toUnsignedLong(b.getInt(at + 12)) >= minAmount) {
                byte[] rec = new byte[RECORD];
                b.get(at, rec);
                expected.writeBytes(rec);
            }
        }
        for (KernelLoader loader : loaders(size <= (1 << 20) + 96, size)) {
            Run run = run("csd_filter", file, loader, kind, minAmount, Math.max(4096, size / 8));
            assertArrayEquals(expected.toByteArray(), run.out(), loader.description());
            assertEquals(run.out().length, run.stats().bytesToHost() - mapBytes(run), "only the matches (and the maps) cross");
        }
    }

    private static long mapBytes(Run run) {
        long n = 0;
        for (var e : run.maps().entrySet()) {
            n += 2 + e.getKey().length() + 4;
            for (MapElement m : e.getValue()) {
                n += 8 + m.key().length + m.value().length;
            }
        }
        return n;
    }

    @ParameterizedTest(name = "csd_aggregate over {0} bytes")
    @MethodSource("recordSizes")
    void aggregate(long size) throws Exception {
        Path file = randomFile(size, true, size);
        ByteBuffer b = map(file);
        for (long kind : new long[] {-1, 5}) {
            long count = 0;
            long sum = 0;
            long[] hist = new long[16];
            for (int i = 0; i < records(b); i++) {
                int at = i * RECORD;
                if (kind != -1 && b.getInt(at + 8) != kind) {
                    continue;
                }
                long amount = Integer.toUnsignedLong(b.getInt(at + 12));
                count++;
                sum += amount;
                hist[(int) (amount >>> 28)]++;
            }
            for (KernelLoader loader : loaders(size <= (1 << 20) + 96, size)) {
                Run run = run("csd_aggregate", file, loader, kind, 0, 4096);
                assertEquals(0, run.result().value());
                ByteBuffer totals = ByteBuffer.wrap(run.maps().get("totals").getFirst().value()).order(ByteOrder.LITTLE_ENDIAN);
                assertEquals(count, totals.getLong(0), loader.description() + ": count");
                assertEquals(sum, totals.getLong(8), loader.description() + ": sum");
                ByteBuffer h = ByteBuffer.wrap(run.maps().get("histogram").getFirst().value()).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < 16; i++) {
                    assertEquals(hist[i], h.getLong(8 * i), loader.description() + ": bucket " + i);
                }
            }
        }
    }

    private static boolean matchesAt(ByteBuffer b, long i, byte[] p) {
        for (int k = 0; k < p.length; k++) {
            if (b.get((int) i + k) != p[k]) {
                return false;
            }
        }
        return true;
    }

    @ParameterizedTest(name = "csd_search over {0} bytes")
    @MethodSource("searchSizes")
    void search(long size) throws Exception {
        Path file = randomFile(size, false, size + 1);
        ByteBuffer b = map(file);
        for (String pattern : new String[] {"abcd", "a", "dcbadcba", "ab"}) {
            byte[] p = pattern.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            long p0 = 0;
            for (int i = p.length - 1; i >= 0; i--) {
                p0 = p0 << 8 | (p[i] & 0xff);
            }
            // counted first: a list of every offset of "ab" in a 1 GiB file would not fit the heap
            long count = 0;
            for (long i = 0; i + p.length <= size; i++) {
                if (matchesAt(b, i, p)) {
                    count++;
                }
            }
            if (count > 1 << 20) {
                continue; // more offsets than the 8 MiB of device memory this test gives (the device says OUTPUT_OVERFLOW)
            }
            List<Long> expected = new ArrayList<>();
            for (long i = 0; i + p.length <= size; i++) {
                if (matchesAt(b, i, p)) {
                    expected.add(i);
                }
            }
            long outBytes = 8L * (expected.size() + 1);
            for (KernelLoader loader : loaders(size == 100_003, size)) {
                Run run = run("csd_search", file, loader, p0, p.length, Math.max(outBytes, 4096));
                long total = ByteBuffer.wrap(run.maps().get("matches").getFirst().value()).order(ByteOrder.LITTLE_ENDIAN).getLong();
                assertEquals(expected.size(), total, loader.description() + ": matches of " + pattern);
                ByteBuffer got = ByteBuffer.wrap(run.out()).order(ByteOrder.LITTLE_ENDIAN);
                List<Long> offsets = new ArrayList<>();
                while (got.hasRemaining()) {
                    offsets.add(got.getLong());
                }
                assertEquals(expected, offsets, loader.description() + ": offsets of " + pattern);
            }
        }
    }
}
