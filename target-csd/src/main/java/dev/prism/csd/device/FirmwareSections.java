package dev.prism.csd.device;

import dev.prism.csd.FirmwareArch;
import dev.prism.csd.FirmwareBuild;
import dev.prism.csd.FirmwareC;
import dev.prism.csd.image.ImageBuilder;
import dev.prism.verifier.VerifiedProgram;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The firmware builds as code sections of a firmware image, one per arch, named by the arch id
 * ("x86-64", "aarch64", "riscv64"). A section's layout (little-endian):
 * <pre>
 *   u64  entry: prism_entry's offset in the code image
 *   u32  code image length N
 *   N    the code image (position-independent .text + .rodata: what a drive's loader maps)
 *   ...  the rest: the host build's ELF shared object (what this host loads through FFM); empty for cross builds
 * </pre>
 */
public final class FirmwareSections {
    private FirmwareSections() {
    }

    /** {@return the image builder's firmware hook that builds for {@code arches} (those whose toolchain is missing are left out)} */
    public static ImageBuilder.Firmware of(List<FirmwareArch> arches) {
        return verified -> {
            Map<String, byte[]> out = new LinkedHashMap<>();
            String source = FirmwareC.lower(verified);
            for (FirmwareArch a : arches) {
                if (a.unavailable() == null) {
                    out.put(a.id(), encode(FirmwareBuild.of(source, a)));
                }
            }
            return out;
        };
    }

    static byte[] encode(FirmwareBuild b) {
        byte[] image = b.image();
        byte[] shared = b.arch().host() ? b.shared() : new byte[0];
        ByteBuffer out = ByteBuffer.allocate(12 + image.length + shared.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(b.entry()).putInt(image.length).put(image).put(shared);
        return out.array();
    }

    /** {@return the build a section holds} @throws IllegalArgumentException when it is too short */
    public static FirmwareBuild decode(FirmwareArch arch, byte[] section) {
        if (section.length < 12) {
            throw new IllegalArgumentException("the " + arch.id() + " section is " + section.length + " bytes, shorter than its 12-byte header");
        }
        ByteBuffer in = ByteBuffer.wrap(section).order(ByteOrder.LITTLE_ENDIAN);
        long entry = in.getLong();
        int n = in.getInt();
        if (n < 0 || n > section.length - 12) {
            throw new IllegalArgumentException("the " + arch.id() + " section's code image length " + n + " passes its end");
        }
        byte[] image = Arrays.copyOfRange(section, 12, 12 + n);
        byte[] shared = Arrays.copyOfRange(section, 12 + n, section.length);
        return new FirmwareBuild(arch, "", image, entry, shared);
    }

    /** {@return the code image's size in a section (the firmware code size)} */
    public static int codeSize(byte[] section) {
        return ByteBuffer.wrap(section).order(ByteOrder.LITTLE_ENDIAN).getInt(8);
    }
}
