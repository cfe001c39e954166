package dev.prism.conformance.plugin;

import dev.prism.conformance.ConformanceCase;
import dev.prism.error.TargetException;
import dev.prism.isa.InsnCodec;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import dev.prism.verifier.VerifiedProgram;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * An external bpf_conformance plugin as a target ({@code --target 'plugin:COMMAND ARGS'}): each
 * case's program goes to a new process of the plugin, which answers with the program's r0. The
 * protocol is bpf_conformance's: the program's bytes in hex on stdin (two digits a byte,
 * separated by spaces, a newline at the end), the input memory in the same form as one more
 * argument after ARGS (an empty string when there is none), r0 in hex on stdout (a {@code 0x}
 * prefix is allowed) and exit 0; any failure is a non-zero exit with a message (stdout or
 * stderr).
 *
 * <p>A plugin takes one raw program and its memory, nothing else: cases with maps, an xdp
 * packet or an ELF object are not for it ({@link #whyNot}). A plugin that hangs is killed after
 * the per-case timeout, with every process it started; one that crashes costs its case only.
 * What it wrote on stderr is kept (its last {@value #STDERR_TAIL} characters) for the report.
 */
public final class PluginTarget implements Target {
    /** The prefix of a plugin target on the command line. */
    public static final String PREFIX = "plugin:";
    /** Characters of stderr kept for the report: the end of it, where the reason usually is. */
    public static final int STDERR_TAIL = 600;
    private static final int STDOUT_LIMIT = 4096;
    private static final HexFormat SPACED = HexFormat.ofDelimiter(" ");

    private final String spec;
    private final List<String> command;
    private final Duration timeout;

    /**
     * @param spec    the command line after {@code plugin:}: the command and its arguments,
     *                separated by blanks, quoted with {@code '...'} or {@code "..."} where an
     *                argument holds blanks
     * @param timeout how long one case may take
     */
    public PluginTarget(String spec, Duration timeout) {
        this.spec = spec.strip();
        this.command = split(this.spec);
        if (command.isEmpty()) {
            throw new IllegalArgumentException("plugin: names no command (expected 'plugin:COMMAND ARGS')");
        }
        this.timeout = timeout;
    }

    /** {@return whether {@code target} names a plugin ({@code plugin:...})} */
    public static boolean isPlugin(String target) {
        return target.startsWith(PREFIX);
    }

    @Override
    public String id() {
        return PREFIX + spec;
    }

    @Override
    public String description() {
        return "external bpf_conformance plugin: " + String.join(" ", command);
    }

    @Override
    public Availability availability() {
        String exe = command.getFirst();
        if (exe.contains("/")) {
            Path p = Path.of(exe);
            return Files.isExecutable(p) ? Availability.yes("plugin " + exe)
                    : Availability.no("plugin command " + exe + (Files.exists(p) ? " is not executable" : " does not exist"));
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, exe))) {
                return Availability.yes("plugin " + Path.of(dir, exe));
            }
        }
        return Availability.no("plugin command " + exe + " is not on PATH");
    }

    /** A plugin claims nothing: what it can run is learned case by case. */
    @Override
    public Capabilities capabilities() {
        return Capabilities.everything(Set.of());
    }

    @Override
    public Artifact compile(VerifiedProgram verified) {
        throw TargetException.unsupported("compiling on a plugin target (a plugin only runs programs)");
    }

    /**
     * {@return why the case cannot go to a plugin, or null when it can}: the protocol carries
     * one raw program and its memory
     */
    public static String whyNot(ConformanceCase c) {
        if (c.isElf()) {
            return "an -- elf case (the plugin protocol carries one raw program and its memory)";
        }
        if (!c.maps().isEmpty()) {
            return "a case with -- maps (the plugin protocol has no maps)";
        }
        if (c.type() != ProgramType.RAW || c.packet() != null) {
            return "an " + c.type().id() + " program with a packet (the plugin protocol runs raw programs on memory)";
        }
        return null;
    }

    /** Runs a raw program without maps; anything else is not supported. */
    @Override
    public Executable load(List<Program> programs) {
        if (programs.size() != 1) {
            throw TargetException.unsupported(programs.size() + " programs on a plugin (the protocol carries one)");
        }
        Program p = programs.getFirst();
        if (p.type() != ProgramType.RAW || !p.maps().isEmpty()) {
            throw TargetException.unsupported("a " + p.type().id() + " program" + (p.maps().isEmpty() ? "" : " with maps")
                    + " on a plugin (the protocol runs raw programs without maps)");
        }
        byte[] code = InsnCodec.encode(p.slots());
        return new Executable() {
            @Override
            public RunResult run(RunInput input) {
                return switch (PluginTarget.this.run(code, input.mem())) {
                    case Answer.Value v -> new RunResult(v.r0(), input.mem(), null);
                    case Answer.Failed f -> throw new TargetException(f.describe());
                };
            }

            @Override
            public MapAccess maps() {
                throw TargetException.unsupported("maps on a plugin");
            }

            @Override
            public void close() {
            }
        };
    }

    /** What the plugin did with one program. */
    public sealed interface Answer {
        /** r0, printed in hex, exit 0. */
        record Value(long r0) implements Answer {
        }

        /**
         * Anything else.
         *
         * @param kind   what went wrong
         * @param exit   the exit status (-1 when it did not exit by itself)
         * @param stdout what it printed (cut short)
         * @param stderr the end of what it wrote on stderr
         */
        record Failed(Kind kind, int exit, String stdout, String stderr) implements Answer {
            /** {@return one line for the report: what happened, then the plugin's own words} */
            public String describe() {
                String head = switch (kind) {
                    case ERROR -> "plugin failed (exit " + exit + ")";
                    case CRASH -> "plugin crashed (exit " + exit + (exit > 128 ? ", signal " + (exit - 128) : "") + ")";
                    case TIMEOUT -> "plugin did not answer in time and was killed";
                    case GARBAGE -> "plugin exited 0 but printed '" + stdout.strip() + "', not r0 in hex";
                    case NOT_STARTED -> "plugin could not be started";
                };
                String words = kind == Kind.GARBAGE ? "" : (stdout.strip() + " " + stderr.strip()).strip();
                return words.isEmpty() ? head : head + ": " + words;
            }
        }

        /** The ways a plugin run goes wrong. */
        enum Kind {
            /** A non-zero exit: the protocol's answer "this program fails". */
            ERROR,
            /** Killed by a signal (exit above 128). */
            CRASH,
            /** No answer within the timeout. */
            TIMEOUT,
            /** Exit 0 without a hex number on stdout. */
            GARBAGE,
            /** The command could not be started. */
            NOT_STARTED
        }
    }

    /** {@return the plugin's answer for {@code code} run on {@code mem}} */
    public Answer run(byte[] code, byte[] mem) {
        List<String> cmd = new ArrayList<>(command);
        cmd.add(SPACED.formatHex(mem));
        Process p;
        try {
            p = new ProcessBuilder(cmd).start();
        } catch (IOException e) {
            return new Answer.Failed(Answer.Kind.NOT_STARTED, -1, "", e.getMessage() == null ? e.toString() : e.getMessage());
        }
        LIVE.add(p);
        try {
            return answer(p, code);
        } finally {
            LIVE.remove(p);
        }
    }

    /** Plugin processes running now: killed, with their children, when this JVM exits (a ^C ends the run, not the plugins). */
    private static final java.util.Set<Process> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> LIVE.forEach(p -> {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        })));
    }

    private Answer answer(Process p, byte[] code) {
        Capture out = new Capture(p.getInputStream(), STDOUT_LIMIT, false);
        Capture err = new Capture(p.getErrorStream(), STDERR_TAIL, true);
        Thread feeder = Thread.ofVirtual().start(() -> {
            try (OutputStream in = p.getOutputStream()) {
                in.write((SPACED.formatHex(code) + "\n").getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                // the plugin closed stdin early or died: its exit status says what happened
            }
        });
        boolean exited;
        try {
            exited = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            kill(p);
            Thread.currentThread().interrupt();
            return new Answer.Failed(Answer.Kind.TIMEOUT, -1, "", "interrupted");
        }
        if (!exited) {
            kill(p);
        }
        feeder.interrupt();
        String stdout = out.text();
        String stderr = err.text();
        if (!exited) {
            return new Answer.Failed(Answer.Kind.TIMEOUT, -1, stdout, stderr);
        }
        int exit = p.exitValue();
        if (exit > 128) {
            return new Answer.Failed(Answer.Kind.CRASH, exit, stdout, stderr);
        }
        if (exit != 0) {
            return new Answer.Failed(Answer.Kind.ERROR, exit, stdout, stderr);
        }
        String s = stdout.strip();
        if (s.startsWith("0x") || s.startsWith("0X")) {
            s = s.substring(2);
        }
        if (s.isEmpty() || s.length() > 16 || !s.matches("[0-9a-fA-F]+")) {
            return new Answer.Failed(Answer.Kind.GARBAGE, exit, stdout, stderr);
        }
        return new Answer.Value(Long.parseUnsignedLong(s, 16));
    }

    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Reads a stream to its end on a virtual thread, keeping its first or last {@code limit} characters. */
    private static final class Capture {
        private final Thread reader;
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private final int limit;
        private final boolean tail;
        private boolean cut;

        Capture(InputStream in, int limit, boolean tail) {
            this.limit = limit;
            this.tail = tail;
            reader = Thread.ofVirtual().start(() -> {
                byte[] buf = new byte[4096];
                try (in) {
                    for (int n; (n = in.read(buf)) > 0; ) {
                        synchronized (kept) {
                            kept.write(buf, 0, n);
                            if (kept.size() > 2 * limit) {
                                byte[] all = kept.toByteArray();
                                kept.reset();
                                if (tail) {
                                    kept.write(all, all.length - limit, limit);
                                } else {
                                    kept.write(all, 0, limit);
                                }
                                cut = true;
                            }
                        }
                    }
                } catch (IOException e) {
                    // the process was killed: what was read is what there is
                }
            });
        }

        String text() {
            try {
                reader.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (kept) {
                String s = kept.toString(StandardCharsets.UTF_8);
                if (s.length() > limit) {
                    s = tail ? s.substring(s.length() - limit) : s.substring(0, limit);
                    cut = true;
                }
                return !cut ? s : tail ? "..." + s : s + "...";
            }
        }
    }

    /** {@return the words of a command line: blanks separate them, '...' and "..." group them} */
    static List<String> split(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (quote != 0) {
                if (ch == quote) {
                    quote = 0;
                } else {
                    word.append(ch);
                }
            } else if (ch == '\'' || ch == '"') {
                quote = ch;
                inWord = true;
            } else if (Character.isWhitespace(ch)) {
                if (inWord) {
                    out.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(ch);
                inWord = true;
            }
        }
        if (quote != 0) {
            throw new IllegalArgumentException("unterminated " + quote + " in plugin command '" + line + "'");
        }
        if (inWord) {
            out.add(word.toString());
        }
        return out;
    }
}
