package dev.prism.verifier;

import dev.prism.verifier.cfg.Block;
import dev.prism.verifier.cfg.CallEdge;
import dev.prism.verifier.cfg.Cfg;
import dev.prism.verifier.cfg.FunctionCfg;
import dev.prism.verifier.cfg.Loop;
import java.util.HashMap;
import java.util.Map;

/**
 * An upper bound on the instructions one run can execute, from the proven loop trip counts:
 * each block runs at most once per iteration of every loop around it, each call costs its
 * callee's bound, each bpf_loop callback its bound times the iterations requested. Programs
 * whose bound exceeds the budget every runtime applies (1,000,000, as Linux's verifier and
 * Prism's interpreter use) are refused, so an accepted program always finishes in budget.
 */
final class InstructionBound {
    private InstructionBound() {
    }

    static long of(Cfg cfg, Map<Loop, Long> trips, long loopIterations) {
        Map<Integer, Long> memo = new HashMap<>();
        return cost(cfg, cfg.functions().get(0), trips, Math.max(1, loopIterations), memo);
    }

    private static long cost(Cfg cfg, FunctionCfg f, Map<Loop, Long> trips, long loopIterations, Map<Integer, Long> memo) {
        Long done = memo.get(f.start());
        if (done != null) {
            return done;
        }
        memo.put(f.start(), Long.MAX_VALUE); // recursion is refused before this runs; be safe anyway
        long total = 0;
        for (Block b : f.blocks()) {
            total = add(total, mul(b.last() - b.first() + 1, multiplier(f, b.first(), trips)));
        }
        for (CallEdge e : f.callees()) {
            FunctionCfg callee = cfg.function(e.callee()).orElse(null);
            if (callee == null) {
                continue;
            }
            long each = cost(cfg, callee, trips, loopIterations, memo);
            long times = f.blockContaining(e.site()).map(b -> multiplier(f, b.first(), trips)).orElse(1L);
            total = add(total, mul(mul(each, times), e.kind() == CallEdge.Kind.CODE_ADDRESS ? loopIterations : 1));
        }
        memo.put(f.start(), total);
        return total;
    }

    private static long multiplier(FunctionCfg f, int block, Map<Loop, Long> trips) {
        long m = 1;
        for (Loop l : f.loops()) {
            if (l.body().contains(block)) {
                m = mul(m, trips.getOrDefault(l, 0L) + 1);
            }
        }
        return m;
    }

    private static long add(long a, long b) {
        long r = a + b;
        return r < 0 ? Long.MAX_VALUE : r;
    }

    private static long mul(long a, long b) {
        return a != 0 && Long.MAX_VALUE / a < b ? Long.MAX_VALUE : a * b;
    }
}
