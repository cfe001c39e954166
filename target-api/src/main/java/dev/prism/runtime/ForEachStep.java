package dev.prism.runtime;

import java.util.List;

/**
 * One step of a JIT's bpf_for_each_map_elem loop ({@link dev.prism.runtime.jit.RunContext#FOR_EACH_STEP}):
 * {@code step(map, i, keyBuffer)} copies the key of element i ({@link MapElements} order) into
 * keyBuffer, memory of the run's native stack the callback reads its key from, and returns
 * the native address of the element's value, or 0 when there is no element i. The native
 * loop around it calls the callback and counts, as the interpreter's does. Each step lists the
 * elements again, so a loop over n elements costs O(n^2) upcalls' work: fine for the map sizes
 * for_each is used on, and exact when the callback changes the map.
 */
public final class ForEachStep {
    private ForEachStep() {
    }

    /** The step as a helper (r1 map handle, r2 index, r3 key buffer). */
    public static final Helper HELPER = ForEachStep::step;

    private static long step(HelperContext c, long map, long index, long keyBuffer, long r4, long r5) {
        List<MapElements.Element> elements = MapElements.of(c.map(map), c.env().cpu());
        if (index < 0 || index >= elements.size()) {
            return 0;
        }
        MapElements.Element e = elements.get((int) index);
        c.write(keyBuffer, e.key());
        return c.programAddress(e.value());
    }
}
