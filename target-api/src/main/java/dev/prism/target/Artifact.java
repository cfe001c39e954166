package dev.prism.target;

/** What a target made of a program: code, source text, a listing; loadable into an {@link Executable}. */
public interface Artifact {
    /** {@return a human-readable listing (disassembly, generated source); may be empty} */
    String listing();

    /** {@return the artifact's bytes (machine code, an image), empty when it has none} */
    default byte[] bytes() {
        return new byte[0];
    }

    /** {@return the program ready to run} @throws dev.prism.error.TargetException when loading fails */
    Executable load();
}
