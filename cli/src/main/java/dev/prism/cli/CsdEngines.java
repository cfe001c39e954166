package dev.prism.cli;

import dev.prism.csd.FirmwareArch;
import dev.prism.csd.device.FirmwareKernelLoader;
import dev.prism.csd.device.InterpreterKernelLoader;
import dev.prism.csd.device.KernelLoader;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * What the emulated device's compute engines run, by the name {@code --engine} takes: the
 * reference interpreter over the image's bytecode, or a firmware build (x86-64 in-process,
 * aarch64 and riscv64 under qemu-user).
 */
final class CsdEngines {
    private CsdEngines() {
    }

    static List<String> names() {
        List<String> out = new ArrayList<>(List.of("interpreter"));
        for (FirmwareArch a : FirmwareArch.values()) {
            out.add(a.id());
        }
        return out;
    }

    static KernelLoader loader(String name) {
        if (name.equals("interpreter")) {
            return new InterpreterKernelLoader();
        }
        try {
            FirmwareArch arch = FirmwareArch.of(name);
            String why = arch.unavailable();
            if (why != null) {
                throw new CliException("--engine " + name + ": unavailable here: " + why, Main.EXIT_FAILED);
            }
            return new FirmwareKernelLoader(arch);
        } catch (IllegalArgumentException e) {
            throw CliException.usage("--engine " + name + ": known engines: " + String.join(", ", names()));
        }
    }

    /** {@return the firmware arch an engine runs, or null for the interpreter} */
    static FirmwareArch arch(KernelLoader loader) {
        return loader instanceof FirmwareKernelLoader f ? f.arch() : null;
    }

    static final class Names implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return names().iterator();
        }
    }
}
