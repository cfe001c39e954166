package dev.prism.conformance;

import java.util.Locale;

/** The outcome of one case on one target. */
public enum Status {
    /** The target did what the case expects. */
    PASS,
    /** The target computed something else, or refused a program that should run. */
    FAIL,
    /** Not run, with a reason: unavailable target, unsupported feature, known difference. */
    SKIP,
    /** The harness or target broke in a way that is not an answer (an unexpected exception). */
    ERROR;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
