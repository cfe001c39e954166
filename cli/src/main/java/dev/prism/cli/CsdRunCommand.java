package dev.prism.cli;

import dev.prism.csd.device.CsdDevice;
import dev.prism.csd.device.DeviceConfig;
import dev.prism.csd.device.KernelLoader;
import dev.prism.csd.device.NvmNamespace;
import dev.prism.csd.host.ComputationalStorage;
import dev.prism.csd.host.ComputationalStorage.ComputeRequest;
import dev.prism.csd.host.ComputationalStorage.ComputeResult;
import dev.prism.csd.host.ComputationalStorage.DeviceMemory;
import dev.prism.csd.host.ComputationalStorage.MapElement;
import dev.prism.csd.host.ComputationalStorage.Range;
import dev.prism.csd.host.CsException;
import dev.prism.csd.image.Ed25519Keys;
import dev.prism.csd.image.FirmwareImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code prism csd run}: one csd program over a file, on the emulated NVMe computational-storage device. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run a csd program on the emulated NVMe computational-storage device, over a file as its "
                + "NVM namespace: compile (verify and pack the firmware image), sign, Load Program, activate, "
                + "Execute Program over the ranges, and print r0 (the output bytes), the start of the output, "
                + "the maps and the bytes that crossed to the host.",
                "FILE may also be a signed image ('prism csd sign'); then --key names a public key the device "
                        + "trusts (an image signed by another key is refused, as a drive would).",
                "Exit 0: the program ran. Exit 1: the device refused a command or the program failed (its status "
                        + "is printed). Exit 2: bad input."})
