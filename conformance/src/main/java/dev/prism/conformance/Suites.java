package dev.prism.conformance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.util.Map;

/** Where Prism's own suite lives: {@code suite/} in the conformance jar or build directory. */
public final class Suites {
    private Suites() {
    }

    /** {@return the root of the built-in suite (suite/rfc9669, suite/maps and the known-differences file)} */
    public static Path builtinRoot() {
        URL url = Suites.class.getResource("/suite/known-differences.txt");
        if (url == null) {
            throw new IllegalStateException("the built-in suite is missing from the class path");
        }
        try {
            URI uri = url.toURI();
            if (uri.getScheme().equals("jar")) {
                FileSystem fs;
                try {
                    fs = FileSystems.newFileSystem(uri, Map.of());
                } catch (FileSystemAlreadyExistsException e) {
                    fs = FileSystems.getFileSystem(uri);
                }
                return fs.getPath("/suite");
            }
            return Path.of(uri).getParent();
        } catch (URISyntaxException | IOException e) {
            throw new UncheckedIOException(new IOException("cannot open the built-in suite at " + url, e));
        }
    }

    /** {@return the RFC 9669 suite directory} */
    public static Path rfc9669() {
        return builtinRoot().resolve("rfc9669");
    }

    /**
     * {@return the map-semantics suite directory (suite/maps): what programs observe of Linux's
     * map types through helpers 1-3, tail calls, ring buffers and XDP packet helpers; not part of
     * RFC 9669, which defines no maps}
     */
    public static Path maps() {
        return builtinRoot().resolve("maps");
    }

    /** {@return the verifier suite directory (suite/verifier): accept/reject cases with diagnostics} */
    public static Path verifier() {
        return builtinRoot().resolve("verifier");
    }

    /** {@return the known differences that ship with the built-in suite} */
    public static KnownDifferences knownDifferences() {
        return KnownDifferences.read(builtinRoot().resolve("known-differences.txt"));
    }
}
