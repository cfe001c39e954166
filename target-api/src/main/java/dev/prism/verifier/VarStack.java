package dev.prism.verifier;

import dev.prism.verifier.domain.Scalar;
import dev.prism.verifier.domain.ScalarAlu;
import dev.prism.verifier.domain.Tnum;

/**
 * Stack accesses at a variable offset: {@code r10 + c + x} with x a bounded scalar, as in
 * {@code buf[i & 15]} on an array on the stack. Linux allows them to privileged loaders
 * (check_stack_read_var_off, check_stack_write_var_off); Prism allows them in both profiles,
 * with Linux's bounds and alignment rules and a sound initialization rule of its own:
 * <ul>
 *   <li>every byte any possible offset may touch, [min, max + size), lies in the frame, and
 *       the offset's known low bits (its tnum) make every possible offset a multiple of the
 *       size (Linux's strict stack alignment);
 *   <li>a read needs every byte of that range initialized and none of it part of a spilled
 *       pointer (Linux run as root reads uninitialized stack and pointer bytes; Prism refuses
 *       both, as at constant offsets). What it reads is an unknown number of the load's size,
 *       0 when every byte in the range is a known zero;
 *   <li>a write changes bytes that are initialized already into unknown ones (ZERO stays ZERO
 *       for a stored zero); bytes only some offsets reach that were never written stay
 *       uninitialized, since the write may miss them, and bytes every offset reaches,
 *       [max, min + size), become initialized. Spills in the range are lost: a spilled scalar's
 *       bytes stay readable as unknown bytes, a spilled pointer's become unreadable (its other
 *       bytes would still hold part of an address).
 * </ul>
 */
final class VarStack {
    private VarStack() {
    }

    /**
     * Checks and performs a load or store of {@code size} bytes at {@code p + off}, p a stack
     * pointer with a variable part; {@return the loaded value} (for stores, the stored value)
     */
    static Value access(Verifier v, int pc, State s, Value.Ptr p, long off, int size, boolean write, Value stored,
                        boolean signExtend) {
        long lo = p.minOffset() + off;
        long hi = p.maxOffset() + off + size;
        String where = "variable offset " + p.var() + ", off=" + lo + ".." + (hi - size) + " size=" + size;
        if (lo < -Frame.SIZE || hi > 0) {
            throw v.rejectAt(pc, "invalid stack access", where + " (frame of " + Frame.SIZE + " bytes)");
        }
        if (!aligned(p, off, size)) {
            throw v.rejectAt(pc, "invalid stack access", "misaligned: " + where + " (offset bits " + p.var().bits()
                    + "; Linux requires aligned stack accesses)");
        }
        if (write && stored instanceof Value.Ptr) {
            throw v.rejectAt(pc, "pointer leak", "storing a pointer at a variable stack offset (" + where + ")");
        }
        if (write) {
            boolean zero = stored instanceof Value.Scal z && z.s().isConstant()
                    && (size == 8 ? z.s().constantValue() == 0 : (z.s().constantValue() & ((1L << (8 * size)) - 1)) == 0);
            write(v, pc, s, p.map(), lo, hi, p.maxOffset() + off, p.minOffset() + off + size, zero);
            return stored;
        }
        boolean allZero = readable(v, pc, s.frames.get(p.map()), lo, hi, where);
        return Value.scalar(allZero ? Scalar.constant(0) : ScalarAlu.load(size, signExtend));
    }

    /** {@return whether every offset p + off may take is a multiple of size} */
    static boolean aligned(Value.Ptr p, long off, int size) {
        Tnum at = p.var().bits().add(Tnum.of(p.fixed() + off));
        long low = size - 1L;
        return (at.mask() & low) == 0 && (at.value() & low) == 0;
    }

    /**
     * Checks that [lo, hi) of a frame may be read as data; {@return whether every byte is a known zero}
     */
    static boolean readable(Verifier v, int pc, Frame f, long lo, long hi, String where) {
        boolean allZero = true;
        for (long o = lo; o < hi; o++) {
            int k = Frame.index(o);
            if (f.types[k] == Frame.INVALID) {
                throw v.rejectAt(pc, "read of uninitialized stack", "off=" + o + " may be read and was not written (" + where + ")");
            }
            if (f.types[k] == Frame.SPILL && f.spills[(k - k % 8) / 8] instanceof Value.Ptr) {
                throw v.rejectAt(pc, "pointer leak", "off=" + o + " may be a byte of a spilled pointer (" + where + ")");
            }
            allZero &= f.types[k] == Frame.ZERO;
        }
        return allZero;
    }

    /**
     * A write somewhere in [lo, hi) of frame {@code frame}: every offset from lo to hi - size
     * is possible, so [sureLo, sureHi) is written whatever the offset (empty when sureLo is not
     * below sureHi) and the rest perhaps.
     */
    static void write(Verifier v, int pc, State s, int frame, long lo, long hi, long sureLo, long sureHi, boolean zero) {
        Frame f = s.writableFrame(frame);
        for (long o = lo; o < hi; o++) {
            int k = Frame.index(o);
            int slot = k / 8;
            if (f.spills[slot] != null) {
                boolean pointer = f.spills[slot] instanceof Value.Ptr;
                for (int b = slot * 8; b < slot * 8 + 8; b++) {
                    if (f.types[b] == Frame.SPILL) {
                        f.types[b] = pointer ? Frame.INVALID : Frame.MISC;
                    }
                }
                f.spills[slot] = null;
            }
            boolean sure = o >= sureLo && o < sureHi;
            byte t = f.types[k];
            if (t == Frame.INVALID && !sure) {
                continue; // perhaps never written: still unreadable
            }
            f.types[k] = zero && (t == Frame.ZERO || sure) ? Frame.ZERO : Frame.MISC;
            f.known[k] = -1;
        }
        // the depth covers every byte the write may reach (the frame's size counts them)
        s.raiseDepth(f, (int) -lo);
        v.stackSizeCheck(pc, s);
    }
}
