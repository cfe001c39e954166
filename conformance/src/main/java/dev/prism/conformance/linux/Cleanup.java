package dev.prism.conformance.linux;

import dev.prism.error.TargetException;
import java.util.List;

/** Releasing kernel objects so that one failed close neither stops the others nor hides a failure. */
final class Cleanup {
    private Cleanup() {
    }

    /** Runs every step; throws the first failure, with the later ones attached as suppressed. */
    static void runAll(List<Runnable> steps) {
        TargetException first = null;
        for (Runnable step : steps) {
            try {
                step.run();
            } catch (TargetException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** Runs {@code close} after {@code failure}, attaching a failure to close to it; returns {@code failure}. */
    static RuntimeException closeAfter(RuntimeException failure, Runnable close) {
        try {
            close.run();
        } catch (RuntimeException closing) {
            failure.addSuppressed(closing);
        }
        return failure;
    }
}
