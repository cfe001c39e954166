package dev.prism.conformance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The checked-in list of cases where a target is known to differ from RFC 9669 as the
 * interpreter implements it, each with its reason (suite/known-differences.txt). A listed case
 * still runs: when it fails, it is reported as skipped with the reason; when it passes, the entry
 * is stale and the report says so, so the list cannot silently outlive the difference.
 *
 * <p>Format: one entry per line, {@code TARGET  GLOB  REASON}, where GLOB matches case ids
 * ("4.1-arithmetic/lsh-imm-*.data"); {@code #} starts a comment.
 */
public final class KnownDifferences {
    /** One entry. */
    public record Entry(String target, String glob, String reason, int line) {
        boolean matches(String targetId, String caseId) {
            PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + glob);
            return target.equals(targetId) && m.matches(Path.of(caseId));
        }
    }

    private final List<Entry> entries;

    public KnownDifferences(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    public static KnownDifferences none() {
        return new KnownDifferences(List.of());
    }

    /** {@return the entries in {@code file}, or none when it does not exist} */
    public static KnownDifferences read(Path file) {
        if (!Files.exists(file)) {
            return none();
        }
        try {
            List<Entry> out = new ArrayList<>();
            List<String> lines = Files.readAllLines(file);
            for (int i = 0; i < lines.size(); i++) {
                String l = lines.get(i);
                int hash = l.indexOf('#');
                String s = (hash < 0 ? l : l.substring(0, hash)).strip();
                if (s.isEmpty()) {
                    continue;
                }
                String[] parts = s.split("\\s+", 3);
                if (parts.length < 3) {
                    throw new SuiteFormatException(file, i + 1, "expected 'TARGET GLOB REASON'");
                }
                out.add(new Entry(parts[0], parts[1], parts[2], i + 1));
            }
            return new KnownDifferences(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@return the entry that covers this case on this target} */
    public Optional<Entry> find(String target, String caseId) {
        return entries.stream().filter(e -> e.matches(target, caseId)).findFirst();
    }

    public List<Entry> entries() {
        return entries;
    }
}
