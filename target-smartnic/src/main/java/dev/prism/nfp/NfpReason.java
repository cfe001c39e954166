package dev.prism.nfp;

import java.util.Objects;

/**
 * Why the nfp driver (or the kernel core before it) refuses an instruction, or would run it
 * differently.
 *
 * @param pc           the instruction (slot index as in the kernel's log); 0 for a whole-program rule
 * @param sourceLine   "file.c:line" from BTF line info, or null
 * @param rule         the rule
 * @param sentence     what is wrong, in words for the user
 * @param quote        the exact line the driver or kernel prints for it ("[nfp] divisor is not
 *                     constant"), or null where it prints nothing (then the sentence is Prism's
 *                     own, and {@link #toString} marks it "(prism)")
 * @param legalizable  whether {@link NfpLegalizer} rewrites it away
 */
public record NfpReason(int pc, String sourceLine, NfpRule rule, String sentence, String quote, boolean legalizable) {
    public NfpReason {
        Objects.requireNonNull(rule);
        Objects.requireNonNull(sentence);
    }

    /** {@return whether the driver prints nothing for this refusal} */
    public boolean driverSilent() {
        return quote == null;
    }

    /** {@return the reason with another pc and source line (after mapping a legalized pc back)} */
    NfpReason at(int newPc, String line) {
        return new NfpReason(newPc, line, rule, sentence, quote, legalizable);
    }

    /** {@return "pc: [nfp] message (nfp.rule; sentence)" or "pc: (prism) sentence (nfp.rule)"} */
    @Override
    public String toString() {
        String where = sourceLine == null ? "" : " at " + sourceLine;
        String fix = legalizable ? ", legalizable" : "";
        return quote != null
                ? pc + ": " + quote + " (" + rule.id() + fix + ": " + sentence + ")" + where
                : pc + ": (prism) " + sentence + " (" + rule.id() + fix + ")" + where;
    }
}
