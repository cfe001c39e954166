package dev.prism.target;

/**
 * Whether a target can run on this host, and why not when it cannot
 * ("unavailable: bpf() failed with EPERM (not root?)").
 */
public record Availability(boolean available, String reason) {
    public static Availability yes(String how) {
        return new Availability(true, how);
    }

    public static Availability no(String reason) {
        return new Availability(false, reason);
    }

    @Override
    public String toString() {
        return available ? "available" + (reason.isEmpty() ? "" : " (" + reason + ")") : "unavailable: " + reason;
    }
}
