package dev.prism.verifier;

/**
 * A one-to-one renaming of identities, built while an explored state is compared with a new
 * one ({@link State#covers(State, IdMap)}), as Linux's check_ids does.
 *
 * <p>Identities ({@link Value.Ptr#id}: the shared variable part and proven range of packet
 * pointers, the lookup that produced a nullable map value) are handed out from a counter as
 * paths are explored, so two paths through the same instructions hold different numbers for
 * what is the same relation between registers. Everything the verifier does with an identity
 * is compare it for equality (which registers a null check or a bounds check settles) or look
 * up the packet range proven for it. So the explored state covers the new one when one
 * bijection maps each identity of the old state to one of the new state such that every value
 * is covered after renaming and, for packet identities, the new state has proven at least the
 * old range for the renamed one ({@link #packetPairs}). Identity 0 is not renamed: it is the
 * packet pointer loaded from the context, whose range a later load from the context inherits.
 */
final class IdMap {
    private int[] olds = new int[8];
    private int[] news = new int[8];
    private boolean[] packet = new boolean[8];
    private int size;

    /** Forgets every pair: the map is reused for the next comparison. */
    IdMap clear() {
        size = 0;
        return this;
    }

    /**
     * {@return whether {@code old} may stand for {@code now}}: records the pair when neither is
     * mapped yet, else checks it against the recorded one.
     *
     * @param isPacket the identity keys a packet range (a PACKET pointer's), checked at the end
     */
    boolean match(int old, int now, boolean isPacket) {
        if (old <= 0 || now <= 0) {
            return old == now; // fixed identities: data's (0) and a csd program's out (CsdAccess.OUT_ID)
        }
        for (int i = 0; i < size; i++) {
            if (olds[i] == old) {
                packet[i] |= isPacket;
                return news[i] == now;
            }
            if (news[i] == now) {
                return false;
            }
        }
        if (size == olds.length) {
            olds = java.util.Arrays.copyOf(olds, size * 2);
            news = java.util.Arrays.copyOf(news, size * 2);
            packet = java.util.Arrays.copyOf(packet, size * 2);
        }
        olds[size] = old;
        news[size] = now;
        packet[size] = isPacket;
        size++;
        return true;
    }

    /** {@return whether every renamed packet identity has at least its old proven range in {@code now}} */
    boolean packetPairs(State old, State now) {
        for (int i = 0; i < size; i++) {
            if (packet[i] && now.range(news[i]) < old.range(olds[i])) {
                return false;
            }
        }
        return true;
    }
}
