package dev.prism.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reading inputs and writing outputs, with failures phrased for the user ("cannot read F: no such file"). */
final class Io {
    private Io() {
    }

    /** {@return the contents of {@code file}, or all of {@code stdin} when it is "-"} */
    static byte[] read(String file, InputStream stdin) {
        try {
            return file.equals("-") ? stdin.readAllBytes() : Files.readAllBytes(Path.of(file));
        } catch (IOException e) {
            throw CliException.usage("cannot read " + file + ": " + why(Path.of(file), e));
        }
    }

    /** Writes {@code data} to {@code file}, replacing it. */
    static void write(Path file, byte[] data) {
        try {
            Files.write(file, data);
        } catch (IOException e) {
            Path dir = file.toAbsolutePath().getParent();
            throw CliException.usage("cannot write " + file + ": "
                    + (e instanceof NoSuchFileException && dir != null && !Files.isDirectory(dir) ? "no such directory" : why(file, e)));
        }
    }

    private static String why(Path file, IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (Files.isDirectory(file)) {
            return "is a directory";
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
