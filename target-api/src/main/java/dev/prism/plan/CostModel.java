package dev.prism.plan;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * One target's static cost model: a fixed cost per run (entering and leaving the program, the
 * context, the packet), a cost per instruction of each {@link CostClass}, and a cost per helper
 * call by {@link ExecutionProfile#helperKey} (with a default for helpers not listed). Its
 * estimate of a run is the dot product with an {@link ExecutionProfile}.
 *
 * <p>{@link #uncalibrated} gives rough numbers for the known targets; {@code prism bench
 * --calibrate} measures them on this host ({@link Calibration}).
 *
 * @param target     the target id
 * @param perRunNs   the fixed cost of one run, in ns
 * @param classNs    ns per instruction of each class
 * @param helperNs   ns per call of each helper key
 * @param helperDefaultNs ns per call of a helper not in {@code helperNs}
 */
public record CostModel(String target, double perRunNs, Map<CostClass, Double> classNs, Map<String, Double> helperNs,
                        double helperDefaultNs) {
    public CostModel {
        EnumMap<CostClass, Double> c = new EnumMap<>(CostClass.class);
        for (CostClass k : CostClass.values()) {
            double v = classNs.getOrDefault(k, 0.0);
            if (!(v >= 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException(target + ": cost of " + k.id() + " is " + v);
            }
            c.put(k, v);
        }
        classNs = Collections.unmodifiableMap(c);
        helperNs = Collections.unmodifiableMap(new TreeMap<>(helperNs));
        if (!(perRunNs >= 0) || !(helperDefaultNs >= 0)) {
            throw new IllegalArgumentException(target + ": negative or undefined cost");
        }
    }

    /** {@return the estimated ns of one run with this profile} */
    public double estimate(ExecutionProfile p) {
        double ns = perRunNs;
        for (Map.Entry<CostClass, Double> e : p.counts().entrySet()) {
            ns += e.getValue() * classNs.get(e.getKey());
        }
        for (Map.Entry<String, Double> e : p.helpers().entrySet()) {
            ns += e.getValue() * helperNs(e.getKey());
        }
        return ns;
    }

    /** {@return the cost of one call under {@code key}: its own, else the helper's without the map type, else the default} */
    public double helperNs(String key) {
        Double v = helperNs.get(key);
        if (v == null) {
            v = helperNs.get(Integer.toString(ExecutionProfile.helperId(key)));
        }
        return v == null ? helperDefaultNs : v;
    }

    /**
     * {@return rough costs for a target without a calibration: orders of magnitude from this
     * project's own measurements on an x86-64 server (a JIT: sub-ns ALU, an FFM entry of about
     * 10 ns; the interpreter: several ns per instruction, a few hundred ns per run; emulated
     * arm64: microseconds per run), a JIT-like guess for targets it does not know}
     */
    public static CostModel uncalibrated(String target) {
        return switch (target) {
            case "interpreter" -> of(target, 300, 8, 10, 12, 15, 15, 40, 8, 15, 150);
            case "linux" -> of(target, 40, 0.4, 0.6, 3, 0.6, 0.6, 5, 0.5, 2, 15);
            case "arm64" -> of(target, 2500, 4, 5, 8, 6, 6, 20, 5, 8, 300);
            default -> of(target, 15, 0.4, 0.6, 3, 0.6, 0.6, 5, 0.5, 2, 20);
        };
    }

    private static CostModel of(String target, double run, double alu, double mul, double div, double load, double store,
                                double atomic, double branch, double call, double helper) {
        EnumMap<CostClass, Double> c = new EnumMap<>(CostClass.class);
        c.put(CostClass.ALU, alu);
        c.put(CostClass.MUL, mul);
        c.put(CostClass.DIV, div);
        c.put(CostClass.LOAD, load);
        c.put(CostClass.STORE, store);
        c.put(CostClass.ATOMIC, atomic);
        c.put(CostClass.BRANCH, branch);
        c.put(CostClass.CALL, call);
        return new CostModel(target, run, c, Map.of(), helper);
    }

    /** {@return this model as a JSON object} */
    String toJson(String indent) {
        StringBuilder b = new StringBuilder("{\n");
        b.append(indent).append("  \"per_run_ns\": ").append(Json.number(perRunNs)).append(",\n");
        b.append(indent).append("  \"helper_default_ns\": ").append(Json.number(helperDefaultNs)).append(",\n");
        b.append(indent).append("  \"class_ns\": {");
        String sep = "";
        for (Map.Entry<CostClass, Double> e : classNs.entrySet()) {
            b.append(sep).append(Json.quote(e.getKey().id())).append(": ").append(Json.number(e.getValue()));
            sep = ", ";
        }
        b.append("},\n").append(indent).append("  \"helper_ns\": {");
        sep = "";
        for (Map.Entry<String, Double> e : helperNs.entrySet()) {
            b.append(sep).append(Json.quote(e.getKey())).append(": ").append(Json.number(e.getValue()));
            sep = ", ";
        }
        return b.append("}\n").append(indent).append("}").toString();
    }

    @SuppressWarnings("unchecked")
    static CostModel fromJson(String target, Object json) {
        if (!(json instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(target + ": expected an object");
        }
        EnumMap<CostClass, Double> classes = new EnumMap<>(CostClass.class);
        Object cj = m.get("class_ns");
        if (cj instanceof Map<?, ?> cm) {
            for (Map.Entry<?, ?> e : cm.entrySet()) {
                classes.put(CostClass.valueOf(((String) e.getKey()).toUpperCase(java.util.Locale.ROOT)), num(target, e.getValue()));
            }
        }
        Map<String, Double> helpers = new TreeMap<>();
        Object hj = m.get("helper_ns");
        if (hj instanceof Map<?, ?> hm) {
            for (Map.Entry<?, ?> e : hm.entrySet()) {
                String key = (String) e.getKey();
                ExecutionProfile.helperId(key); // validates
                helpers.put(key, num(target, e.getValue()));
            }
        }
        return new CostModel(target, num(target, m.get("per_run_ns")), classes, helpers, num(target, m.get("helper_default_ns")));
    }

    private static double num(String target, Object o) {
        if (o instanceof Double d) {
            return d;
        }
        throw new IllegalArgumentException(target + ": expected a number, found " + o);
    }
}
