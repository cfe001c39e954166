package dev.prism.program;

import java.util.Locale;

/**
 * What a program is attached to, which fixes what it receives in r1 (DESIGN.md, "Program types
 * and contexts").
 */
public enum ProgramType {
    /** Conformance programs: r1 = memory pointer (or 0), r2 = its length, r10 = 512-byte stack. */
    RAW,
    /** XDP: r1 = struct xdp_md, Linux layout. */
    XDP,
    /** tc / sched_cls: r1 = struct __sk_buff. */
    TC,
    /** socket filter: r1 = struct __sk_buff. */
    SOCKET,
    /**
     * A computational-storage program: one chunk of a memory range set, r1 = the context of
     * {@link CsdContext} (target-csd, DESIGN.md "Program types and contexts").
     */
    CSD;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@return the type named {@code id}: raw, xdp, tc, socket or csd} */
    public static ProgramType of(String id) {
        for (ProgramType t : values()) {
            if (t.id().equalsIgnoreCase(id)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown program type '" + id + "' (known: raw, xdp, tc, socket, csd)");
    }
}
