package dev.prism.arm64;

/**
 * Memory ordering of an LSE atomic (ARM ARM C3.2.12): the suffix of the mnemonic
 * ({@code ldadd}, {@code ldadda}, {@code ldaddl}, {@code ldaddal}).
 */
public enum A64MemOrder {
    PLAIN("", false, false),
    ACQUIRE("a", true, false),
    RELEASE("l", false, true),
    ACQ_REL("al", true, true);

    public final String suffix;
    public final boolean acquire;
    public final boolean release;

    A64MemOrder(String suffix, boolean acquire, boolean release) {
        this.suffix = suffix;
        this.acquire = acquire;
        this.release = release;
    }
}
