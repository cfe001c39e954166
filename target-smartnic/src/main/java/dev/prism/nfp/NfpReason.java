package dev.prism.nfp;

import dev.prism.program.SourceLine;
import dev.prism.target.Reason;
import java.util.Objects;

/**
 * Why the nfp driver (or the kernel core before it) refuses an instruction, or would run it
 * differently.
 *
 * @param pc           the instruction (slot index, as in the kernel's log); -1 for a whole-program rule
 * @param line         the source line from BTF line info, or null
 * @param rule         the rule
 * @param sentence     what is wrong, in words for the user
 * @param quote        the exact line the driver or kernel prints for it ("[nfp] divisor is not
 *                     constant"), or null where it prints nothing (then the sentence is Prism's
 *                     own, and {@link #toString} marks it "(prism)")
 * @param legalizable  whether {@link NfpLegalizer} rewrites it away
 */
public record NfpReason(int pc, SourceLine line, NfpRule rule, String sentence, String quote, boolean legalizable) {
    public NfpReason {
        Objects.requireNonNull(rule);
        Objects.requireNonNull(sentence);
    }

    /** {@return whether the driver prints nothing for this refusal} */
    public boolean driverSilent() {
        return quote == null;
    }

    /** {@return the reason at another pc (a legalized pc mapped back)} */
    NfpReason at(int newPc, SourceLine newLine) {
        return new NfpReason(newPc, newLine, rule, sentence, quote, legalizable);
    }

    /** {@return the driver's message followed by the sentence, or "(prism) " and the sentence} */
    public String text() {
        return quote != null ? quote + ": " + sentence : "(prism) " + sentence;
    }

    /** {@return the SPI's form: the sentence carries the quote, the tool message is the quote} */
    public Reason toReason() {
        return new Reason(pc, line, rule.id(), text(), legalizable, quote == null ? "" : quote);
    }

    /** {@return "pc: rule: [nfp] message: sentence at file.c:line (legalizable)"} */
    @Override
    public String toString() {
        return (pc < 0 ? "-" : Integer.toString(pc)) + ": " + rule.id() + ": " + text() + (line == null ? "" : " at " + line)
                + (legalizable ? " (legalizable)" : "");
    }
}
