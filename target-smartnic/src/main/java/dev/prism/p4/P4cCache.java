package dev.prism.p4;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * What p4c made of a source, by the SHA-256 of the tool, its arguments and the source: p4c is
 * deterministic, and most of a test run's time went into compiling the same generated sources
 * again (the fuzz's fixed seed, the suites, the examples). The cache lives in
 * {@code $PRISM_P4_CACHE} (or the system property {@code prism.p4.cache}), else
 * {@code ~/.cache/prism/p4c}; {@code off} turns it off. A changed lowering changes the sources,
 * so a stale entry is never found; entries are written to a temp file and renamed, so a reader
 * never sees half of one.
 */
final class P4cCache {
    private static final Path DIR = locate();

    private P4cCache() {
    }

    private static Path locate() {
        String v = System.getProperty("prism.p4.cache", System.getenv("PRISM_P4_CACHE"));
        if ("off".equals(v)) {
            return null;
        }
        if (v != null && !v.isBlank()) {
            return Path.of(v);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "prism", "p4c");
    }

    /** {@return the key of a tool run on a source} */
    static String key(Path tool, List<String> args, String source) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(tool.toString().getBytes(StandardCharsets.UTF_8));
            try {
                md.update(Long.toString(Files.getLastModifiedTime(tool).toMillis()).getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                // no time stamp: the path alone
            }
            md.update(String.join("\u0000", args).getBytes(StandardCharsets.UTF_8));
            md.update(source.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /** {@return the cached output for a key, or null} */
    static byte[] get(String key) {
        if (DIR == null) {
            return null;
        }
        try {
            Path f = DIR.resolve(key);
            return Files.isRegularFile(f) ? Files.readAllBytes(f) : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** Stores an output; a cache that cannot be written is no cache. */
    static void put(String key, byte[] output) {
        if (DIR == null) {
            return;
        }
        try {
            Files.createDirectories(DIR);
            Path tmp = Files.createTempFile(DIR, key, ".tmp");
            Files.write(tmp, output);
            Files.move(tmp, DIR.resolve(key), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            // best effort
        }
    }
}
