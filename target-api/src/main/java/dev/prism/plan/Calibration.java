package dev.prism.plan;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Cost models measured on one host by {@code prism bench --calibrate}, kept in a JSON file
 * ({@link #defaultPath()}: {@code $PRISM_CALIBRATION}, else
 * {@code ~/.cache/prism/calibration.json}):
 * <pre>{@code
 * {"format": 1, "host": "...", "created": "2026-...", "targets": {
 *    "x86-64": {"per_run_ns": 11.2, "helper_default_ns": 14, "class_ns": {"alu": 0.31, ...},
 *               "helper_ns": {"1:array": 0.9, "5": 19.5, ...}}, ...}}
 * }</pre>
 *
 * @param source  the file it was read from, or null for one not yet written
 * @param host    what machine it describes
 * @param created when it was measured (ISO-8601)
 * @param models  the models by target id
 */
public record Calibration(Path source, String host, String created, Map<String, CostModel> models) {
    public Calibration {
        models = Collections.unmodifiableMap(new LinkedHashMap<>(models));
    }

    /** {@return {@code $PRISM_CALIBRATION}, else {@code ~/.cache/prism/calibration.json}} */
    public static Path defaultPath() {
        String env = System.getenv("PRISM_CALIBRATION");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "prism", "calibration.json");
    }

    /** {@return the calibration at {@code file}, or empty when there is no such file} @throws IllegalArgumentException when it is not one */
    public static Optional<Calibration> readIfPresent(Path file) {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        return Optional.of(read(file));
    }

    /** {@return the calibration at {@code file}} @throws IllegalArgumentException naming the file when it cannot be read or is malformed */
    public static Calibration read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
        try {
            if (!(Json.parse(text) instanceof Map<?, ?> root)) {
                throw new IllegalArgumentException("expected an object");
            }
            if (!(root.get("format") instanceof Double f) || f != 1) {
                throw new IllegalArgumentException("format " + root.get("format") + " (this Prism reads format 1)");
            }
            Map<String, CostModel> models = new LinkedHashMap<>();
            if (root.get("targets") instanceof Map<?, ?> targets) {
                for (Map.Entry<?, ?> e : targets.entrySet()) {
                    models.put((String) e.getKey(), CostModel.fromJson((String) e.getKey(), e.getValue()));
                }
            }
            return new Calibration(file, String.valueOf(root.get("host")), String.valueOf(root.get("created")), models);
        } catch (IllegalArgumentException | ClassCastException e) {
            throw new IllegalArgumentException(file + ": not a calibration file: " + e.getMessage(), e);
        }
    }

    /** {@return the calibration as JSON} */
    public String toJson() {
        StringBuilder b = new StringBuilder("{\n  \"format\": 1,\n  \"host\": ").append(Json.quote(host))
                .append(",\n  \"created\": ").append(Json.quote(created)).append(",\n  \"targets\": {");
        String sep = "\n";
        for (Map.Entry<String, CostModel> e : models.entrySet()) {
            b.append(sep).append("    ").append(Json.quote(e.getKey())).append(": ").append(e.getValue().toJson("    "));
            sep = ",\n";
        }
        return b.append("\n  }\n}\n").toString();
    }

    /** Writes the file, creating its directory. @return the calibration as read back from {@code file} */
    public Calibration write(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Path tmp = Files.createTempFile(dir, "calibration", ".tmp");
        Files.writeString(tmp, toJson());
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return read(file);
    }
}
