package dev.prism.conformance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where bpf_conformance's own tests are: {@code ../shared/bpf_conformance/tests} next to the
 * repository root (the workplace provides it, unmodified; it is never copied into the project).
 * The root is the nearest directory at or above the working directory whose pom.xml is Prism's
 * parent pom, so the path is the same from the root and from a module (where Surefire runs).
 * The system property {@value #PROPERTY} points elsewhere.
 */
final class UpstreamSuite {
    static final String PROPERTY = "prism.upstream.tests";
    /** The name tests give {@link dev.prism.testing.Host#require}: PRISM_REQUIRE=all makes its absence a failure. */
    static final String REQUIREMENT = "bpf_conformance";

    private UpstreamSuite() {
    }

    /** {@return the folder, or empty with nothing there} */
    static Optional<Path> locate() {
        String explicit = System.getProperty(PROPERTY);
        if (explicit != null && !explicit.isBlank()) {
            return Optional.of(Path.of(explicit)).filter(Files::isDirectory);
        }
        return root().map(r -> r.getParent() == null ? null : r.getParent().resolve("shared/bpf_conformance/tests"))
                .filter(Files::isDirectory);
    }

    /** {@return where the search looks, for skip messages} */
    static String where() {
        return root().map(r -> String.valueOf(r.getParent()) + "/shared/bpf_conformance/tests")
                .orElse("../shared/bpf_conformance/tests (no Prism repository root above " + Path.of("").toAbsolutePath() + ")");
    }

    /** {@return the repository root: the nearest directory upward holding Prism's parent pom} */
    static Optional<Path> root() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path pom = d.resolve("pom.xml");
            try {
                if (Files.isRegularFile(pom) && Files.readString(pom).contains("<artifactId>prism-parent</artifactId>")
                        && Files.isDirectory(d.resolve("conformance"))) {
                    return Optional.of(d);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return Optional.empty();
    }
}
