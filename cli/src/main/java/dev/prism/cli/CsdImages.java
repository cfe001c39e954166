package dev.prism.cli;

import dev.prism.csd.FirmwareArch;
import dev.prism.csd.device.FirmwareSections;
import dev.prism.csd.device.KernelLoader;
import dev.prism.csd.image.FirmwareImage;
import dev.prism.csd.image.ImageBuilder;
import dev.prism.error.TargetException;
import dev.prism.error.VerificationException;
import dev.prism.program.Program;
import dev.prism.verifier.Profile;
import java.util.List;

/** The firmware image {@code prism csd sign | run | bench} build from a program. */
final class CsdImages {
    private CsdImages() {
    }

    /** {@return the unsigned image of {@code program} with the firmware the engines of {@code loader} run} */
    static FirmwareImage build(Program program, KernelLoader loader) {
        FirmwareArch arch = CsdEngines.arch(loader);
        return build(program, arch == null ? List.of() : List.of(arch));
    }

    /**
     * {@return the unsigned image of {@code program}: its bytecode and the firmware for each of
     * {@code arches} whose toolchain is here}
     *
     * @throws CliException when the verifier refuses it or a build fails
     */
    static FirmwareImage build(Program program, List<FirmwareArch> arches) {
        try {
            return ImageBuilder.build(program, Profile.RFC9669, FirmwareSections.of(arches));
        } catch (VerificationException e) {
            throw new CliException("the verifier refused " + program.name() + ": " + e.getMessage(), Main.EXIT_FAILED, e);
        } catch (TargetException e) {
            throw new CliException(program.name() + ": " + e.getMessage(), Main.EXIT_FAILED, e);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(program.name() + ": " + e.getMessage());
        }
    }
}
