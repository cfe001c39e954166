package dev.prism.csd.device;

import dev.prism.csd.ChunkKernel;
import dev.prism.csd.InterpreterChunkKernel;
import dev.prism.csd.image.FirmwareImage;
import dev.prism.csd.image.ProgramImages;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;

/**
 * Loads an image's {@code bpf} section onto the reference interpreter: the device downloads eBPF
 * as its vendor-specific program type and verifies it again itself (a device trusts the
 * signature for the origin, its own verifier for safety).
 */
public final class InterpreterKernelLoader implements KernelLoader {
    @Override
    public ChunkKernel load(FirmwareImage image) {
        return InterpreterChunkKernel.of(Verifier.verify(ProgramImages.program(image), Profile.RFC9669));
    }

    @Override
    public String description() {
        return "reference interpreter (the image's bpf section)";
    }
}
