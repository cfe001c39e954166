package dev.prism.error;

import java.util.List;

/**
 * The verifier refused a program. Each diagnostic reads {@code pc: reason (detail)}, with the
 * source line when BTF line info is present; the message is the first one.
 */
public final class VerificationException extends PrismException {
    private final List<String> diagnostics;

    public VerificationException(List<String> diagnostics) {
        super(diagnostics.isEmpty() ? "rejected" : diagnostics.get(0));
        this.diagnostics = List.copyOf(diagnostics);
    }

    /** {@return every diagnostic, in pc order} */
    public List<String> diagnostics() {
        return diagnostics;
    }
}
