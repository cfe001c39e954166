package dev.prism.runtime;

import dev.prism.runtime.maps.BpfMap;
import dev.prism.runtime.maps.MapOfMaps;
import dev.prism.runtime.maps.PerfEventArrayMap;
import dev.prism.target.RunResult;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * What every runtime that holds its maps itself (the interpreter, the JITs) does around runs
 * beyond r0 and the packet: binding map-in-maps to the runtime's map handles once the maps
 * exist, and collecting a run's redirect target and perf event records.
 */
public final class RunExtras {
    static final long XDP_REDIRECT = dev.prism.runtime.maps.RedirectMap.XDP_REDIRECT;

    private RunExtras() {
    }

    /**
     * Binds each ARRAY_OF_MAPS / HASH_OF_MAPS of {@code maps} to the list and fills its
     * initialized slots.
     *
     * @param handle the value a program holds for a map (what {@code lddw map_idx} loads)
     * @throws IllegalArgumentException when an initializer cannot be applied
     */
    public static void bindMapsInMaps(List<BpfMap> maps, ToLongFunction<BpfMap> handle) {
        for (BpfMap m : maps) {
            if (m instanceof MapOfMaps outer) {
                outer.bind(i -> i >= 0 && i < maps.size() ? maps.get(i) : null, maps.size(), handle);
            }
        }
    }

    /** {@return the redirect target when the run returned XDP_REDIRECT after choosing one, else null} */
    public static RunResult.Redirect redirect(long r0, XdpBuffer xdp) {
        return xdp != null && r0 == XDP_REDIRECT ? xdp.redirect() : null;
    }

    /** {@return the perf event records the run wrote, every PERF_EVENT_ARRAY drained, in map order} */
    public static List<RunResult.Event> drainEvents(List<BpfMap> maps) {
        List<RunResult.Event> events = new ArrayList<>();
        for (BpfMap m : maps) {
            if (m instanceof PerfEventArrayMap p) {
                for (PerfEventArrayMap.Record r : p.drain()) {
                    events.add(new RunResult.Event(m.def().name(), r.cpu(), r.data()));
                }
            }
        }
        return events;
    }
}
