package dev.prism.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** {@link PacketRanges} against a map from pointer id to proven bytes, the model it replaces. */
class PacketRangesTest {
    @Test
    void behavesAsAMapOfProvenBytes() {
        Random rnd = new Random(11);
        for (int trial = 0; trial < 2_000; trial++) {
            TreeMap<Integer, Long> ma = new TreeMap<>();
            TreeMap<Integer, Long> mb = new TreeMap<>();
            PacketRanges a = PacketRanges.NONE;
            PacketRanges b = PacketRanges.NONE;
            for (int k = rnd.nextInt(8); k > 0; k--) {
                int id = rnd.nextInt(6) - 1; // -1: packet_meta
                long proven = rnd.nextInt(40) - 4; // offsets may be negative
                if (rnd.nextBoolean()) {
                    ma.merge(id, proven, Math::max);
                    a = a.atLeast(id, proven);
                } else {
                    mb.merge(id, proven, Math::max);
                    b = b.atLeast(id, proven);
                }
            }
            assertEquals(ma.toString(), a.toString());
            assertEquals(ma.isEmpty(), a.isEmpty());
            for (int id = -2; id < 6; id++) {
                assertEquals(ma.getOrDefault(id, 0L), a.get(id), "id " + id);
            }
            boolean within = true;
            for (Map.Entry<Integer, Long> e : ma.entrySet()) {
                within &= mb.getOrDefault(e.getKey(), 0L) >= e.getValue();
            }
            assertEquals(within, a.within(b), ma + " within " + mb);
            TreeMap<Integer, Long> meet = new TreeMap<>();
            for (Map.Entry<Integer, Long> e : ma.entrySet()) {
                if (mb.containsKey(e.getKey())) {
                    meet.put(e.getKey(), Math.min(e.getValue(), mb.get(e.getKey())));
                }
            }
            assertEquals(meet.toString(), a.meet(b).toString());
        }
    }

    @Test
    void provingNoMoreKeepsTheSameRanges() {
        PacketRanges r = PacketRanges.NONE.atLeast(3, 14);
        assertSame(r, r.atLeast(3, 10));
        assertEquals("{3=20}", r.atLeast(3, 20).toString());
        assertEquals("{3=14}", r.toString(), "unchanged: states share their ranges");
    }
}
