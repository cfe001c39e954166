package dev.prism.p4;

import dev.prism.error.TargetException;
import dev.prism.target.Availability;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The P4 reference tools: {@code p4test}, {@code p4c-bm2-ss}, {@code simple_switch},
 * {@code simple_switch_CLI}. Found in {@code $PRISM_P4_HOME/bin} (or the system property
 * {@code prism.p4.home}), else on PATH. Availability runs each once ({@code --version},
 * {@code --help}) so that a missing runtime library is reported as such.
 *
 * @param p4test       the front/mid-end checker, or null
 * @param p4c          p4c-bm2-ss, or null
 * @param simpleSwitch BMv2 simple_switch, or null
 * @param cli          simple_switch_CLI, or null
 * @param availability whether all four run here, and what is missing
 */
record P4Toolchain(Path p4test, Path p4c, Path simpleSwitch, Path cli, Availability availability) {
    private static volatile P4Toolchain found;

    /** {@return the toolchain of this host, located once} */
    static P4Toolchain find() {
        P4Toolchain t = found;
        if (t == null) {
            synchronized (P4Toolchain.class) {
                if (found == null) {
                    found = locate();
                }
                t = found;
            }
        }
        return t;
    }

    private static P4Toolchain locate() {
        String home = System.getProperty("prism.p4.home", System.getenv("PRISM_P4_HOME"));
        List<String> missing = new ArrayList<>();
        Path[] tools = new Path[4];
        String[] names = {"p4test", "p4c-bm2-ss", "simple_switch", "simple_switch_CLI"};
        for (int i = 0; i < names.length; i++) {
            tools[i] = tool(home, names[i]);
            if (tools[i] == null) {
                missing.add(names[i]);
            }
        }
        String where = home != null ? "PRISM_P4_HOME=" + home + " and PATH" : "PATH (PRISM_P4_HOME unset)";
        if (!missing.isEmpty()) {
            return new P4Toolchain(tools[0], tools[1], tools[2], tools[3], Availability.no(
                    String.join(", ", missing) + " not found in " + where + "; the p4 target still emits P4 source"));
        }
        String[][] probes = {{tools[0].toString(), "--version"}, {tools[1].toString(), "--version"},
                {tools[2].toString(), "--version"}, {tools[3].toString(), "--help"}};
        for (String[] probe : probes) {
            try {
                Run r = run(List.of(probe), null, 20);
                if (r.status() != 0) {
                    return new P4Toolchain(tools[0], tools[1], tools[2], tools[3], Availability.no(Path.of(probe[0]).getFileName()
                            + " does not run (exit " + r.status() + "): " + lastLine(r.output())
                            + " (run install-deps of the P4 toolchain)"));
                }
            } catch (TargetException e) {
                return new P4Toolchain(tools[0], tools[1], tools[2], tools[3], Availability.no(e.getMessage()));
            }
        }
        return new P4Toolchain(tools[0], tools[1], tools[2], tools[3], Availability.yes("p4c and BMv2 from "
                + tools[0].getParent()));
    }

    private static String lastLine(String s) {
        String[] lines = s.strip().split("\n");
        return lines.length == 0 ? "" : lines[lines.length - 1];
    }

    private static Path tool(String home, String name) {
        if (home != null && !home.isBlank()) {
            Path p = Path.of(home, "bin", name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                return Path.of(dir, name);
            }
        }
        return null;
    }

    /** The outcome of a tool run: exit status and the merged output. */
    record Run(int status, String output, long nanos) {
    }

    /**
     * Runs a tool to completion.
     *
     * @throws TargetException when it cannot start or runs past {@code timeoutSeconds} (then it is killed)
     */
    static Run run(List<String> command, Path dir, long timeoutSeconds) {
        long t0 = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new TargetException("cannot run " + command.getFirst() + ": " + e.getMessage(), e);
        }
        try (InputStream in = p.getInputStream()) {
            byte[][] out = new byte[1][];
            Thread reader = Thread.ofVirtual().start(() -> {
                try {
                    out[0] = in.readAllBytes();
                } catch (IOException e) {
                    out[0] = new byte[0];
                }
            });
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                throw new TargetException(Path.of(command.getFirst()).getFileName() + " ran past " + timeoutSeconds + " s; stopped");
            }
            reader.join(5000);
            String text = out[0] == null ? "" : new String(out[0], StandardCharsets.UTF_8);
            return new Run(p.exitValue(), text, System.nanoTime() - t0);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new TargetException("interrupted while running " + command.getFirst(), e);
        } catch (IOException e) {
            p.destroyForcibly();
            throw new TargetException("reading the output of " + command.getFirst() + ": " + e.getMessage(), e);
        }
    }
}
