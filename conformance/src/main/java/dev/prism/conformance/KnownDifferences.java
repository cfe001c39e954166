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
 * ("4.1-arithmetic/lsh-imm-*.data") or, starting with {@code @}, names a {@link Behaviour}
 * ("@shift-imm-out-of-range"): then the entry covers every case whose program does that, in
 * any suite, whatever the file is called; {@code #} starts a comment.
 */
public final class KnownDifferences {
    /** One entry. */
    public record Entry(String target, String glob, String reason, int line) {
        boolean matches(String targetId, String caseId) {
            if (glob.startsWith("@")) {
                return false;
            }
            PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + glob);
            return target.equals(targetId) && m.matches(Path.of(caseId));
        }

        /** {@return whether this entry covers the case on the target: by its id, or by what its program does} */
        boolean matches(String targetId, ConformanceCase c) {
            if (glob.startsWith("@")) {
                return target.equals(targetId) && Behaviour.of(glob.substring(1)).in(c);
            }
            return matches(targetId, c.id());
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
                if (parts[1].startsWith("@")) {
                    try {
                        Behaviour.of(parts[1].substring(1));
                    } catch (IllegalArgumentException e) {
                        throw new SuiteFormatException(file, i + 1, e.getMessage());
                    }
                }
                out.add(new Entry(parts[0], parts[1], parts[2], i + 1));
            }
            return new KnownDifferences(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@return the entry that covers this case id on this target (entries by file name only)} */
    public Optional<Entry> find(String target, String caseId) {
        return entries.stream().filter(e -> e.matches(target, caseId)).findFirst();
    }

    /** {@return the entry that covers this case on this target, by its file name or by what it does} */
    public Optional<Entry> find(String target, ConformanceCase c) {
        return entries.stream().filter(e -> e.matches(target, c)).findFirst();
    }

    /** {@return these entries and those of {@code other}} */
    public KnownDifferences and(KnownDifferences other) {
        List<Entry> all = new ArrayList<>(entries);
        all.addAll(other.entries);
        return new KnownDifferences(all);
    }

    /** {@return only the entries that name a behaviour: those hold for any suite} */
    public KnownDifferences behaviours() {
        return new KnownDifferences(entries.stream().filter(e -> e.glob().startsWith("@")).toList());
    }

    public List<Entry> entries() {
        return entries;
    }
}
