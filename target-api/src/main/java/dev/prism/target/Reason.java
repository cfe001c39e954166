package dev.prism.target;

import dev.prism.program.SourceLine;
import java.util.Objects;
import java.util.Optional;

/**
 * Why a target cannot take a program: one refusal, at one instruction.
 *
 * @param pc          the instruction index, or -1 when the refusal concerns the whole program
 *                    (its type, its size, a map)
 * @param line        the source line from BTF line info, or null when unknown
 * @param rule        the stable rule id ({@link Rule})
 * @param sentence    what is refused, lower case, without the pc ("mod64 dst, imm: the target has no modulo")
 * @param liftable    whether a legalization of the target could lift it
 * @param toolMessage the target's own tooling's message for it (the nfp driver's verifier log,
 *                    p4c's error), or "" when there is none
 */
public record Reason(int pc, SourceLine line, String rule, String sentence, boolean liftable, String toolMessage) {
    public Reason {
        if (pc < -1) {
            throw new IllegalArgumentException("pc " + pc);
        }
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(sentence, "sentence");
        toolMessage = toolMessage == null ? "" : toolMessage;
    }

    /** {@return a reason without source line or tool message} */
    public static Reason of(int pc, String rule, String sentence, boolean liftable) {
        return new Reason(pc, null, rule, sentence, liftable, "");
    }

    public Optional<SourceLine> sourceLine() {
        return Optional.ofNullable(line);
    }

    public Reason withToolMessage(String message) {
        return new Reason(pc, line, rule, sentence, liftable, message);
    }

    /**
     * {@return {@code "pc: rule: sentence at file.c:line"}; "-" for the pc of a whole-program
     * reason, no " at" without a line, " (liftable)" when a legalization could lift it}
     */
    @Override
    public String toString() {
        return (pc < 0 ? "-" : Integer.toString(pc)) + ": " + rule + ": " + sentence + (line == null ? "" : " at " + line)
                + (liftable ? " (liftable)" : "");
    }
}
