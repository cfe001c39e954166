package dev.prism.runtime;

import dev.prism.error.TargetException;
import dev.prism.error.VerificationException;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import java.util.ArrayList;
import java.util.List;

/**
 * tc programs handed to a target unverified: {@code struct __sk_buff} exists only in the host
 * layout the verifier normalizes it into ({@link dev.prism.program.SkbContext}), so such
 * programs are verified (profile rfc9669, as the JITs verify what they are given) and
 * normalized before they run.
 */
final class SkbPrograms {
    private SkbPrograms() {
    }

    /** {@return the programs, each tc program still in the user layout replaced by its normalized form} */
    static List<Program> normalized(List<Program> programs) {
        if (programs.stream().noneMatch(p -> p.type() == ProgramType.TC && p.contextLayout() != Program.ContextLayout.HOST)) {
            return programs;
        }
        List<Program> out = new ArrayList<>();
        for (Program p : programs) {
            if (p.type() == ProgramType.RAW || p.contextLayout() == Program.ContextLayout.HOST) {
                out.add(p);
                continue;
            }
            try {
                out.add(Verifier.verify(p, Profile.RFC9669, -1, null).normalized());
            } catch (VerificationException e) {
                throw new TargetException("rejected by the verifier (" + p.name() + "): " + e.getMessage(), e);
            }
        }
        return out;
    }
}
