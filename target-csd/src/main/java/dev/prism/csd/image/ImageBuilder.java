package dev.prism.csd.image;

import dev.prism.program.Program;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds the unsigned image of a program: verifies it (a device only runs what the host's
 * verifier proved), records the features it requires, and adds the firmware builds.
 */
public final class ImageBuilder {
    private ImageBuilder() {
    }

    /**
     * {@return the unsigned image of {@code program}, with the code sections {@code firmware} adds}
     *
     * @throws dev.prism.error.VerificationException when the verifier refuses the program
     */
    public static FirmwareImage build(Program program, Profile profile, Firmware firmware) {
        VerifiedProgram verified = Verifier.verify(program, profile);
        return ProgramImages.unsigned(program, features(verified.requires()), firmware.builds(verified));
    }

    /** The firmware builds of a verified program: arch to code (none: a bytecode-only image). */
    @FunctionalInterface
    public interface Firmware {
        Firmware NONE = v -> Map.of();

        Map<String, byte[]> builds(VerifiedProgram verified);
    }

    /** {@return the verifier's requirements as the manifest's feature names} */
    static List<String> features(VerifiedProgram.Requires r) {
        List<String> out = new ArrayList<>();
        r.groups().stream().map(g -> g.name().toLowerCase(java.util.Locale.ROOT)).sorted().forEach(out::add);
        out.add("cpu " + r.version().name().toLowerCase(java.util.Locale.ROOT));
        r.mapTypes().stream().map(t -> "map " + t.id()).sorted().forEach(out::add);
        if (r.loops() > 0) {
            out.add("loops " + r.loops());
        }
        out.add("stack " + r.stackDepth());
        return out;
    }
}
