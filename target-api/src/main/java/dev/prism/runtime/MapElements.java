package dev.prism.runtime;

import dev.prism.runtime.maps.ArrayMap;
import dev.prism.runtime.maps.BpfMap;
import dev.prism.runtime.maps.HashTableMap;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The elements bpf_for_each_map_elem visits, in its order: an array's indexes 0..max_entries-1
 * (kernel/bpf/arraymap.c, bpf_for_each_array_elem), a hash map's elements bucket by bucket
 * ({@link HashTableMap#keys}). Linux walks its own hash table, whose buckets follow its own
 * hash function, so a hash map's order is Prism's, not the kernel's: a callback whose result
 * depends on the order, or that stops early, can see other elements there.
 */
public final class MapElements {
    private MapElements() {
    }

    /** One element: its key bytes and the native address of this CPU's value. */
    public record Element(byte[] key, long value) {
    }

    /** {@return the elements of {@code m} as this CPU sees them} @throws IllegalStateException for a map type it cannot iterate */
    public static List<Element> of(BpfMap m, int cpu) {
        List<Element> out = new ArrayList<>();
        switch (m) {
            case ArrayMap a -> {
                for (int i = 0; i < a.def().maxEntries(); i++) {
                    byte[] k = {(byte) i, (byte) (i >>> 8), (byte) (i >>> 16), (byte) (i >>> 24)};
                    out.add(new Element(k, a.lookup(MemorySegment.ofArray(k), cpu)));
                }
            }
            case HashTableMap h -> {
                for (byte[] k : h.keys()) {
                    long v = h.lookup(MemorySegment.ofArray(k), cpu);
                    if (v != 0) {
                        out.add(new Element(k, v));
                    }
                }
            }
            default -> throw new IllegalStateException("bpf_for_each_map_elem cannot iterate a " + m.def().type().id());
        }
        return out;
    }
}
