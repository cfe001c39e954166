package dev.prism.verifier;

import java.util.Arrays;

/**
 * The proven packet ranges of a state: packet pointer id (-1 for packet_meta against data)
 * -> bytes proven readable from that pointer's variable base. Immutable, so states and their
 * copies share one until a bounds check proves more; a handful of entries at most, kept in
 * order of id in two parallel arrays, so a lookup is a short scan.
 */
final class PacketRanges {
    static final PacketRanges NONE = new PacketRanges(new int[0], new long[0]);

    private final int[] ids;
    private final long[] bytes;

    private PacketRanges(int[] ids, long[] bytes) {
        this.ids = ids;
        this.bytes = bytes;
    }

    boolean isEmpty() {
        return ids.length == 0;
    }

    /** {@return the bytes proven from pointer {@code id}; 0 when nothing is} */
    long get(int id) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == id) {
                return bytes[i];
            }
        }
        return 0;
    }

    /** {@return these ranges with at least {@code proven} bytes from pointer {@code id}} */
    PacketRanges atLeast(int id, long proven) {
        int i = Arrays.binarySearch(ids, id);
        if (i >= 0) {
            if (bytes[i] >= proven) {
                return this;
            }
            long[] b = bytes.clone();
            b[i] = proven;
            return new PacketRanges(ids, b);
        }
        int at = -i - 1;
        int[] n = new int[ids.length + 1];
        long[] b = new long[ids.length + 1];
        System.arraycopy(ids, 0, n, 0, at);
        System.arraycopy(bytes, 0, b, 0, at);
        n[at] = id;
        b[at] = proven;
        System.arraycopy(ids, at, n, at + 1, ids.length - at);
        System.arraycopy(bytes, at, b, at + 1, ids.length - at);
        return new PacketRanges(n, b);
    }

    /** {@return whether {@code o} proves at least as much as these ranges from every pointer} */
    boolean within(PacketRanges o) {
        if (o == this) {
            return true;
        }
        for (int i = 0; i < ids.length; i++) {
            if (o.get(ids[i]) < bytes[i]) {
                return false;
            }
        }
        return true;
    }

    /** {@return the ranges both prove: pointers in both, the smaller range of the two} */
    PacketRanges meet(PacketRanges o) {
        int[] n = new int[Math.min(ids.length, o.ids.length)];
        long[] b = new long[n.length];
        int k = 0;
        for (int i = 0; i < ids.length; i++) {
            int j = Arrays.binarySearch(o.ids, ids[i]);
            if (j >= 0) {
                n[k] = ids[i];
                b[k++] = Math.min(bytes[i], o.bytes[j]);
            }
        }
        return k == 0 ? NONE : new PacketRanges(Arrays.copyOf(n, k), Arrays.copyOf(b, k));
    }

    /**
     * {@return these ranges for the identities {@code keep} accepts only} A join at a loop head
     * gives folded pointers new identities each time; the ranges of identities no value holds
     * any more are dropped, so the ranges stay as few as the pointers.
     */
    PacketRanges retain(java.util.function.IntPredicate keep) {
        int k = 0;
        for (int id : ids) {
            if (keep.test(id)) {
                k++;
            }
        }
        if (k == ids.length) {
            return this;
        }
        int[] n = new int[k];
        long[] b = new long[k];
        k = 0;
        for (int i = 0; i < ids.length; i++) {
            if (keep.test(ids[i])) {
                n[k] = ids[i];
                b[k++] = bytes[i];
            }
        }
        return k == 0 ? NONE : new PacketRanges(n, b);
    }

    /** {@return {id=bytes, ...} in order of id} */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < ids.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(ids[i]).append('=').append(bytes[i]);
        }
        return sb.append('}').toString();
    }
}
