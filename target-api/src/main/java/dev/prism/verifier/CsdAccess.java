package dev.prism.verifier;

import dev.prism.program.CsdContext;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Helpers;
import dev.prism.verifier.domain.Scalar;
import dev.prism.verifier.domain.ScalarAlu;

/**
 * The {@code csd} program type's context and regions ({@link CsdContext}). A csd program has two
 * packets: the chunk ({@code data}..{@code data_end}, read-only) and the output buffer
 * ({@code out}..{@code out_end}, writable). Both are packet pointers to the verifier, told apart
 * by the pointer's region number ({@link Value.Ptr#map}, unused for packets otherwise): every
 * packet rule (ranges proven by comparisons, shared variable parts, joins, pruning) then holds
 * for each alone, and a comparison of one region's pointer with the other's end proves nothing
 * (the comparison and the loop-bound code check the region). {@code data} loads with the fixed
 * identity 0, as XDP's; {@code out} with {@link #OUT_ID}, another fixed identity no counter
 * hands out, whose range states keep and compare like data's.
 */
final class CsdAccess {
    /** The region number of the chunk (as XDP's one packet). */
    static final int DATA_REGION = 0;
    /** The region number of the output buffer. */
    static final int OUT_REGION = 1;
    /** The identity of {@code out} as loaded from the context (-1 is data_meta's range key). */
    static final int OUT_ID = -2;

    private CsdAccess() {
    }

    /** {@return the value a load of {@code size} bytes at context offset {@code off} yields} */
    static Value ctx(Verifier v, int pc, long off, int size, boolean write) {
        if (write) {
            throw v.rejectAt(pc, "write to read-only context", "off=" + off + " size=" + size);
        }
        if (off < 0 || off + size > CsdContext.SIZE || off % size != 0) {
            throw v.rejectAt(pc, "invalid context access", "off=" + off + " size=" + size + " (the csd context is "
                    + CsdContext.SIZE + " bytes of 8-byte fields)");
        }
        if (off < CsdContext.OFFSET) {
            if (size != 8) {
                throw v.rejectAt(pc, "invalid context access", "off=" + off + " size=" + size
                        + " (data, data_end, out and out_end are 8-byte pointers)");
            }
            return switch ((int) off) {
                case CsdContext.DATA -> new Value.Ptr(Value.Kind.PACKET, 0, Scalar.constant(0), 0, DATA_REGION, false, 0, 0);
                case CsdContext.DATA_END -> new Value.Ptr(Value.Kind.PACKET_END, 0, Scalar.constant(0), 0, DATA_REGION, false, 0, 0);
                case CsdContext.OUT -> new Value.Ptr(Value.Kind.PACKET, 0, Scalar.constant(0), OUT_ID, OUT_REGION, false, 0, 0);
                default -> new Value.Ptr(Value.Kind.PACKET_END, 0, Scalar.constant(0), 0, OUT_REGION, false, 0, 0);
            };
        }
        return Value.scalar(ScalarAlu.load(size, false));
    }

    /** Refuses a write (a store, an atomic, a helper's output) into a csd program's chunk. */
    static void checkWrite(Verifier v, int pc, Value.Ptr p, String detail) {
        if (v.program().type() == ProgramType.CSD && p.kind() == Value.Kind.PACKET && p.map() == DATA_REGION) {
            throw v.rejectAt(pc, "write to read-only data", "the csd chunk (data) cannot be written: " + detail);
        }
    }

    /**
     * Refuses a helper the program type does not offer: csd programs get the map helpers, the
     * side-effect-free ones and {@link Helpers#CSD_READ}; no other program type gets that one.
     */
    static void checkHelper(Verifier v, int pc, int id, String name) {
        boolean csd = v.program().type() == ProgramType.CSD;
        if (id == Helpers.CSD_READ && !csd) {
            throw v.rejectAt(pc, "unknown helper", name + " is for csd programs only");
        }
        if (csd && !Helpers.CSD_ALLOWED.contains(id)) {
            throw v.rejectAt(pc, "unknown helper", name + " is not offered to csd programs");
        }
    }
}
