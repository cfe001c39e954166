package dev.prism.error;

/**
 * An ELF object that cannot be loaded: truncated, inconsistent, hostile, or asking for something
 * Prism does not support. The message names the section and the file offset where it went
 * wrong, e.g. {@code .rel.xdp @0x1a8: relocation 3 targets offset 0x400, outside section xdp (0x120 bytes)}.
 */
public final class ElfException extends PrismException {
    public ElfException(String message) {
        super(message);
    }
}
