package dev.prism.csd;

import dev.prism.error.TargetException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Firmware C compiled for one arch: {@code -ffreestanding -nostdlib}, no libc, nothing from
 * libgcc. Two forms come out of one compile:
 * <ul>
 * <li>the <b>code image</b>: the program's .text and .rodata as one position-independent blob,
 *     linked at address 0 with {@code prism_entry} at {@link #entry()}; what a drive's loader
 *     (the qemu harness here) maps and calls, what a firmware image hashes, and the code size
 *     reported. Position independence is checked, not assumed: the blob is linked at two bases
 *     and must come out byte-identical (so no absolute address is in it: {@code
 *     -fno-jump-tables} keeps switch tables out, and the runtime has no global data);</li>
 * <li>for the host arch, the <b>shared object</b> ({@code -shared -fPIC -nostdlib -Wl,-z,defs}:
 *     no undefined symbol) the host loads in-process through FFM.</li>
 * </ul>
 * Builds are cached by (arch, source) for the JVM's life (a raw program verified per memory
 * size lowers to the same C each time).
 *
 * @param arch   what it was built for
 * @param source the C source
 * @param image  the code image (empty from {@link #sharedObject})
 * @param entry  prism_entry's offset in the image (-1 without one)
 * @param shared the host shared object's bytes; empty for cross builds
 */
public record FirmwareBuild(FirmwareArch arch, String source, byte[] image, long entry, byte[] shared) {
    /** The flags every firmware file is compiled with (see prism_fw.h). */
    public static final List<String> FLAGS = List.of("-std=gnu11", "-O2", "-ffreestanding", "-nostdlib", "-fno-builtin",
            "-fno-strict-aliasing", "-fwrapv", "-fno-stack-protector", "-fno-tree-loop-distribute-patterns", "-fno-jump-tables",
            "-fno-asynchronous-unwind-tables", "-fno-unwind-tables", "-fPIC", "-Wall", "-Wno-unused-label",
            "-Wno-unused-function", "-Wno-unused-variable", "-Wno-unused-but-set-variable");
    private static final long SECOND_BASE = 0x10000;
    private static final int CACHE = 64;
    private static final Map<String, FirmwareBuild> BUILT = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, FirmwareBuild> e) {
            return size() > CACHE;
        }
    };

    public FirmwareBuild {
        image = image.clone();
        shared = shared.clone();
    }

    @Override
    public byte[] image() {
        return image.clone();
    }

    @Override
    public byte[] shared() {
        return shared.clone();
    }

    /** {@return the SHA-256 of the code image, hex} */
    public String imageSha256() {
        return HexFormat.of().formatHex(sha256(image));
    }

    /**
     * {@return {@code source} built for {@code arch}}
     *
     * @throws TargetException when the toolchain is missing or refuses the source (with its output)
     */
    public static FirmwareBuild of(String source, FirmwareArch arch) {
        return of(source, arch, true);
    }

    /**
     * {@return the host shared object of {@code source}}, without the code image (one compile
     * and one link: what running on the host needs)
     */
    public static byte[] sharedObject(String source) {
        return of(source, FirmwareArch.X86_64, false).shared;
    }

    private static FirmwareBuild of(String source, FirmwareArch arch, boolean withImage) {
        String key = arch.id() + ":" + withImage + ":" + HexFormat.of().formatHex(sha256(source.getBytes(StandardCharsets.UTF_8)));
        synchronized (BUILT) {
            FirmwareBuild b = BUILT.get(key);
            if (b != null) {
                return b;
            }
        }
        String why = arch.unavailable();
        if (why != null) {
            throw new TargetException("cannot build " + arch.id() + " firmware: " + why);
        }
        FirmwareBuild b = build(source, arch, withImage);
        synchronized (BUILT) {
            BUILT.put(key, b);
        }
        return b;
    }

    private static FirmwareBuild build(String source, FirmwareArch arch, boolean withImage) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("prism-csd-");
            Path c = dir.resolve("fw.c");
            Files.writeString(c, source);
            Path o = dir.resolve("fw.o");
            List<String> cc = new ArrayList<>(List.of(arch.gcc()));
            cc.addAll(FLAGS);
            cc.addAll(arch.flags());
            List<String> compile = new ArrayList<>(cc);
            compile.addAll(List.of("-c", c.toString(), "-o", o.toString()));
            run(compile, dir);
            byte[] image0 = new byte[0];
            long entry = -1;
            if (withImage) {
                image0 = image(arch, dir, o, 0);
                byte[] image1 = image(arch, dir, o, SECOND_BASE);
                if (!Arrays.equals(image0, image1)) {
                    throw new TargetException("internal error: the " + arch.id() + " firmware code is not position-independent"
                            + " (linked at 0 and at 0x" + Long.toHexString(SECOND_BASE) + " it differs)");
                }
                entry = entry(Files.readAllBytes(dir.resolve("fw-0.elf")));
            }
            byte[] shared = new byte[0];
            if (arch.host()) {
                Path so = dir.resolve("fw.so");
                run(List.of(arch.gcc(), "-shared", "-nostdlib", "-Wl,-z,defs", "-o", so.toString(), o.toString()), dir);
                shared = Files.readAllBytes(so);
            }
            return new FirmwareBuild(arch, source, image0, entry, shared);
        } catch (IOException e) {
            throw new TargetException("cannot build " + arch.id() + " firmware: " + e.getMessage(), e);
        } finally {
            deleteTree(dir);
        }
    }

    /** Links the object at {@code base} with the image script and {@return the flat image} (text, then rodata). */
    private static byte[] image(FirmwareArch arch, Path dir, Path o, long base) throws IOException {
        Path script = dir.resolve("fw-" + base + ".ld");
        Files.writeString(script, """
                ENTRY(prism_entry)
                SECTIONS {
                  . = 0x%x;
                  .text : { *(.text .text.*) *(.rodata .rodata.* .srodata .srodata.*) }
                  /DISCARD/ : { *(.comment) *(.note .note.*) *(.eh_frame .eh_frame_hdr) *(.riscv.attributes) *(.data .data.* .bss .bss.* .sdata .sbss .got .got.plt) }
                }
                """.formatted(base));
        Path elf = dir.resolve("fw-" + base + ".elf");
        run(List.of(arch.gcc(), "-nostdlib", "-static", "-Wl,--build-id=none", "-Wl,-T," + script, "-o", elf.toString(),
                o.toString()), dir);
        Path bin = dir.resolve("fw-" + base + ".bin");
        run(List.of(arch.binutil("objcopy"), "-O", "binary", "-j", ".text", elf.toString(), bin.toString()), dir);
        return Files.readAllBytes(bin);
    }

    /** {@return e_entry of a little-endian ELF64 file} */
    private static long entry(byte[] elf) {
        if (elf.length < 32 || elf[0] != 0x7f || elf[1] != 'E' || elf[4] != 2 || elf[5] != 1) {
            throw new TargetException("internal error: the linked firmware is not a little-endian ELF64 file");
        }
        return ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN).getLong(24);
    }

    private static void run(List<String> command, Path dir) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        Process p = pb.start();
        byte[] out;
        try (var in = p.getInputStream()) {
            out = in.readAllBytes();
        }
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new TargetException(command.get(0) + " took more than 120 s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new TargetException(command.get(0) + " was interrupted");
        }
        if (p.exitValue() != 0) {
            String text = new String(out, StandardCharsets.UTF_8);
            throw new TargetException(command.get(0) + " failed (exit " + p.exitValue() + "): "
                    + (text.length() > 4000 ? text.substring(0, 4000) + "..." : text));
        }
    }

    static void deleteTree(Path dir) {
        if (dir == null) {
            return;
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // a temporary directory left behind is harmless
        }
    }

    static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FirmwareBuild b && arch == b.arch && source.equals(b.source) && entry == b.entry
                && Arrays.equals(image, b.image) && Arrays.equals(shared, b.shared);
    }

    @Override
    public int hashCode() {
        return source.hashCode() * 31 + arch.hashCode();
    }

    @Override
    public String toString() {
        return "FirmwareBuild[" + arch.id() + ", " + image.length + " bytes of code, entry 0x" + Long.toHexString(entry) + "]";
    }
}
