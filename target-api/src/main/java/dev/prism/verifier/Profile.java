package dev.prism.verifier;

import java.util.Locale;

/**
 * Which rules the verifier applies. {@code rfc9669} follows the standard; {@code linux} also
 * refuses what Linux 6.x refuses, so users can predict whether the kernel will accept a program.
 */
public enum Profile {
    RFC9669, LINUX;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Profile of(String id) {
        for (Profile p : values()) {
            if (p.id().equalsIgnoreCase(id)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown profile '" + id + "' (known: rfc9669, linux)");
    }
}
