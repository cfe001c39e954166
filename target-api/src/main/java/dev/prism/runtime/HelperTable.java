package dev.prism.runtime;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Helpers by Linux helper id. The table can be rebound (a test injects a deterministic clock, a
 * JIT routes ids to native code), so the interpreter never names a helper itself.
 */
public final class HelperTable {
    /** Linux helper ids (include/uapi/linux/bpf.h, __BPF_FUNC_MAPPER order). */
    public static final int BPF_FUNC_CSUM_DIFF = 28;

    private final Map<Integer, Entry> helpers = new HashMap<>();

    /** A helper with its Linux name. */
    public record Entry(int id, String name, Helper helper) {
    }

    /**
     * {@return every helper of {@link Helpers} that is not control flow (tail_call and loop are
     * the interpreter's own)}
     */
    public static HelperTable standard() {
        HelperTable t = new HelperTable();
        StandardHelpers.bindAll(t);
        return t;
    }

    /** Binds (or rebinds) helper {@code id}. */
    public HelperTable bind(int id, String name, Helper helper) {
        helpers.put(id, new Entry(id, name, helper));
        return this;
    }

    /** {@return the helper with this id, if bound} */
    public Optional<Entry> lookup(int id) {
        return Optional.ofNullable(helpers.get(id));
    }
}
