package dev.prism.cli;

import dev.prism.csd.ChunkKernel;
import dev.prism.csd.FirmwareArch;
import dev.prism.csd.device.CsdDevice;
import dev.prism.csd.device.DeviceConfig;
import dev.prism.csd.device.FirmwareKernelLoader;
import dev.prism.csd.device.FirmwareSections;
import dev.prism.csd.device.NvmNamespace;
import dev.prism.csd.host.ComputationalStorage;
import dev.prism.csd.host.ComputationalStorage.ComputeRequest;
import dev.prism.csd.host.ComputationalStorage.ComputeResult;
import dev.prism.csd.host.ComputationalStorage.DeviceMemory;
import dev.prism.csd.host.ComputationalStorage.MapElement;
import dev.prism.csd.host.ComputationalStorage.Range;
import dev.prism.csd.image.Ed25519Keys;
import dev.prism.csd.image.FirmwareImage;
import dev.prism.elf.ElfObject;
import dev.prism.error.PrismException;
import dev.prism.program.Program;
import dev.prism.target.ChunkRunner;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import dev.prism.x86.X86Jit;
import dev.prism.x86.X86Target;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code prism csd bench}: what offload saves. For the three csd examples over one file each,
 * in one run: the device running the firmware and returning only results, against the host
 * reading the whole file (NVM Read) and running the same program itself; then code sizes.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Benchmark computational storage on the emulated device: for examples/csd/csd_filter.c, "
                + "csd_aggregate.c and csd_search.c over a random file of --size bytes, the time and the bytes "
                + "that cross to the host when the device runs the x86-64 firmware and returns only results "
                + "(offload), against the host reading the whole file with NVM Reads and running the program "
                + "itself (host); both with --engines threads. Then the code size of each program: bytecode, "
                + "x86-64 JIT, and the gcc firmware per arch.",
                "The host side runs twice: the x86-64 firmware build (gcc, in-process, --engines threads) and the "
                        + "x86-64 JIT (one instance, whose runs are serialized, so effectively one thread).",
                "Example: prism csd bench --size 1G"})
final class CsdBenchCommand implements Callable<Integer> {
    private static final int RECORD = 32;

    @Spec
    CommandSpec spec;

    @ParentCommand
    CsdCommand csd;

    @Option(names = "--size", paramLabel = "BYTES", defaultValue = "64M", converter = Sizes.Converter.class,
            description = "Bytes of each generated file (default: ${DEFAULT-VALUE}; the issue's figure is 1G).")
    long size;

    @Option(names = "--examples", paramLabel = "DIR", description = "The examples directory: its csd/ holds the "
            + "sources, its include/ the headers (default: examples under PRISM_ROOT or the current directory).")
    Path examples;

