package dev.prism.isa;

/** The {@code src} subtypes of CALL (RFC 9669 section 4.3.1). */
public enum CallKind {
    /** imm is a helper's static id (Linux helper ids) */
    HELPER,
    /** imm is the offset, in slots from the next instruction, of a program-local function */
    LOCAL,
    /** imm is the BTF id of a helper (a kfunc in Linux); decoded, executed only where supported */
    HELPER_BTF;

    public int src() {
        return ordinal();
    }
}