final class CsdRunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ParentCommand
    CsdCommand csd;

    @Mixin
    ProgramFile input;

    @Option(names = "--namespace", paramLabel = "FILE", required = true,
            description = "The file the NVM namespace holds (mapped read-only).")
    Path namespace;

    @Option(names = "--ranges", paramLabel = "OFF:LEN[,...]",
            description = "Byte ranges of the namespace to process (decimal or 0x hex; K, M, G suffixes); default: the whole file.")
    String ranges;

    @Option(names = "--key", paramLabel = "KEY",
            description = "Sign with this key file ('prism csd keygen'); the device trusts its public key. Without it "
                    + "the program is signed with an ephemeral development key, made for this run and not saved.")
    Path key;

    @Option(names = "--param0", paramLabel = "N", defaultValue = "0", converter = Sizes.Converter.class,
            description = "Execute Program's first parameter (ctx->param0).")
    long param0;

    @Option(names = "--param1", paramLabel = "N", defaultValue = "0", converter = Sizes.Converter.class,
            description = "Its second parameter (ctx->param1).")
    long param1;

    @Option(names = "--chunk", paramLabel = "BYTES", defaultValue = "32K", converter = Sizes.Converter.class,
            description = "Chunk size, at most 65535 (default: ${DEFAULT-VALUE}).")
    long chunk;

    @Option(names = "--out-size", paramLabel = "BYTES", defaultValue = "16M", converter = Sizes.Converter.class,
            description = "Device memory for the output (default: ${DEFAULT-VALUE}).")
    long outSize;

    @Option(names = "--engines", paramLabel = "N", description = "Compute engines (default: one per CPU).")
    Integer engines;

    @Option(names = "--engine", paramLabel = "E", defaultValue = "interpreter",
            description = "What the compute engines run: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).",
            completionCandidates = CsdEngines.Names.class)
    String engine;

    @Option(names = {"-o", "--out"}, paramLabel = "F", description = "Write the output bytes to F.")
    Path outFile;

    @Override
    public Integer call() {
        if (chunk < 1 || chunk > CsdDevice.MAX_CHUNK) {
            throw CliException.usage("--chunk " + chunk + ": chunks are 1.." + CsdDevice.MAX_CHUNK + " bytes");
        }
        if (outSize < 1) {
            throw CliException.usage("--out-size must be positive");
        }
        if (engines != null && engines < 1) {
            throw CliException.usage("--engines must be at least 1");
        }
        PrintWriter out = spec.commandLine().getOut();
        byte[] bytes = Io.read(input.file, csd.main.stdin());
        FirmwareImage image;
        byte[] trusted;
        if (CsdCommand.isImage(bytes)) {
            if (key == null) {
                throw CliException.usage(input.file + " is a signed image: give --key with the public key the device trusts");
            }
            image = CsdCommand.parseImage(input.file, bytes);
            trusted = CsdCommand.readTrusted(key, csd.main);
            out.println("image: " + input.file + " (" + bytes.length + " bytes, signed by "
                    + (image.signature() == null ? "nobody" : "key " + image.signature().keyId()) + ")");
        } else {
            KernelLoader loader = CsdEngines.loader(engine);
            image = CsdImages.build(input.load(csd.main.stdin()).program(), loader);
            KeyPair pair = key == null ? Ed25519Keys.generate() : CsdCommand.readKey(key, csd.main);
            image = image.sign(pair.getPrivate(), pair.getPublic());
            trusted = Ed25519Keys.raw(pair.getPublic());
            out.println("image: " + image.bytes().length + " bytes, sections " + String.join(", ", image.arches())
                    + ", signed by " + (key == null ? "an ephemeral development key " + image.signature().keyId()
                    + " (made for this run, not saved; --key signs with yours)" : "key " + image.signature().keyId()));
        }
        List<Range> input = ranges == null ? null : parseRanges(ranges);
        KernelLoader loader = CsdEngines.loader(engine);
        DeviceConfig cfg = DeviceConfig.defaults(List.of(trusted), loader).withSlmBytes(outSize).withChunkBytes(chunk);
        if (engines != null) {
            cfg = cfg.withEngines(engines);
        }
        NvmNamespace ns;
        try {
            ns = NvmNamespace.map(namespace);
        } catch (IOException e) {
            throw CliException.usage("cannot map " + namespace + ": " + e.getMessage());
        }
        try (CsdDevice device = new CsdDevice(ns, cfg); ComputationalStorage cs = ComputationalStorage.open(device)) {
            var props = cs.queryDeviceProperties();
            out.println("device: " + props.storageBytes() + "-byte namespace, " + props.computeEngines() + " engines running "
                    + props.engine() + ", " + props.deviceMemoryBytes() + " bytes of device memory");
            if (input == null) {
                if (props.storageBytes() == 0) {
                    throw CliException.usage(namespace + " is empty: nothing to process");
                }
                input = List.of(new Range(0, props.storageBytes()));
            }
            int fn;
            try {
                fn = cs.downloadFunction(image.bytes());
            } catch (CsException e) {
                throw new CliException("the device refused the program: " + e.getMessage(), Main.EXIT_FAILED, e);
            }
            DeviceMemory mem = cs.allocMem(outSize);
            long t0 = System.nanoTime();
            ComputeResult r = cs.queueComputeRequest(new ComputeRequest(fn, input, mem, param0, param1, chunk)).get();
            long nanos = System.nanoTime() - t0;
            if (!r.ok()) {
                throw new CliException("Execute Program: " + r.status() + ": " + r.detail()
                        + (r.value() != 0 ? " (result " + r.value() + ")" : ""), Main.EXIT_FAILED);
            }
            out.println("r0 = " + r.value() + " (output bytes)");
            byte[] output = cs.copyFromDevice(mem, 0, r.value());
            if (output.length > 0) {
                out.println("output: " + HexFormat.of().formatHex(output, 0, Math.min(64, output.length))
                        + (output.length > 64 ? " ..." : ""));
            }
            if (outFile != null) {
                Io.write(outFile, output);
                out.println("output written to " + outFile);
            }
            for (Map.Entry<String, List<MapElement>> m : cs.readMaps(fn).entrySet()) {
                printMap(out, m.getKey(), m.getValue());
            }
            CsdDevice.Stats s = device.stats();
            out.printf("device processed %d bytes in %d chunks in %.1f ms; %d bytes crossed to the host%n",
                    s.bytesProcessed(), s.chunks(), nanos / 1e6, s.bytesToHost());
            return Main.EXIT_OK;
        } catch (CsException e) {
            throw new CliException(e.getMessage(), Main.EXIT_FAILED, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted", Main.EXIT_FAILED, e);
        } catch (ExecutionException e) {
            throw new CliException("compute request failed: " + e.getCause(), Main.EXIT_INTERNAL, e);
        }
    }

    /** Prints a map's elements whose value is not all zero. */
    static void printMap(PrintWriter out, String name, List<MapElement> elements) {
        List<MapElement> shown = new ArrayList<>();
        for (MapElement e : elements) {
            for (byte b : e.value()) {
                if (b != 0) {
                    shown.add(e);
                    break;
                }
            }
        }
        out.println("map " + name + ": " + elements.size() + " elements" + (shown.size() < elements.size()
                ? ", " + shown.size() + " not zero" : ""));
        for (MapElement e : shown.subList(0, Math.min(shown.size(), 32))) {
            out.println("  " + HexFormat.of().formatHex(e.key()) + " -> " + HexFormat.of().formatHex(e.value()));
        }
        if (shown.size() > 32) {
            out.println("  ... " + (shown.size() - 32) + " more");
        }
    }

    static List<Range> parseRanges(String text) {
        List<Range> out = new ArrayList<>();
        for (String part : text.split(",")) {
            int colon = part.indexOf(':');
            if (colon < 0) {
                throw CliException.usage("--ranges " + part + ": expected OFF:LEN");
            }
            try {
                out.add(new Range(Sizes.parse(part.substring(0, colon)), Sizes.parse(part.substring(colon + 1))));
            } catch (IllegalArgumentException e) {
                throw CliException.usage("--ranges " + part + ": " + e.getMessage());
            }
        }
        return out;
    }
}
