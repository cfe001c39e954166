package dev.prism.conformance;

import java.nio.file.Path;

/**
 * A {@code .data} file with a directive the reader does not know. bpf_conformance skips such a
 * file with a message and goes on ({@link DataFileReader#load} does the same); the strict
 * {@link DataFileReader#readSuite} refuses it like any other format error.
 */
public final class UnknownDirectiveException extends SuiteFormatException {
    public UnknownDirectiveException(Path file, int line, String reason) {
        super(file, line, reason);
    }
}
