package dev.prism.runtime.maps;

import dev.prism.program.MapDef;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * What the maps whose slots hold objects rather than bytes share (kernel/bpf/arraymap.c's
 * fd_array_map_* functions): {@link ProgArrayMap}, {@link PerfEventArrayMap}, the array kinds of
 * {@link RedirectMap} and the ARRAY_OF_MAPS kind of {@link MapOfMaps}. A key is a u32 index in
 * host byte order; programs do not look these maps up or write them (the verifier refuses the
 * calls), so the program-side lookup and update only check the key.
 */
final class FdArrays {
    private FdArrays() {
    }

    /** {@return 0 (NULL): the program-side lookup the verifier refuses, should it run anyway} */
    static long refusedLookup(MapDef def, MemorySegment key) {
        BpfMaps.checkKey(def, key);
        return 0;
    }

    /** {@return -EINVAL: the program-side update the verifier refuses, should it run anyway} */
    static int refusedUpdate(MapDef def, MemorySegment key) {
        BpfMaps.checkKey(def, key);
        return -MapErrno.EINVAL;
    }

    /** {@return the u32 index in a program's key, widened without sign}, after checking the key's size */
    static long index(MapDef def, MemorySegment key) {
        BpfMaps.checkKey(def, key);
        return Integer.toUnsignedLong(key.get(ValueLayout.JAVA_INT_UNALIGNED, 0));
    }

    /**
     * Empties the slot a program's key names, as fd_array_map_delete_elem.
     *
     * @param clear empties slot i (known to be below max_entries) and tells whether it held something
     * @return 0, -E2BIG for an index at or past max_entries, -ENOENT when the slot was empty
     */
    static int delete(MapDef def, MemorySegment key, IntPredicate clear) {
        long index = index(def, key);
        if (index >= def.maxEntries()) {
            return -MapErrno.E2BIG;
        }
        return clear.test((int) index) ? 0 : -MapErrno.ENOENT;
    }

    /** {@return the keys 0..count-1 as u32s, as array_map_get_next_key visits them} */
    static List<byte[]> indexKeys(long count) {
        List<byte[]> keys = new ArrayList<>();
        for (long i = 0; i < count; i++) {
            keys.add(u32(i));
        }
        return keys;
    }

    /** {@return the low 32 bits of {@code v} as a 4-byte key, host byte order} */
    static byte[] u32(long v) {
        byte[] b = new byte[4];
        MemorySegment.ofArray(b).set(ValueLayout.JAVA_INT_UNALIGNED, 0, (int) v);
        return b;
    }
}
