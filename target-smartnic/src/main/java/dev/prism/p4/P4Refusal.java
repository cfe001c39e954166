package dev.prism.p4;

/**
 * One reason the {@code p4} target cannot run a program: the instruction, the rule (a stable
 * identifier, {@code p4.*}), the sentence, and whether a legalization could lift it. Produced
 * only by {@link P4Checker}; {@link P4Target#compile} refuses with exactly these.
 *
 * @param pc          the instruction index, or -1 for the program as a whole
 * @param rule        stable identifier, e.g. {@code p4.helper}
 * @param sentence    lower case, stable wording
 * @param source      the C source line when the object has line info, else null
 * @param legalizable whether a transformation could lift it (a higher unroll limit, ...)
 */
public record P4Refusal(int pc, String rule, String sentence, String source, boolean legalizable) {
    @Override
    public String toString() {
        return (pc >= 0 ? pc + ": " : "") + sentence + " [" + rule + "]" + (source == null ? "" : " at " + source);
    }
}
