package dev.prism.isa;

/**
 * The conformance groups of the IANA "BPF Instruction Conformance Groups" registry
 * (RFC 9669 section 2.4), plus {@code callx}, which the instruction registry lists for 0x8d.
 * base64 includes base32, atomic64 includes atomic32, divmul64 includes divmul32.
 */
public enum Group {
    BASE32, BASE64, ATOMIC32, ATOMIC64, DIVMUL32, DIVMUL64, PACKET, CALLX;

    /** {@return the registry name, e.g. "base32"} */
    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** {@return the group named {@code id}} @throws IllegalArgumentException for an unknown name */
    public static Group of(String id) {
        for (Group g : values()) {
            if (g.id().equals(id)) {
                return g;
            }
        }
        throw new IllegalArgumentException("unknown conformance group '" + id
                + "' (known: base32, base64, atomic32, atomic64, divmul32, divmul64, packet, callx)");
    }

    @Override
    public String toString() {
        return id();
    }
}
