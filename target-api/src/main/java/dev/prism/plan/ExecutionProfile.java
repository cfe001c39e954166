package dev.prism.plan;

import dev.prism.isa.CallKind;
import dev.prism.isa.Insn;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.verifier.Facts;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.cfg.FunctionCfg;
import dev.prism.verifier.cfg.Loop;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * How many instructions of each {@link CostClass}, and how many calls of each helper, one run
 * executes: what a {@link CostModel} multiplies by its costs.
 *
 * @param counts  instructions per class per run
 * @param helpers helper calls per run, by {@link #helperKey}
 * @param source  how the counts were obtained ("interpreter, 8 runs of 1 input", "static")
 */
public record ExecutionProfile(Map<CostClass, Double> counts, Map<String, Double> helpers, String source) {
    public ExecutionProfile {
        EnumMap<CostClass, Double> c = new EnumMap<>(CostClass.class);
        c.putAll(counts);
        counts = Collections.unmodifiableMap(c);
        helpers = Collections.unmodifiableMap(new TreeMap<>(helpers));
    }

    /**
     * {@return the key helper costs are filed under: the id, and for helpers whose first
     * argument is a map, the map type ("1:lpm_trie"), since a lookup in an array and in a trie
     * cost very different amounts}
     */
    public static String helperKey(int id, MapType onMap) {
        return onMap == null ? Integer.toString(id) : id + ":" + onMap.id();
    }

    /** {@return the helper id of a key} */
    public static int helperId(String key) {
        int colon = key.indexOf(':');
        return Integer.parseInt(colon < 0 ? key : key.substring(0, colon));
    }

    /** {@return the instructions per run, every class and helper call together} */
    public double instructions() {
        return counts.values().stream().mapToDouble(Double::doubleValue).sum()
                + helpers.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    /** {@return the helper key of the call at {@code pc}: the map in r1 when the verifier pinned one} */
    static String helperKeyAt(VerifiedProgram verified, int pc, int id) {
        Facts f = verified.facts(pc);
        MapType type = null;
        if (f != null) {
            Facts.Register r1 = f.registers().get(1);
            if (r1.kind() == Facts.Kind.MAP && r1.map() >= 0 && r1.map() < verified.program().maps().size()) {
                MapDef m = verified.program().maps().get(r1.map());
                type = m.type();
            }
        }
        return helperKey(id, type);
    }

    /**
     * {@return a static estimate for when no run is possible: every reachable instruction once,
     * times the proven trip bound of each loop around it (an upper bound on loops, and both sides
     * of every branch)}
     */
    public static ExecutionProfile estimate(VerifiedProgram verified) {
        Program program = verified.program();
        double[] weight = new double[program.length()];
        java.util.Arrays.fill(weight, 1);
        for (FunctionCfg f : verified.cfg().functions()) {
            for (Loop loop : f.loops()) {
                long trips = verified.loopBounds().getOrDefault(loop.head(), 1L);
                for (int first : loop.body()) {
                    dev.prism.verifier.cfg.Block block = f.block(first);
                    for (int pc = block.first(); pc <= block.last(); pc++) {
                        weight[pc] *= Math.max(1, Math.min(trips, 1_000_000));
                    }
                }
            }
        }
        EnumMap<CostClass, Double> counts = new EnumMap<>(CostClass.class);
        Map<String, Double> helpers = new TreeMap<>();
        for (int pc = 0; pc < program.length(); pc++) {
            Insn insn = program.at(pc);
            if (insn == null || !verified.cfg().isReachable(pc)) {
                continue;
            }
            add(verified, pc, insn, weight[pc], counts, helpers);
        }
        return new ExecutionProfile(counts, helpers, "static (every instruction once, loops at their trip bound)");
    }

    static void add(VerifiedProgram verified, int pc, Insn insn, double times, Map<CostClass, Double> counts,
                    Map<String, Double> helpers) {
        CostClass c = CostClass.of(insn);
        if (c != null) {
            counts.merge(c, times, Double::sum);
        } else if (insn instanceof Insn.Call call && call.kind() != CallKind.LOCAL) {
            helpers.merge(verified == null ? helperKey(call.imm(), null) : helperKeyAt(verified, pc, call.imm()), times,
                    Double::sum);
        }
    }
}
