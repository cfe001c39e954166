package dev.prism.csd.device;

import dev.prism.csd.ChunkKernel;
import dev.prism.csd.Firmware;
import dev.prism.csd.FirmwareArch;
import dev.prism.csd.image.FirmwareImage;
import dev.prism.csd.image.ProgramImages;
import dev.prism.error.TargetException;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;

/**
 * Loads an image's firmware for one arch ({@link FirmwareSections}): the x86-64 build
 * in-process through FFM, aarch64 and riscv64 under qemu-user. The bytecode section is
 * verified again for the program's maps and context (the native code is the signer's word for
 * the same program).
 */
public final class FirmwareKernelLoader implements KernelLoader {
    private final FirmwareArch arch;

    public FirmwareKernelLoader(FirmwareArch arch) {
        this.arch = arch;
    }

    public FirmwareArch arch() {
        return arch;
    }

    @Override
    public ChunkKernel load(FirmwareImage image) {
        byte[] section = image.code(arch.id());
        if (section == null) {
            throw TargetException.unsupported("an image without " + arch.id() + " firmware (sections: "
                    + String.join(", ", image.arches()) + ")");
        }
        String why = arch.unavailable();
        if (why != null) {
            throw new TargetException("cannot run " + arch.id() + " firmware here: " + why);
        }
        VerifiedProgram verified = Verifier.verify(ProgramImages.program(image), Profile.RFC9669);
        return Firmware.load(verified, FirmwareSections.decode(arch, section));
    }

    @Override
    public String description() {
        return arch.id() + " firmware" + (arch.host() ? " (in-process)" : " (qemu-user)");
    }
}
