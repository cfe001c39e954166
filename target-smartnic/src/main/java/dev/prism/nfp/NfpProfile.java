package dev.prism.nfp;

import dev.prism.error.TargetException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The firmware limits the nfp driver reads from the card (the BPF capability TLVs and the
 * {@code NFP_NET_CFG_BPF_*} control words), as data. The default describes an Agilio CX with the
 * eBPF offload firmware as this model assumes it; a user with a real card overrides it with a
 * JSON file holding the values the card reports ({@code --nfp-profile F} on the command line,
 * system property {@code prism.nfp.profile} or environment variable {@code PRISM_NFP_PROFILE}).
 *
 * @param name              a label for reports
 * @param stackBytes        the firmware stack ({@code NFP_NET_CFG_BPF_STACK_SZ} x 64)
 * @param callOverheadBytes what one BPF-to-BPF call adds to the stack beyond the callee's frame
 *                          (return address and saved registers; an estimate, see the README)
 * @param maxInstructions   program length in NFP instructions ({@code NFP_NET_CFG_BPF_MAX_LEN})
 * @param inlineMtu         bytes of a packet the program can reach: {@code NFP_NET_CFG_BPF_INL_MTU}
 *                          x 64 - 32, the packet split boundary
 * @param mtu               the interface MTU the program is loaded with; offload is refused when
 *                          it exceeds {@code inlineMtu}
 * @param maxMaps           maps the firmware holds ({@code NFP_BPF_CAP_TYPE_MAPS} max_maps)
 * @param maxMapEntries     entries over all maps (max_elems)
 * @param maxKeySize        key bytes (max_key_sz)
 * @param maxValueSize      value bytes (max_val_sz)
 * @param maxElemSize       key and value, each rounded up to 8, together (max_elem_sz)
 * @param helpers           helper ids the firmware implements (the FUNC TLVs, adjust_head,
 *                          adjust_tail, random, event output)
 */
