package dev.prism.conformance;

import java.nio.file.Path;

/** A {@code .data} file that does not follow the format; the message reads {@code file:line: reason}. */
public class SuiteFormatException extends IllegalArgumentException {
    public SuiteFormatException(Path file, int line, String reason) {
        super(file + ":" + line + ": " + reason);
    }
}
