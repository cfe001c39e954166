package dev.prism.csd;

import dev.prism.error.TargetException;
import dev.prism.program.Program;
import dev.prism.verifier.VerifiedProgram;

/**
 * The firmware path from a verified program to something that runs: lower
 * ({@link FirmwareC}), build ({@link FirmwareBuild}), load ({@link FirmwareKernel}: in-process
 * for x86-64, under qemu-user for aarch64 and riscv64).
 */
public final class Firmware {
    private Firmware() {
    }

    /** {@return {@code verified} lowered, built for {@code arch} and loaded} */
    public static FirmwareKernel load(VerifiedProgram verified, FirmwareArch arch) {
        String source = FirmwareC.lower(verified);
        if (arch.host()) {
            return new HostFirmwareKernel(verified.normalized(), FirmwareBuild.sharedObject(source), null);
        }
        return load(verified, FirmwareBuild.of(source, arch));
    }

    /**
     * {@return a build of {@code verified} loaded} (a device loading the code of a firmware
     * image: the host build needs its shared object, a cross build its code image)
     */
    public static FirmwareKernel load(VerifiedProgram verified, FirmwareBuild build) {
        Program p = verified.normalized();
        if (build.arch().host()) {
            if (build.shared().length == 0) {
                throw new TargetException("the x86-64 build has no shared object to load");
            }
            return new HostFirmwareKernel(p, build.shared(), null);
        }
        return new QemuFirmwareKernel(p, build, null);
    }
}
