package dev.prism.program;

/**
 * Where an instruction came from, from BTF.ext line info.
 *
 * @param file   the source file name as recorded ("parse.c")
 * @param line   the 1-based line
 * @param column the 1-based column, 0 when unknown
 * @param text   the source line's text when BTF carries it, else empty
 */
public record SourceLine(String file, int line, int column, String text) {
    @Override
    public String toString() {
        return file + ":" + line;
    }
}