public record NfpProfile(String name, int stackBytes, int callOverheadBytes, int maxInstructions, int inlineMtu, int mtu,
                         int maxMaps, long maxMapEntries, int maxKeySize, int maxValueSize, int maxElemSize,
                         Set<Integer> helpers) {
    /** System property naming a profile file. */
    public static final String PROPERTY = "prism.nfp.profile";
    /** Environment variable naming a profile file (the property wins). */
    public static final String ENV = "PRISM_NFP_PROFILE";

    public NfpProfile {
        helpers = Set.copyOf(new TreeSet<>(helpers));
    }

    /**
     * {@return the documented default: Agilio CX, eBPF firmware}. Stack 512 B (8 x 64), 8,192
     * NFP instructions, inline MTU 2,016 B (32 x 64 - 32) at MTU 1,500, 64 maps, 3,000,000
     * entries, keys and values up to 64 B, 128 B per element, helpers 1, 2, 3, 7, 25, 44, 65.
     */
    public static NfpProfile agilioCx() {
        return new NfpProfile("agilio-cx-ebpf (default)", 512, 64, 8192, 32 * 64 - 32, 1500, 64, 3_000_000, 64, 64, 128,
                Set.of(1, 2, 3, 7, 25, 44, 65));
    }

    /**
     * {@return the profile the environment names ({@link #PROPERTY}, then {@link #ENV}), or the default}
     *
     * @throws TargetException when the named file cannot be read or is not a profile
     */
    public static NfpProfile fromEnvironment() {
        String file = System.getProperty(PROPERTY);
        if (file == null || file.isBlank()) {
            file = System.getenv(ENV);
        }
        return file == null || file.isBlank() ? agilioCx() : load(Path.of(file));
    }

    /** {@return the default with the values of a JSON file} @throws TargetException naming the problem */
    public static NfpProfile load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new TargetException("nfp profile " + file + ": cannot read: " + e.getMessage());
        }
        try {
            return parse(text, file.getFileName().toString());
        } catch (IllegalArgumentException e) {
            throw new TargetException("nfp profile " + file + ": " + e.getMessage());
        }
    }

    /**
     * {@return the default with the values of a JSON object}: keys are the record's component
     * names, numbers for the limits, an array of numbers for {@code helpers}, a string for
     * {@code name}; a key that is missing keeps the default, an unknown key is an error.
     *
     * @throws IllegalArgumentException naming the key or the offset
     */
    public static NfpProfile parse(String json, String defaultName) {
        Map<String, Object> m = new MiniJson(json).object();
        NfpProfile d = agilioCx();
        for (String k : m.keySet()) {
            if (!List.of("name", "stackBytes", "callOverheadBytes", "maxInstructions", "inlineMtu", "mtu", "maxMaps",
                    "maxMapEntries", "maxKeySize", "maxValueSize", "maxElemSize", "helpers").contains(k)) {
                throw new IllegalArgumentException("unknown key '" + k + "'");
            }
        }
        Set<Integer> helpers = d.helpers();
        if (m.containsKey("helpers")) {
            if (!(m.get("helpers") instanceof List<?> l)) {
                throw new IllegalArgumentException("'helpers' must be an array of helper ids");
            }
            helpers = new TreeSet<>();
            for (Object o : l) {
                helpers.add((int) num(o, "helpers", 0, Integer.MAX_VALUE));
            }
        }
        String name = m.get("name") instanceof String s ? s : defaultName;
        return new NfpProfile(name,
                (int) get(m, "stackBytes", d.stackBytes(), 0, 1 << 20),
                (int) get(m, "callOverheadBytes", d.callOverheadBytes(), 0, 1 << 20),
                (int) get(m, "maxInstructions", d.maxInstructions(), 1, 1 << 24),
                (int) get(m, "inlineMtu", d.inlineMtu(), 0, 1 << 20),
                (int) get(m, "mtu", d.mtu(), 68, 1 << 20),
                (int) get(m, "maxMaps", d.maxMaps(), 0, 1 << 20),
                get(m, "maxMapEntries", d.maxMapEntries(), 0, 1L << 40),
                (int) get(m, "maxKeySize", d.maxKeySize(), 0, 1 << 20),
                (int) get(m, "maxValueSize", d.maxValueSize(), 0, 1 << 20),
                (int) get(m, "maxElemSize", d.maxElemSize(), 0, 1 << 20),
                helpers);
    }

    private static long get(Map<String, Object> m, String key, long dflt, long min, long max) {
        return m.containsKey(key) ? num(m.get(key), key, min, max) : dflt;
    }

    private static long num(Object o, String key, long min, long max) {
        if (!(o instanceof Long v) || v < min || v > max) {
            throw new IllegalArgumentException("'" + key + "' must be an integer in " + min + ".." + max + ", was " + o);
        }
        return v;
    }

    /** A JSON reader for one flat object of integers, strings and arrays of integers. */
    private static final class MiniJson {
        private final String s;
        private int i;

        MiniJson(String s) {
            this.s = s;
        }

        Map<String, Object> object() {
            Map<String, Object> out = new LinkedHashMap<>();
            expect('{');
            if (peek() == '}') {
                i++;
            } else {
                while (true) {
                    String k = string();
                    expect(':');
                    out.put(k, value());
                    char c = next();
                    if (c == '}') {
                        break;
                    }
                    if (c != ',') {
                        throw error("expected ',' or '}'");
                    }
                }
            }
            if (peek() != 0) {
                throw error("text after the object");
            }
            return out;
        }

        private Object value() {
            char c = peek();
            if (c == '"') {
                return string();
            }
            if (c == '[') {
                i++;
                List<Object> l = new ArrayList<>();
                if (peek() == ']') {
                    i++;
                    return l;
                }
                while (true) {
                    l.add(value());
                    char d = next();
                    if (d == ']') {
                        return l;
                    }
                    if (d != ',') {
                        throw error("expected ',' or ']'");
                    }
                }
            }
            int start = i;
            if (c == '-') {
                i++;
            }
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
            if (start == i || i - start > 18) {
                throw error("expected an integer, a string or an array");
            }
            return Long.parseLong(s.substring(start, i));
        }

        private String string() {
            expect('"');
            int start = i;
            while (i < s.length() && s.charAt(i) != '"') {
                if (s.charAt(i) == '\\') {
                    throw error("escapes are not supported");
                }
                i++;
            }
            if (i >= s.length()) {
                throw error("unterminated string");
            }
            return s.substring(start, i++);
        }

        private void expect(char c) {
            if (next() != c) {
                throw error("expected '" + c + "'");
            }
        }

        private char next() {
            char c = peek();
            if (c != 0) {
                i++;
            }
            return c;
        }

        private char peek() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            return i < s.length() ? s.charAt(i) : 0;
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException(what + " at offset " + i);
        }
    }
}
