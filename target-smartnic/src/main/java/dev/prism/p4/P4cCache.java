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
 * never sees half of one. Entries are gzipped; past {@value #MAX_BYTES} bytes the least recently
 * used go.
 */
final class P4cCache {
    private static final Path DIR = locate();
    /** Most bytes the cache keeps (entries are gzipped: a 50-program bundle's JSON is about 1 MB so). */
    private static final long MAX_BYTES = 256L << 20;

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
            Path f = DIR.resolve(key + ".gz");
            if (!Files.isRegularFile(f)) {
                return null;
            }
            try (var in = new java.util.zip.GZIPInputStream(Files.newInputStream(f))) {
                byte[] out = in.readAllBytes();
                Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()));
                return out;
            }
        } catch (IOException e) {
            return null; // a damaged entry is a miss
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
            try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(tmp))) {
                out.write(output);
            }
            Files.move(tmp, DIR.resolve(key + ".gz"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            prune();
        } catch (IOException e) {
            // best effort
        }
    }

    /** Keeps the cache under {@value #MAX_BYTES} bytes: the least recently used entries go first. */
    private static void prune() throws IOException {
        List<Path> files;
        try (var s = Files.list(DIR)) {
            files = s.filter(f -> f.getFileName().toString().endsWith(".gz")).collect(java.util.stream.Collectors.toList());
        }
        long total = 0;
        for (Path f : files) {
            total += Files.size(f);
        }
        if (total <= MAX_BYTES) {
            return;
        }
        files.sort(java.util.Comparator.comparingLong(f -> {
            try {
                return Files.getLastModifiedTime(f).toMillis();
            } catch (IOException e) {
                return 0L;
            }
        }));
        for (Path f : files) {
            if (total <= MAX_BYTES / 2) {
                break;
            }
            long size = Files.size(f);
            if (Files.deleteIfExists(f)) {
                total -= size;
            }
        }
    }
}
