package dev.prism.target;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The stable identifiers of the rules a {@link Reason} names. Tools match on them, so they never
 * change once released; a new refusal gets a new id. The standard rules are the ones
 * {@link CapabilityChecker} applies from {@link Capabilities}; a backend with a refusal of its
 * own registers it with {@link #define} (ids are lower case words joined by '-', prefixed by the
 * target when they are the target's own, e.g. {@code "p4-header-stack"}).
 */
public final class Rule {
    private Rule() {
    }

    private static final Map<String, String> RULES = new LinkedHashMap<>();

    public static final String PROGRAM_TYPE = std("program-type", "the program's type is not one the target runs");
    public static final String GROUP = std("group", "an instruction's conformance group is missing");
    public static final String CPU_VERSION = std("cpu-version", "an instruction needs a newer cpu version");
    public static final String OPCODE = std("opcode", "the target lacks this single opcode");
    public static final String MUL_RANGE = std("mul-range", "a multiplication operand may exceed the target's limit");
    public static final String DIV_RANGE = std("div-range", "a division operand may exceed the target's limit");
    public static final String DIV_CONSTANT = std("div-constant", "the target divides only by constants");
    public static final String LOOP = std("loop", "the target has no loops");
    public static final String LOOP_TRIPS = std("loop-trips", "a loop's proven trip bound exceeds the target's limit");
    public static final String INSN_LIMIT = std("insn-limit", "the program has more instructions than the target takes");
    public static final String STACK_LIMIT = std("stack-limit", "the program uses more stack than the target has");
    public static final String PACKET_OFFSET = std("packet-offset", "a packet access reaches beyond the target's limit");
    public static final String EXECUTED_LIMIT = std("executed-limit", "a run may execute more instructions than the target allows");
    public static final String HELPER = std("helper", "the target does not implement this helper");
    public static final String HELPER_MAP = std("helper-map", "the helper is called on a map type the target does not allow for it");
    public static final String HELPER_ARG = std("helper-arg", "a helper argument must be a constant on this target");
    public static final String MAP_TYPE = std("map-type", "the target does not implement this map type");
    public static final String MAP_KEY_SIZE = std("map-key-size", "a map's key is larger than the target allows");
    public static final String MAP_VALUE_SIZE = std("map-value-size", "a map's value is larger than the target allows");
    public static final String MAP_ENTRIES = std("map-entries", "a map has more entries than the target allows");
    public static final String MAP_WRITE = std("map-write", "the program writes a map in a way the target's data plane cannot");
    public static final String ATOMIC = std("atomic", "the target lacks this atomic operation");
    public static final String BPF_CALL = std("bpf-call", "the target has no bpf-to-bpf calls");
    public static final String TAIL_CALL = std("tail-call", "the target has no tail calls");
    public static final String CALLX = std("callx", "the target has no indirect calls");
    public static final String RETURN_CODE = std("return-code", "the program may return a value the target does not accept");

    private static String std(String id, String meaning) {
        RULES.put(id, meaning);
        return id;
    }

    /**
     * Registers a target's own rule. Defining an id twice with the same meaning is allowed
     * (class initialization may run in any order); with another meaning it is an error.
     *
     * @return the id
     */
    public static synchronized String define(String id, String meaning) {
        if (!id.matches("[a-z0-9]+(-[a-z0-9]+)*")) {
            throw new IllegalArgumentException("rule id '" + id + "': lower case words joined by '-'");
        }
        String old = RULES.putIfAbsent(id, meaning);
        if (old != null && !old.equals(meaning)) {
            throw new IllegalArgumentException("rule " + id + " is already defined as: " + old);
        }
        return id;
    }

    /** {@return every known rule id and what it means, the standard ones first} */
    public static synchronized Map<String, String> all() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(RULES));
    }

    /** {@return {@code id}} @throws IllegalArgumentException when no rule has that id */
    public static synchronized String require(String id) {
        if (!RULES.containsKey(id)) {
            throw new IllegalArgumentException("unknown rule '" + id + "' (known: " + String.join(", ", RULES.keySet()) + ")");
        }
        return id;
    }
}
