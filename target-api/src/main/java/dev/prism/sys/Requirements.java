package dev.prism.sys;

import java.util.Locale;

/**
 * What the environment insists must be present. {@code PRISM_REQUIRE} is {@code all} or a comma
 * list of names ({@code linux,opencl}); a test that needs a named thing the host lacks is
 * skipped, unless that thing is required here, and then it fails (DESIGN.md, "Rules that hold
 * everywhere": CI sets {@code PRISM_REQUIRE=all} so a missing install step cannot hide behind
 * a green run).
 */
public final class Requirements {
    /** The environment variable read. */
    public static final String VARIABLE = "PRISM_REQUIRE";

    private Requirements() {
    }

    /** {@return true when {@code PRISM_REQUIRE} is "all" or lists {@code what} (case-insensitive)} */
    public static boolean required(String what) {
        return required(what, System.getenv(VARIABLE));
    }

    /**
     * Hardware a host may lack however it is set up: "all" does not cover it, only its name does
     * ({@code PRISM_REQUIRE=all,ptx} on a machine with an NVIDIA GPU). {@code ptx}: a CUDA device.
     */
    public static final java.util.Set<String> HARDWARE = java.util.Set.of("ptx");

    /** {@return true when {@code spec} ("all" or a comma list) names {@code what}} */
    static boolean required(String what, String spec) {
        if (spec == null) {
            return false;
        }
        String wanted = what.trim().toLowerCase(Locale.ROOT);
        for (String item : spec.split(",")) {
            String name = item.trim().toLowerCase(Locale.ROOT);
            if (name.equals("all") && !HARDWARE.contains(wanted) || name.equals(wanted)) {
                return true;
            }
        }
        return false;
    }
}
