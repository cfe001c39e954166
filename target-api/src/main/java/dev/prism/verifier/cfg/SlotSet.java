package dev.prism.verifier.cfg;

import java.util.AbstractSet;
import java.util.BitSet;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * An immutable set of slot numbers over a bit set: ascending iteration, constant-time
 * {@code contains}, one bit per slot between the lowest and the highest member (a program may
 * have a million slots and a function as many, so boxed hash sets would cost tens of bytes
 * each; the window keeps a small loop deep in a long program small).
 */
final class SlotSet extends AbstractSet<Integer> {
    static final SlotSet EMPTY = new SlotSet(new BitSet());

    /** the members, less {@code base} */
    private final BitSet bits;
    private final int base;
    private final int size;

    SlotSet(BitSet members) {
        this(members.get(Math.max(0, members.nextSetBit(0)), members.length()), Math.max(0, members.nextSetBit(0)));
    }

    private SlotSet(BitSet window, int base) {
        this.bits = window;
        this.base = base;
        this.size = window.cardinality();
    }

    /** {@return the set of {@code members[0..count)}, in any order} */
    static SlotSet of(int[] members, int count) {
        if (count == 0) {
            return EMPTY;
        }
        int lo = Integer.MAX_VALUE;
        int hi = 0;
        for (int k = 0; k < count; k++) {
            lo = Math.min(lo, members[k]);
            hi = Math.max(hi, members[k]);
        }
        BitSet window = new BitSet(hi - lo + 1);
        for (int k = 0; k < count; k++) {
            window.set(members[k] - lo);
        }
        return new SlotSet(window, lo);
    }

    /** {@return whether slot {@code pc} is in the set, without boxing} */
    boolean has(int pc) {
        return pc >= base && bits.get(pc - base);
    }

    @Override
    public boolean contains(Object o) {
        return o instanceof Integer i && has(i);
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Iterator<Integer> iterator() {
        return new Iterator<>() {
            private int next = bits.nextSetBit(0);

            @Override
            public boolean hasNext() {
                return next >= 0;
            }

            @Override
            public Integer next() {
                if (next < 0) {
                    throw new NoSuchElementException();
                }
                int n = next;
                next = bits.nextSetBit(n + 1);
                return base + n;
            }
        };
    }

    /** {@return the set as ranges, {@code "0..3, 7, 9..12"}} */
    String ranges() {
        StringBuilder sb = new StringBuilder();
        for (int a = bits.nextSetBit(0); a >= 0; ) {
            int b = bits.nextClearBit(a) - 1;
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(a == b ? Integer.toString(base + a) : (base + a) + ".." + (base + b));
            a = bits.nextSetBit(b + 1);
        }
        return sb.toString();
    }
}
