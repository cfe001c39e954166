package dev.prism.program;

/**
 * The context of a {@code csd} program (target-csd, DESIGN.md "Program types and contexts"):
 * what r1 points to when the program runs over one chunk of a memory range set. One layout for
 * the program and every backend (no rewriting as for {@code struct xdp_md}): all fields are
 * 64-bit, so a pointer needs no widening, the namespace offset and the Execute Program
 * parameters (64-bit in the command) fit as they are, and the struct is the one the firmware
 * entry receives.
 * <pre>
 *   struct prism_csd_md {        offset  what
 *       __u64 data;               0      first byte of the chunk (read-only)
 *       __u64 data_end;           8      one past its last byte
 *       __u64 out;               16      first byte of the output buffer (writable)
 *       __u64 out_end;           24      one past its last byte
 *       __u64 offset;            32      the chunk's byte offset in the namespace
 *       __u64 param0;            40      the Execute Program command's first parameter
 *       __u64 param1;            48      its second
 *   };
 * </pre>
 * The verifier treats data/data_end and out/out_end as two packets: an access through
 * {@code data} or {@code out} must be proven below {@code data_end} / {@code out_end} by a
 * comparison, as XDP's packet accesses are. The context itself is read-only; pointers are read
 * with 8-byte loads, the scalar fields with any aligned load inside the field. A chunk and an
 * output buffer are each at most {@link #MAX_REGION} bytes, the verifier's largest packet.
 */
public final class CsdContext {
    /** Bytes of the context. */
    public static final int SIZE = 56;
    public static final int DATA = 0;
    public static final int DATA_END = 8;
    public static final int OUT = 16;
    public static final int OUT_END = 24;
    public static final int OFFSET = 32;
    public static final int PARAM0 = 40;
    public static final int PARAM1 = 48;
    /** The largest chunk or output buffer: the verifier's largest packet offset (Linux's MAX_PACKET_OFF). */
    public static final int MAX_REGION = 0xffff;

    private CsdContext() {
    }
}
