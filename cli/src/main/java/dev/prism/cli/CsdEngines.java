package dev.prism.cli;

import dev.prism.csd.device.InterpreterKernelLoader;
import dev.prism.csd.device.KernelLoader;
import java.util.Iterator;
import java.util.List;

/** What the emulated device's compute engines run, by the name {@code --engine} takes. */
final class CsdEngines {
    private CsdEngines() {
    }

    static final List<String> NAMES = List.of("interpreter");

    static KernelLoader loader(String name) {
        return switch (name) {
            case "interpreter" -> new InterpreterKernelLoader();
            default -> throw CliException.usage("--engine " + name + ": known engines: " + String.join(", ", NAMES));
        };
    }

    static final class Names implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return NAMES.iterator();
        }
    }
}