    @Option(names = "--engines", paramLabel = "N", description = "Threads on each side (default: one per CPU).")
    Integer engines;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "3",
            description = "Runs per side and example; the fastest is reported (default: ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--dir", paramLabel = "DIR", description = "Where to write the generated files (default: a temporary directory, removed after).")
    Path dir;

    private final List<String> jitNotes = new ArrayList<>();

    private record Example(String name, boolean records, long param0, long param1, long chunk) {
    }

    private static final List<Example> EXAMPLES = List.of(
            new Example("csd_filter", true, 3, 0xf000_0000L, 32 << 10),
            new Example("csd_aggregate", true, -1, 0, 32 << 10),
            new Example("csd_search", false, 0x6463_6261L, 4, 16 << 10));

    /** One side's outcome: time, bytes to the host, and what it computed (output bytes, map values) to compare. */
    private record Outcome(long nanos, long bytesToHost, long outBytes, long outHash, Map<String, String> maps) {
    }

    @Override
    public Integer call() throws Exception {
        if (repeat < 1) {
            throw CliException.usage("--repeat must be at least 1");
        }
        if (size < RECORD) {
            throw CliException.usage("--size must be at least " + RECORD + " bytes");
        }
        FirmwareArch host = FirmwareArch.X86_64;
        String why = host.unavailable();
        if (why != null) {
            throw new CliException("the x86-64 firmware cannot run here: " + why, Main.EXIT_FAILED);
        }
        int threads = engines == null ? Runtime.getRuntime().availableProcessors() : engines;
        if (threads < 1) {
            throw CliException.usage("--engines must be at least 1");
        }
        Path sources = examples != null ? examples : root().resolve("examples");
        PrintWriter out = spec.commandLine().getOut();
        Path work = dir != null ? dir : Files.createTempDirectory("prism-csd-bench-");
        KeyPair key = Ed25519Keys.generate();
        List<String[]> rows = new ArrayList<>();
        List<String[]> sizes = new ArrayList<>();
        try {
            Path records = generate(work.resolve("records.bin"), true);
            Path text = generate(work.resolve("text.bin"), false);
            out.printf("files: %s and %s, %d bytes each; %d threads per side; device engines run x86-64 firmware%n",
                    records, text, size, threads);
            out.flush();
            for (Example e : EXAMPLES) {
                Program program = compile(sources, work, e.name());
                FirmwareImage image = CsdImages.build(program, List.of(FirmwareArch.values()))
                        .sign(key.getPrivate(), key.getPublic());
                Path file = e.records() ? records : text;
                Outcome off = null;
                Outcome hostRun = null;
                Outcome jitRun = null;
                for (int i = 0; i < repeat; i++) {
                    Outcome o = offload(image, file, e, threads, key);
                    Outcome h = hostRun(new FirmwareKernelLoader(FirmwareArch.X86_64).load(image), file, e, threads, key);
                    Outcome j = hostRun(jitKernel(program), file, e, threads, key);
                    off = off == null || o.nanos() < off.nanos() ? o : off;
                    hostRun = hostRun == null || h.nanos() < hostRun.nanos() ? h : hostRun;
                    jitRun = jitRun == null || j.nanos() < jitRun.nanos() ? j : jitRun;
                }
                boolean agree = off.outBytes() == hostRun.outBytes() && off.outHash() == hostRun.outHash()
                        && off.maps().equals(hostRun.maps());
                boolean jitAgrees = off.outBytes() == jitRun.outBytes() && off.outHash() == jitRun.outHash()
                        && off.maps().equals(jitRun.maps());
                rows.add(row(e.name(), "offload", off, size, agree && jitAgrees));
                rows.add(row(e.name(), "host fw", hostRun, size, agree));
                rows.add(row(e.name(), "host JIT", jitRun, size, jitAgrees));
                sizes.add(codeSizes(e.name(), program, image));
            }
        } finally {
            if (dir == null) {
                for (String f : List.of("records.bin", "text.bin")) {
                    Files.deleteIfExists(work.resolve(f));
                }
                try (var s = Files.list(work)) {
                    for (Path p : s.toList()) {
                        Files.deleteIfExists(p);
                    }
                }
                Files.deleteIfExists(work);
            }
        }
        table(out, new String[] {"example", "path", "ms", "MB/s", "bytes to host", "of file", "result", "agree"}, rows);
        out.println();
        out.println("code size in bytes (firmware: the position-independent code image gcc -O2 produced)");
        table(out, new String[] {"example", "bpf", "x86-64 JIT", "x86-64 fw", "aarch64 fw", "riscv64 fw"}, sizes);
        for (String note : jitNotes) {
            out.println("x86-64 JIT: " + note);
        }
        out.printf("times: the fastest of %d runs; offload = Execute Program + reading back the output and the maps; "
                + "host = NVM Reads of the whole file + running the program (fw: the x86-64 firmware on --engines threads; "
                + "JIT: the x86-64 JIT, runs serialized)%n", repeat);
        return Main.EXIT_OK;
    }

    private static String[] row(String name, String path, Outcome o, long size, boolean agree) {
        double ms = o.nanos() / 1e6;
        return new String[] {name, path, String.format("%.1f", ms), String.format("%.0f", size / 1e6 / (o.nanos() / 1e9)),
                Long.toString(o.bytesToHost()), String.format("%.4f%%", 100.0 * o.bytesToHost() / size),
                o.outBytes() + " out bytes" + (o.maps().isEmpty() ? "" : ", maps " + String.join(" ", o.maps().keySet())),
                agree ? "yes" : "NO"};
    }

    private String[] codeSizes(String name, Program program, FirmwareImage image) {
        String jit;
        try {
            jit = Integer.toString(X86Jit.compile(Verifier.verify(program, Profile.RFC9669)).code().length);
        } catch (PrismException e) {
            jit = "refused";
            String first = e.getMessage().replaceFirst(" \\(and \\d+ more\\)$", "");
            if (!jitNotes.contains(first)) {
                jitNotes.add(first);
            }
        }
        List<String> row = new ArrayList<>(List.of(name, Integer.toString(image.code("bpf").length), jit));
        for (FirmwareArch a : FirmwareArch.values()) {
            byte[] s = image.code(a.id());
            row.add(s == null ? "(no " + a.gcc() + ")" : Integer.toString(FirmwareSections.codeSize(s)));
        }
        return row.toArray(String[]::new);
    }

    private static void table(PrintWriter out, String[] head, List<String[]> rows) {
        int[] w = new int[head.length];
        for (int i = 0; i < head.length; i++) {
            w[i] = head[i].length();
            for (String[] r : rows) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        StringBuilder f = new StringBuilder();
        for (int i = 0; i < head.length; i++) {
            f.append(i == 0 ? "" : "  ").append("%-").append(w[i]).append('s');
        }
        f.append("%n");
        out.printf(f.toString(), (Object[]) head);
        for (String[] r : rows) {
            out.printf(f.toString(), (Object[]) r);
        }
        out.flush();
    }

    private static Path root() {
        String env = System.getenv("PRISM_ROOT");
        return env != null ? Path.of(env) : Path.of("");
    }

    private Path generate(Path f, boolean records) throws IOException {
        Random r = new Random(records ? 1 : 2);
        byte[] block = new byte[1 << 20];
        try (OutputStream o = Files.newOutputStream(f)) {
            for (long done = 0; done < size; done += block.length) {
                r.nextBytes(block);
                if (records) {
                    ByteBuffer b = ByteBuffer.wrap(block).order(ByteOrder.LITTLE_ENDIAN);
                    for (int i = 0; i + RECORD <= block.length; i += RECORD) {
                        b.putInt(i + 8, r.nextInt(8));
                    }
                } else {
                    for (int i = 0; i < block.length; i++) {
                        block[i] = (byte) ('a' + (block[i] & 7));
                    }
                }
                o.write(block, 0, (int) Math.min(block.length, size - done));
            }
        }
        return f;
    }

    private static Program compile(Path sources, Path work, String name) throws IOException, InterruptedException {
        Path c = sources.resolve("csd/" + name + ".c");
        if (!Files.isRegularFile(c)) {
            throw CliException.usage("no " + c + " (--examples names the directory of the example sources)");
        }
        Path o = work.resolve(name + ".o");
        Process p = new ProcessBuilder("clang-19", "-O2", "-g", "-target", "bpf", "-mcpu=v3", "-I",
                sources.resolve("include").toString(), "-Wall", "-c", c.toString(), "-o", o.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new CliException("clang-19 failed on " + c + ":\n" + log, Main.EXIT_FAILED);
        }
        return ElfObject.load(o).program();
    }

    private static DeviceConfig config(KeyPair key, int threads, long slm) {
        return DeviceConfig.defaults(List.of(Ed25519Keys.raw(key.getPublic())), new FirmwareKernelLoader(FirmwareArch.X86_64))
                .withEngines(threads).withSlmBytes(slm);
    }

    private Outcome offload(FirmwareImage image, Path file, Example e, int threads, KeyPair key) throws Exception {
        long slm = Math.max(1 << 20, size / 4);
        try (CsdDevice device = new CsdDevice(NvmNamespace.map(file), config(key, threads, slm));
             ComputationalStorage cs = ComputationalStorage.open(device)) {
            int fn = cs.downloadFunction(image.bytes());
            DeviceMemory mem = cs.allocMem(slm);
            long t0 = System.nanoTime();
            ComputeResult r = cs.queueComputeRequest(new ComputeRequest(fn, List.of(new Range(0, size)), mem, e.param0(),
                    e.param1(), e.chunk())).get();
            if (!r.ok()) {
                throw new CliException(e.name() + " on the device: " + r.status() + ": " + r.detail(), Main.EXIT_FAILED);
            }
            byte[] output = cs.copyFromDevice(mem, 0, r.value());
            Map<String, List<MapElement>> maps = cs.readMaps(fn);
            long nanos = System.nanoTime() - t0;
            Map<String, String> mapText = new LinkedHashMap<>();
            maps.forEach((name, els) -> mapText.put(name, els.stream()
                    .map(m -> java.util.HexFormat.of().formatHex(m.key()) + "=" + java.util.HexFormat.of().formatHex(m.value()))
                    .toList().toString()));
            return new Outcome(nanos, device.stats().bytesToHost(), output.length, Arrays.hashCode(output), mapText);
        }
    }

    /** {@return the program on the x86-64 JIT (X86Target through its ChunkRunner) as a chunk kernel} */
    private static ChunkKernel jitKernel(Program program) {
        Executable exe = new X86Target().load(List.of(program));
        if (!(exe instanceof ChunkRunner runner)) {
            exe.close();
            throw new CliException("the x86-64 JIT's executable does not run csd chunks", Main.EXIT_FAILED);
        }
        return new ChunkKernel() {
            @Override
            public long run(MemorySegment namespace, long chunkOffset, long chunkLength, MemorySegment out, long param0, long param1) {
                return runner.runChunk(namespace, chunkOffset, chunkLength, out, param0, param1);
            }

            @Override
            public MapAccess maps() {
                return exe.maps();
            }

            @Override
            public String description() {
                return "x86-64 JIT";
            }

            @Override
            public void close() {
                exe.close();
            }
        };
    }

    /** The host reads every byte with NVM Reads of 1 MiB, then runs {@code loaded} (closed here) over the same chunks. */
    private Outcome hostRun(ChunkKernel loaded, Path file, Example e, int threads, KeyPair key) throws Exception {
        try (ChunkKernel kernel = loaded;
             CsdDevice device = new CsdDevice(NvmNamespace.map(file), config(key, 1, 1));
             ComputationalStorage cs = ComputationalStorage.open(device);
             Arena arena = Arena.ofShared()) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                long t0 = System.nanoTime();
                MemorySegment buffer = arena.allocate(size, 64);
                for (long at = 0; at < size; at += 1 << 20) {
                    byte[] b = cs.readStorage(at, Math.min(1 << 20, size - at));
                    MemorySegment.copy(MemorySegment.ofArray(b), 0, buffer, at, b.length);
                }
                int n = (int) ((size + e.chunk() - 1) / e.chunk());
                byte[][] outs = new byte[n][];
                List<Future<?>> fs = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    int index = i;
                    fs.add(pool.submit(() -> {
                        try (Arena local = Arena.ofConfined()) {
                            MemorySegment o = local.allocate(CsdDevice.MAX_CHUNK, 64);
                            long off = (long) index * e.chunk();
                            long r0 = kernel.run(buffer, off, Math.min(e.chunk(), size - off), o, e.param0(), e.param1());
                            if (r0 < 0) {
                                throw new IllegalStateException(e.name() + " returned " + r0 + " at byte " + off);
                            }
                            outs[index] = o.asSlice(0, r0).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get();
                }
                java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
                for (byte[] o : outs) {
                    all.writeBytes(o);
                }
                MapAccess maps = kernel.maps();
                Map<String, String> mapText = new LinkedHashMap<>();
                for (var def : maps.defs()) {
                    List<String> els = new ArrayList<>();
                    for (byte[] k : maps.keys(def.name())) {
                        byte[] v = maps.lookup(def.name(), k);
                        if (v != null) {
                            els.add(java.util.HexFormat.of().formatHex(k) + "=" + java.util.HexFormat.of().formatHex(v));
                        }
                    }
                    mapText.put(def.name(), els.toString());
                }
                long nanos = System.nanoTime() - t0;
                byte[] output = all.toByteArray();
                return new Outcome(nanos, device.stats().bytesToHost(), output.length, Arrays.hashCode(output), mapText);
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
