package dev.prism.cli;

import dev.prism.error.TargetException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.target.MapAccess;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The contents of a loaded program's maps, as {@code prism run --dump-maps} prints them: per map
 * its name and type, then one {@code key -> value} line per element, in hex (the bytes as the map
 * stores them).
 * <ul>
 *   <li>arrays (global data included) list only the elements that are not all zero;</li>
 *   <li>hash maps and LPM tries list every element, keys in byte order, so that targets agree;</li>
 *   <li>per-CPU values are split per CPU, only the CPUs whose copy is not zero shown (the JSON
 *       form gives the whole value, every CPU's copy padded to 8 bytes, as bpf() returns it);</li>
 *   <li>ring buffers are drained, one record per line;</li>
 *   <li>prog arrays hold programs, which have no bytes to show: named, not listed; perf event
 *       arrays likewise (their records are printed with each run);</li>
 *   <li>a map-in-map's value is the index of the inner map among the object's maps, shown with
 *       the inner map's name and the {@code OUTER[K]} name {@code --map} takes.</li>
 * </ul>
 */
final class MapDump {
    /** One element, or one ring buffer record (key null). */
    private record Element(byte[] key, byte[] value) {
    }

    /** A map's contents, or why they could not be read. */
    private record Contents(MapDef def, List<Element> elements, String error) {
    }

    private MapDump() {
    }

    private static boolean isArray(MapType t) {
        return t == MapType.ARRAY || t == MapType.PERCPU_ARRAY;
    }

    private static List<Contents> read(MapAccess maps) {
        List<Contents> out = new ArrayList<>();
        for (MapDef def : maps.defs()) {
            if (def.type() == MapType.PROG_ARRAY || def.type() == MapType.PERF_EVENT_ARRAY) {
                out.add(new Contents(def, List.of(), null));
                continue;
            }
            try {
                List<Element> elements = new ArrayList<>();
                if (def.type() == MapType.RINGBUF) {
                    for (byte[] record : maps.drain(def.name())) {
                        elements.add(new Element(null, record));
                    }
                } else {
                    List<byte[]> keys = new ArrayList<>(maps.keys(def.name()));
                    if (!isArray(def.type())) {
                        keys.sort(Arrays::compareUnsigned);
                    }
                    for (byte[] key : keys) {
                        byte[] value = maps.lookup(def.name(), key);
                        if (value != null && !(isArray(def.type()) && allZero(value))) {
                            elements.add(new Element(key, value));
                        }
                    }
                }
                out.add(new Contents(def, elements, null));
            } catch (TargetException | IllegalArgumentException e) {
                out.add(new Contents(def, List.of(), e.getMessage()));
            }
        }
        return out;
    }

    /** Prints every map of {@code maps}. */
    static void text(MapAccess maps, PrintWriter out) {
        List<Contents> all = read(maps);
        if (all.isEmpty()) {
            out.println("maps: none");
        }
        for (Contents c : all) {
            MapDef def = c.def();
            String type = def.type().id();
            if (def.type() == MapType.PROG_ARRAY) {
                out.println("map " + def.name() + " (" + type + ", " + def.maxEntries()
                        + " slots): its slots hold programs, not shown");
                continue;
            }
            if (def.type() == MapType.PERF_EVENT_ARRAY) {
                out.println("map " + def.name() + " (" + type + ", " + def.maxEntries()
                        + " slots): its records are shown with each run ('perf event:')");
                continue;
            }
            if (c.error() != null) {
                out.println("map " + def.name() + " (" + type + "): cannot read: " + c.error());
                continue;
            }
            List<Element> elements = c.elements();
            String header = switch (def.type()) {
                case RINGBUF -> elements.size() + (elements.size() == 1 ? " record" : " records") + ", drained";
                case ARRAY, PERCPU_ARRAY -> def.maxEntries() + (def.maxEntries() == 1 ? " entry" : " entries")
                        + ", non-zero values only";
                default -> elements.size() + (elements.size() == 1 ? " element" : " elements");
            };
            out.println("map " + def.name() + " (" + type + ", " + header + ")" + (elements.isEmpty()
                    ? (isArray(def.type()) ? ": all zero" : ": empty") : ":"));
            for (Element e : elements) {
                if (e.key() == null) {
                    out.println("  " + Hex.compact(e.value()));
                } else {
                    out.println("  " + Hex.compact(e.key()) + " -> " + value(def, e.value()) + innerName(maps, def, e));
                }
            }
        }
    }

    /**
     * {@return for a map-in-map element, " (map NAME, also OUTER[K])": the value is the inner
     * map's index among the object's maps}
     */
    private static String innerName(MapAccess maps, MapDef def, Element e) {
        if (!def.type().ofMaps() || e.value().length != 4) {
            return "";
        }
        int index = java.nio.ByteBuffer.wrap(e.value()).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
        String slot = e.key().length == 4 && def.type() == MapType.ARRAY_OF_MAPS
                ? def.name() + "[" + Integer.toUnsignedString(java.nio.ByteBuffer.wrap(e.key()).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt()) + "]"
                : def.name() + "{" + Hex.compact(e.key()) + "}";
        return index >= 0 && index < maps.defs().size() ? " (map " + maps.defs().get(index).name() + ", also " + slot + ")" : "";
    }

    /** A value as text: per-CPU values as "cpuN: hex" for each CPU whose copy is not zero. */
    private static String value(MapDef def, byte[] value) {
        if (!def.type().perCpu()) {
            return Hex.compact(value);
        }
        int stride = (def.valueSize() + 7) & ~7;
        List<String> cpus = new ArrayList<>();
        for (int cpu = 0; stride > 0 && (cpu + 1) * stride <= value.length; cpu++) {
            byte[] copy = Arrays.copyOfRange(value, cpu * stride, cpu * stride + def.valueSize());
            if (!allZero(copy)) {
                cpus.add("cpu" + cpu + ": " + Hex.compact(copy));
            }
        }
        return cpus.isEmpty() ? "(zero on every CPU)" : String.join(", ", cpus);
    }

    /**
     * {@return the maps as JSON: name to a list of {"key", "value"} objects (ring buffer records:
     * {"value"} only); prog arrays are left out, a map that cannot be read is {"error": message}}
     */
    static Map<String, Object> json(MapAccess maps) {
        Map<String, Object> doc = new LinkedHashMap<>();
        for (Contents c : read(maps)) {
            if (c.def().type() == MapType.PROG_ARRAY || c.def().type() == MapType.PERF_EVENT_ARRAY) {
                continue;
            }
            if (c.error() != null) {
                doc.put(c.def().name(), Map.of("error", c.error()));
                continue;
            }
            List<Object> elements = new ArrayList<>();
            for (Element e : c.elements()) {
                Map<String, Object> element = new LinkedHashMap<>();
                if (e.key() != null) {
                    element.put("key", Hex.compact(e.key()));
                }
                element.put("value", Hex.compact(e.value()));
                elements.add(element);
            }
            doc.put(c.def().name(), elements);
        }
        return doc;
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
