package dev.prism.testing;

import dev.prism.target.Availability;
import dev.prism.sys.LinuxBpf;
import dev.prism.sys.Requirements;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Skip-or-fail for tests that need something from the host (DESIGN.md, "Rules that hold
 * everywhere"): when it is missing the test is skipped with the reason, unless
 * {@code PRISM_REQUIRE} names it (or is "all"), and then the test fails with the reason.
 * Other modules reach this class through target-api's test-jar.
 */
public final class Host {
    private Host() {
    }

    /**
     * Returns when {@code ok}; otherwise fails when {@code what} is required, else aborts the
     * test as skipped.
     */
    public static void require(String what, boolean ok, String reason) {
        if (ok) {
            return;
        }
        String message = what + " unavailable: " + reason;
        if (Requirements.required(what)) {
            Assertions.fail(message + " (required by " + Requirements.VARIABLE + ")");
        }
        Assumptions.abort(message);
    }

    /**
     * Skips the test because the running kernel was built without {@code what} (it refuses it
     * by name, e.g. "program of this type cannot use helper"): not a tool the set-up can
     * install, so it is skipped with the reason even when {@code PRISM_REQUIRE} is "all".
     */
    public static void kernelLacks(String what, String reason) {
        Assumptions.abort("the running kernel lacks " + what + ": " + reason);
    }

    /** {@return whether an executable named {@code tool} is on PATH} */
    public static boolean onPath(String tool) {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Requires a working bpf() ({@link LinuxBpf#availability()}), under the name "linux". */
    public static void requireLinuxBpf() {
        Availability a = LinuxBpf.availability();
        require("linux", a.available(), a.reason());
    }
}
