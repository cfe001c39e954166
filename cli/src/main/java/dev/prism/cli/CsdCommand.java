package dev.prism.cli;

import dev.prism.csd.FirmwareArch;
import dev.prism.csd.image.Ed25519Keys;
import dev.prism.csd.image.FirmwareImage;
import dev.prism.csd.image.ImageFormatException;
import dev.prism.csd.image.ImageSignatureException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code prism csd}: computational-storage firmware images (target-csd): keys, signing,
 * verification, and running a program inside the NVMe device emulator.
 */
@Command(name = "csd", mixinStandardHelpOptions = true,
        description = {"Computational storage: eBPF as signed drive firmware, run inside an NVMe Computational "
                + "Programs device emulator (target-csd).",
                "keygen makes an Ed25519 key; sign builds a program's firmware image and signs it; verify checks an "
                        + "image against trusted keys; run and bench execute programs over a file on the emulated device."},
        subcommands = {CsdCommand.Keygen.class, CsdCommand.Sign.class, CsdCommand.Verify.class, CsdRunCommand.class,
                CsdBenchCommand.class})
final class CsdCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ParentCommand
    Main main;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return Main.EXIT_OK;
    }

    static String text(String file, byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** {@return the key pair in key file {@code file}} */
    static KeyPair readKey(Path file, Main main) {
        try {
            return Ed25519Keys.readPrivate(text(file.toString(), Io.read(file.toString(), main.stdin())));
        } catch (IllegalArgumentException e) {
            throw CliException.usage(file + ": " + e.getMessage());
        }
    }

    /** {@return the raw public key of a .pub file or a key file} */
    static byte[] readTrusted(Path file, Main main) {
        try {
            return Ed25519Keys.raw(Ed25519Keys.readPublic(text(file.toString(), Io.read(file.toString(), main.stdin()))));
        } catch (IllegalArgumentException e) {
            throw CliException.usage(file + ": " + e.getMessage());
        }
    }

    /** {@return the image in {@code bytes}} @throws CliException naming the file and offset */
    static FirmwareImage parseImage(String file, byte[] bytes) {
        try {
            return FirmwareImage.parse(bytes);
        } catch (ImageFormatException e) {
            throw CliException.usage(file + ": malformed firmware image: " + e.getMessage());
        }
    }

    static boolean isImage(byte[] bytes) {
        byte[] magic = "PRISMCSD".getBytes(StandardCharsets.US_ASCII);
        return bytes.length >= magic.length && Arrays.equals(bytes, 0, magic.length, magic, 0, magic.length);
    }

    @Command(name = "keygen", mixinStandardHelpOptions = true,
            description = {"Make an Ed25519 signing key (the JDK's own EdDSA): KEY holds the private key and its "
                    + "public key as PEM blocks (mode 600), KEY.pub the public key alone, which a device trusts."})
    static final class Keygen implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = {"-o", "--out"}, paramLabel = "KEY", required = true, description = "The key file to write (and KEY.pub).")
        Path out;

        @Option(names = "--force", description = "Replace existing files.")
        boolean force;

        @Override
        public Integer call() {
            Path pub = Path.of(out + ".pub");
            for (Path p : List.of(out, pub)) {
                if (Files.exists(p) && !force) {
                    throw CliException.usage(p + " exists; --force replaces it");
                }
            }
            KeyPair pair = Ed25519Keys.generate();
            Io.write(out, Ed25519Keys.privatePem(pair).getBytes(StandardCharsets.US_ASCII));
            try {
                Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException | java.io.IOException e) {
                // a file system without POSIX modes: the key is written all the same
            }
            Io.write(pub, Ed25519Keys.publicPem(pair.getPublic()).getBytes(StandardCharsets.US_ASCII));
            spec.commandLine().getOut().println("key " + Ed25519Keys.keyId(Ed25519Keys.raw(pair.getPublic())) + ": "
                    + out + " (private), " + pub + " (public)");
            return Main.EXIT_OK;
        }
    }

    @Command(name = "sign", mixinStandardHelpOptions = true,
            description = {"Build a program's csd firmware image and sign it with KEY (Ed25519), or re-sign an image.",
                    "FILE is a program (as for every command: ELF object, assembler, raw, hex) or a firmware image. A "
                            + "program is verified first, then packed: its bytecode as the 'bpf' section (the "
                            + "vendor-specific program type the device downloads) plus the firmware C built by gcc for "
                            + "each --arch whose toolchain is here, every section with its SHA-256 in the manifest.",
                    "Exit 0: written. Exit 1: the verifier refused the program. Exit 2: bad input."})
    static final class Sign implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @ParentCommand
        CsdCommand csd;

        @Mixin
        ProgramFile input;

        @Option(names = "--key", paramLabel = "KEY", required = true, description = "The key file from 'prism csd keygen'.")
        Path key;

        @Option(names = {"-o", "--out"}, paramLabel = "IMAGE", required = true, description = "The signed image to write.")
        Path out;

        @Option(names = "--arch", paramLabel = "A[,A...]", defaultValue = "all",
                description = "Firmware builds to include: x86-64, aarch64, riscv64, all (those whose gcc is here), "
                        + "none (bytecode only) (default: ${DEFAULT-VALUE}).")
        String archList;

        @Override
        public Integer call() {
            KeyPair pair = readKey(key, csd.main);
            byte[] bytes = Io.read(input.file, csd.main.stdin());
            List<FirmwareArch> arches = new ArrayList<>();
            for (String a : archList.split(",")) {
                if (a.equals("all")) {
                    arches.addAll(List.of(FirmwareArch.values()));
                } else if (!a.equals("none")) {
                    try {
                        arches.add(FirmwareArch.of(a));
                    } catch (IllegalArgumentException e) {
                        throw CliException.usage("--arch " + a + ": " + e.getMessage());
                    }
                }
            }
            FirmwareImage image = isImage(bytes) ? parseImage(input.file, bytes)
                    : CsdImages.build(input.load(csd.main.stdin()).program(), arches);
            FirmwareImage signed = image.sign(pair.getPrivate(), pair.getPublic());
            byte[] written = signed.bytes();
            Io.write(out, written);
            spec.commandLine().getOut().println("signed " + out + " (" + written.length + " bytes, sections "
                    + String.join(", ", signed.arches()) + ") with key " + signed.signature().keyId());
            return Main.EXIT_OK;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = {"Check a firmware image as a device does at Load Program: it parses (a malformed image is named "
                    + "with the file offset), it is signed, by one of the trusted keys, the signature verifies, and every code "
                    + "section matches its SHA-256. Prints the manifest.",
                    "Exit 0: valid. Exit 1: refused (unsigned, tampered, unknown key). Exit 2: malformed or bad input."})
    static final class Verify implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @ParentCommand
        CsdCommand csd;

        @Parameters(index = "0", paramLabel = "IMAGE", description = "The firmware image.")
        String image;

        @Option(names = "--key", paramLabel = "PUB", required = true,
                description = "A trusted public key: a .pub file or a key file (repeatable).")
        List<Path> keys = new ArrayList<>();

        @Override
        public Integer call() {
            List<byte[]> trusted = keys.stream().map(k -> readTrusted(k, csd.main)).toList();
            FirmwareImage parsed = parseImage(image, Io.read(image, csd.main.stdin()));
            PrintWriter out = spec.commandLine().getOut();
            out.print(parsed.describe());
            try {
                parsed.verify(trusted);
            } catch (ImageSignatureException e) {
                throw new CliException(image + ": refused (" + e.kind().name().toLowerCase(java.util.Locale.ROOT)
                        .replace('_', ' ') + "): " + e.getMessage(), Main.EXIT_FAILED);
            }
            out.println("valid: signed by trusted key " + parsed.signature().keyId());
            return Main.EXIT_OK;
        }
    }
}
