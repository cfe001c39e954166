package dev.prism.csd;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The machines the firmware is built for, with the Debian toolchain of each: gcc for the host
 * (x86-64), {@code aarch64-linux-gnu-gcc} and {@code riscv64-linux-gnu-gcc} (Debian
 * {@code gcc-aarch64-linux-gnu}, {@code gcc-riscv64-linux-gnu}) for the drive cores a real
 * device has, run here under qemu-user ({@code qemu-aarch64-static}, {@code qemu-riscv64-static}
 * from {@code qemu-user-static}, invoked explicitly: no binfmt).
 */
public enum FirmwareArch {
    X86_64("x86-64", "", null, List.of()),
    /** {@code -mno-outline-atomics}: gcc would otherwise call libgcc's __aarch64_ldadd8_acq_rel and friends. */
    AARCH64("aarch64", "aarch64-linux-gnu-", "qemu-aarch64-static", List.of("-mno-outline-atomics")),
    RISCV64("riscv64", "riscv64-linux-gnu-", "qemu-riscv64-static", List.of());

    private final String id;
    private final String prefix;
    private final String qemu;
    private final List<String> flags;

    FirmwareArch(String id, String prefix, String qemu, List<String> flags) {
        this.id = id;
        this.prefix = prefix;
        this.qemu = qemu;
        this.flags = flags;
    }

    /** {@return "x86-64", "aarch64" or "riscv64"} */
    public String id() {
        return id;
    }

    /** {@return the C compiler's command name} */
    public String gcc() {
        return prefix + "gcc";
    }

    /** {@return the command name of binutils tool {@code tool} for this arch ("objcopy")} */
    public String binutil(String tool) {
        return prefix + tool;
    }

    /** {@return the qemu-user command that runs this arch's binaries, or null for the host} */
    public String qemu() {
        return qemu;
    }

    /** {@return whether this is the host's own arch (built as a shared object and run in-process)} */
    public boolean host() {
        return qemu == null;
    }

    /** {@return flags this arch's gcc needs besides the common ones} */
    public List<String> flags() {
        return flags;
    }

    /** {@return the arch with this id} @throws IllegalArgumentException naming the known ones */
    public static FirmwareArch of(String id) {
        for (FirmwareArch a : values()) {
            if (a.id.equals(id)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown firmware arch '" + id + "' (known: x86-64, aarch64, riscv64)");
    }

    /** {@return why this arch's firmware cannot be built and run here, or null when it can} */
    public String unavailable() {
        if (host() && !System.getProperty("os.arch").equals("amd64")) {
            return "the host build is x86-64 and this JVM runs on " + System.getProperty("os.arch");
        }
        if (!System.getProperty("os.name").equals("Linux")) {
            return "the firmware toolchains are Linux's (Debian gcc" + (host() ? "" : ", " + gcc() + ", qemu-user-static") + ")";
        }
        for (String tool : host() ? List.of(gcc(), binutil("objcopy")) : List.of(gcc(), binutil("objcopy"), qemu)) {
            if (onPath(tool) == null) {
                return tool + " is not on PATH (Debian " + (tool.startsWith("qemu") ? "qemu-user-static"
                        : tool.equals("gcc") ? "gcc" : tool.endsWith("gcc") ? "gcc-" + prefix.substring(0, prefix.length() - 1)
                        : "binutils" + (prefix.isEmpty() ? "" : "-" + prefix.substring(0, prefix.length() - 1))) + "; make setup)";
            }
        }
        return null;
    }

    static Path onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }
}
