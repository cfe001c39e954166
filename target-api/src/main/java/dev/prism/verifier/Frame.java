package dev.prism.verifier;

import java.util.Arrays;

/**
 * One function's 512-byte stack as the verifier sees it: per byte whether it was written (and
 * whether with zero), and per aligned 8-byte slot the register value spilled there, so a
 * pointer saved and restored keeps its type.
 */
final class Frame {
    static final int SIZE = 512;
    static final byte INVALID = 0;
    static final byte MISC = 1;
    static final byte ZERO = 2;
    static final byte SPILL = 3;

    final byte[] types;
    final Value[] spills;
    /** Known byte values (0..255) of written bytes, or -1: constants stored by ST or STX. */
    final short[] known;
    /**
     * Deepest byte written: the frame's stack depth (for the 512-byte limit across calls). Every
     * byte below it ({@code index < SIZE - depth}) is still INVALID, with no known value and no
     * spill, since every write raises the depth to cover itself: the loops below skip them.
     */
    int depth;
    /** Set once another state holds this frame too: it must not change any more ({@link State#writableFrame}). */
    boolean shared;

    Frame() {
        types = new byte[SIZE];
        spills = new Value[SIZE / 8];
        known = new short[SIZE];
        java.util.Arrays.fill(known, (short) -1);
    }

    private Frame(Frame o) {
        types = o.types.clone();
        spills = o.spills.clone();
        known = o.known.clone();
        depth = o.depth;
    }

    /** {@return the little-endian value of [i, i + size) when every byte is known, else null} */
    Long constant(int i, int size) {
        long v = 0;
        for (int k = size - 1; k >= 0; k--) {
            if (known[i + k] < 0) {
                return null;
            }
            v = v << 8 | known[i + k];
        }
        return v;
    }

    /** Records the bytes of a constant. */
    void remember(int i, int size, long value) {
        for (int k = 0; k < size; k++) {
            known[i + k] = (short) ((value >>> (8 * k)) & 0xff);
        }
    }

    /** Forgets what was known of the bytes [i, i + size). */
    void forget(int i, int size) {
        Arrays.fill(known, i, i + size, (short) -1);
    }

    Frame copy() {
        return new Frame(this);
    }

    /** {@return index in {@link #types} of stack offset {@code off} (negative, from r10)} */
    static int index(long off) {
        return (int) (SIZE + off);
    }

    boolean covers(Frame o) {
        return covers(o, new IdMap());
    }

    /** {@return whether this (explored) frame covers {@code o}, renaming identities of spilled pointers in {@code ids}} */
    boolean covers(Frame o, IdMap ids) {
        for (int i = SIZE - depth; i < SIZE; i++) {
            byte mine = types[i];
            byte theirs = o.types[i];
            if (mine == INVALID) {
                continue; // never read on the old path
            }
            if (theirs == INVALID) {
                return false;
            }
            if (mine == SPILL) {
                if (theirs != SPILL) {
                    return false;
                }
                if (i % 8 == 0 && !State.covers(spills[i / 8], o.spills[i / 8], ids)) {
                    return false;
                }
            } else if (mine == ZERO && theirs != ZERO) {
                return false;
            } else if (theirs == SPILL && o.spills[(i - i % 8) / 8] instanceof Value.Ptr) {
                return false; // the old path read these bytes as a number: here they hold a pointer
            }
            if (known[i] >= 0 && o.known[i] != known[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@return whether the identities of the pointers spilled here agree with {@code ids}} (for a
     * frame the other state shares: every spill stands for itself), recording them.
     */
    boolean spillIdsMatch(IdMap ids) {
        for (int k = (SIZE - depth) / 8; k < spills.length; k++) {
            if (spills[k] instanceof Value.Ptr p && types[k * 8] == SPILL && !ids.match(p.id(), p.id(), p.kind() == Value.Kind.PACKET)) {
                return false;
            }
        }
        return true;
    }

    /** Joins the values spilled in slot {@code slot} (an 8-byte index) of two frames. */
    interface SpillJoin {
        Value join(Value a, Value b, int slot);
    }

    Frame join(Frame o, boolean widen, SpillJoin joiner) {
        Frame r = new Frame();
        r.depth = Math.max(depth, o.depth);
        int from = SIZE - r.depth;
        for (int i = from; i < SIZE; i++) {
            r.known[i] = known[i] == o.known[i] ? known[i] : -1;
            byte a = types[i];
            byte b = o.types[i];
            if (a == INVALID || b == INVALID) {
                r.types[i] = INVALID;
            } else if (a == b && a != SPILL) {
                r.types[i] = a;
            } else if (a == SPILL && b == SPILL) {
                r.types[i] = SPILL;
            } else {
                r.types[i] = MISC;
            }
        }
        for (int s = from / 8; s < spills.length; s++) {
            int base = s * 8;
            boolean spilled = true;
            for (int k = 0; k < 8; k++) {
                spilled &= r.types[base + k] == SPILL;
            }
            if (spilled && spills[s] != null && o.spills[s] != null) {
                Value j = joiner.join(spills[s], o.spills[s], s);
                if (j instanceof Value.Uninit) {
                    Arrays.fill(r.types, base, base + 8, MISC);
                } else {
                    r.spills[s] = j;
                }
            } else {
                for (int k = 0; k < 8; k++) {
                    if (r.types[base + k] == SPILL) {
                        r.types[base + k] = MISC;
                    }
                }
            }
        }
        return r;
    }
}
