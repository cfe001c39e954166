package dev.prism.target;

import dev.prism.error.TargetException;
import dev.prism.program.Program;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A target's answer to "can you run this program?" ({@link Target#check}): ok, or the reasons
 * it cannot, ordered by pc (whole-program reasons, pc -1, first).
 */
public record Verdict(List<Reason> reasons) {
    /** The program can run. */
    public static final Verdict OK = new Verdict(List.of());

    public Verdict {
        List<Reason> sorted = new ArrayList<>(reasons);
        sorted.sort(Comparator.comparingInt(Reason::pc));
        reasons = List.copyOf(sorted);
    }

    public static Verdict of(List<Reason> reasons) {
        return reasons.isEmpty() ? OK : new Verdict(reasons);
    }

    /** {@return whether the target can take the program} */
    public boolean ok() {
        return reasons.isEmpty();
    }

    /** {@return this verdict and {@code other}'s reasons together} */
    public Verdict and(Verdict other) {
        if (other.ok()) {
            return this;
        }
        List<Reason> all = new ArrayList<>(reasons);
        all.addAll(other.reasons);
        return new Verdict(all);
    }

    /** {@return the distinct rule ids of the reasons, in pc order} */
    public Set<String> rules() {
        Set<String> out = new LinkedHashSet<>();
        reasons.forEach(r -> out.add(r.rule()));
        return out;
    }

    /**
     * {@return the message a refusing {@code compile} carries: the first reason as
     * {@code "pc: not supported: sentence"}, then " (and N more)"}
     */
    public String message() {
        if (ok()) {
            return "ok";
        }
        Reason first = reasons.getFirst();
        String text = (first.pc() < 0 ? "" : first.pc() + ": ") + "not supported: " + first.sentence()
                + first.sourceLine().map(l -> " at " + l).orElse("");
        return reasons.size() == 1 ? text : text + " (and " + (reasons.size() - 1) + " more)";
    }

    /** Throws the refusal when not ok: what {@code compile} does with its own {@link Target#check}. */
    public void orThrow() {
        if (!ok()) {
            throw TargetException.refused(this);
        }
    }

    @Override
    public String toString() {
        if (ok()) {
            return "ok";
        }
        StringBuilder sb = new StringBuilder();
        for (Reason r : reasons) {
            sb.append(sb.isEmpty() ? "" : "\n").append(r);
        }
        return sb.toString();
    }

    /**
     * Collects reasons for one program and one target: fills in the source line from the
     * program's BTF line info and marks reasons liftable when the target's capabilities say a
     * legalization lifts their rule. Keeps one reason per (pc, rule).
     */
    public static final class Builder {
        private final Program program;
        private final Set<String> liftable;
        private final List<Reason> reasons = new ArrayList<>();
        private final Set<String> seen = new java.util.HashSet<>();

        /**
         * @param program  the program, for source lines (may be null)
         * @param liftable the rules a legalization lifts ({@link Capabilities#legalizes()})
         */
        public Builder(Program program, Set<String> liftable) {
            this.program = program;
            this.liftable = Set.copyOf(liftable);
        }

        /** Adds a reason; its source line comes from the program, its liftability from the capabilities. */
        public Builder add(int pc, String rule, String sentence) {
            return add(pc, rule, sentence, liftable.contains(rule), "");
        }

        /** Adds a reason with an explicit liftability and the target tooling's own message ("" for none). */
        public Builder add(int pc, String rule, String sentence, boolean canLift, String toolMessage) {
            Rule.require(rule);
            if (seen.add(pc + "\0" + rule)) {
                reasons.add(new Reason(pc, pc >= 0 && program != null ? program.sourceLine(pc).orElse(null) : null, rule,
                        sentence, canLift, toolMessage));
            }
            return this;
        }

        /** {@return whether a reason was added for this pc and rule} */
        public boolean has(int pc, String rule) {
            return seen.contains(pc + "\0" + rule);
        }

        public boolean isEmpty() {
            return reasons.isEmpty();
        }

        public Verdict build() {
            return Verdict.of(reasons);
        }
    }
}
