package dev.prism.cli;

import dev.prism.csd.image.FirmwareImage;
import dev.prism.csd.image.ImageBuilder;
import dev.prism.error.VerificationException;
import dev.prism.program.Program;
import dev.prism.verifier.Profile;

/** The firmware image {@code prism csd sign | run | bench} build from a program. */
final class CsdImages {
    private CsdImages() {
    }

    /** {@return the unsigned image of {@code program} for the engines of {@code loader}} */
    static FirmwareImage build(Program program, dev.prism.csd.device.KernelLoader loader) {
        return build(program);
    }

    /** {@return the unsigned image of {@code program}} @throws CliException when the verifier refuses it */
    static FirmwareImage build(Program program) {
        try {
            return ImageBuilder.build(program, Profile.RFC9669, ImageBuilder.Firmware.NONE);
        } catch (VerificationException e) {
            throw new CliException("the verifier refused " + program.name() + ": " + e.getMessage(), Main.EXIT_FAILED, e);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(program.name() + ": " + e.getMessage());
        }
    }
}
