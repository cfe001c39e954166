package dev.prism.csd.device;

import dev.prism.csd.ChunkKernel;
import dev.prism.csd.image.FirmwareImage;

/**
 * What turns a verified, signed image into something the compute engines run: the device's
 * firmware loader. The host build through FFM, a cross build under qemu-user and the reference
 * interpreter over the image's {@code bpf} section are each one.
 */
public interface KernelLoader {
    /**
     * {@return the loaded program}
     *
     * @throws RuntimeException (a {@link dev.prism.error.TargetException}, an
     *                          {@link IllegalArgumentException}) saying why the engines cannot run
     *                          the image: no code for their architecture, a map type they lack
     */
    ChunkKernel load(FirmwareImage image);

    /** {@return what the engines run, e.g. "reference interpreter", "x86-64 firmware (in-process)"} */
    String description();
}
