package dev.prism.p4;

import dev.prism.error.TargetException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One BMv2 {@code simple_switch} process on pcap files, in a temp directory of its own.
 *
 * <p>Port 0's input is a FIFO (the race-free way of p4c's own STF driver): the switch starts
 * with {@code --use-files 0}, Prism opens the FIFO, writes the pcap header and keeps it open, so
 * table entries go in before any packet and batch after batch goes through the same process.
 * The other ports read empty pcap files. Outputs are {@code pN_out.pcap}, read as they grow.
 * Thrift listens on a free port (BMv2 binds every interface; Prism connects to 127.0.0.1), the
 * runtime CLI is one long-lived {@code simple_switch_CLI} fed on stdin. Every process is stopped
 * by its PID on {@link #close}, and by a shutdown hook for switches still open when the JVM exits.
 */
final class Bmv2Switch implements AutoCloseable {
    /** Ports with pcap interfaces: the wire (0), ports 1..3 for redirects, the host port. */
    static final int[] PORTS = {0, 1, 2, 3, P4Lowering.HOST_PORT};
    private static final Set<Bmv2Switch> LIVE = ConcurrentHashMap.newKeySet();
    /** How long start-up may take: a bundle's JSON is megabytes, and this machine is shared (20 s was not enough under load). */
    private static final long START_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(120);
    private static final long CLI_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(60);

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Bmv2Switch::close), "prism-bmv2-shutdown"));
    }

    private final Path dir;
    private final Process sw;
    private final OutputStream wire;
    private final Process cli;
    private final Writer cliIn;
    private final BlockingQueue<String> cliOut = new LinkedBlockingQueue<>();
    private final long[] outOffset = new long[PORTS.length];
    private int sync;
    private boolean closed;

    private Bmv2Switch(Path dir, Process sw, OutputStream wire, Process cli) {
        this.dir = dir;
        this.sw = sw;
        this.wire = wire;
        this.cli = cli;
        this.cliIn = new java.io.OutputStreamWriter(cli.getOutputStream(), StandardCharsets.UTF_8);
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(cli.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    cliOut.add(line);
                }
            } catch (IOException e) {
                // the CLI ended; cli() reports it
            }
            cliOut.add("\u0000eof");
        });
    }

    /** {@return a running switch for the BMv2 JSON} @throws TargetException naming what failed */
    static Bmv2Switch start(P4Toolchain tc, byte[] json) {
        Path dir;
        try {
            dir = Files.createTempDirectory("prism-bmv2-");
            Files.write(dir.resolve("prog.json"), json);
            for (int port : PORTS) {
                if (port != 0) {
                    Files.write(dir.resolve("p" + port + "_in.pcap"), Pcap.header());
                }
            }
        } catch (IOException e) {
            throw new TargetException("bmv2: cannot prepare a temp directory: " + e.getMessage(), e);
        }
        Process sw = null;
        Process cli = null;
        OutputStream wire = null;
        try {
            P4Toolchain.Run fifo = P4Toolchain.run(List.of("mkfifo", dir.resolve("p0_in.pcap").toString()), dir, 10);
            if (fifo.status() != 0) {
                throw new TargetException("bmv2: mkfifo failed: " + fifo.output().strip());
            }
            int thrift = freePort();
            List<String> cmd = new ArrayList<>(List.of(tc.simpleSwitch().toString(), "--use-files", "0"));
            for (int port : PORTS) {
                cmd.add("-i");
                cmd.add(port + "@p" + port);
            }
            cmd.addAll(List.of("--thrift-port", Integer.toString(thrift), "--notifications-addr",
                    "ipc://" + dir.resolve("notifications.ipc"), "prog.json"));
            sw = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("switch.log").toFile()).start();
            wire = openFifo(dir.resolve("p0_in.pcap"), sw, dir);
            wire.write(Pcap.header());
            wire.flush();
            waitForThrift(thrift, sw, dir);
            ProcessBuilder cb = new ProcessBuilder(tc.cli().toString(), "--thrift-port", Integer.toString(thrift))
                    .directory(dir.toFile()).redirectErrorStream(true);
            cb.environment().put("PYTHONUNBUFFERED", "1");
            cli = cb.start();
            Bmv2Switch s = new Bmv2Switch(dir, sw, wire, cli);
            LIVE.add(s);
            s.cli("");
            return s;
        } catch (IOException | RuntimeException e) {
            stop(cli);
            stop(sw);
            if (wire != null) {
                try {
                    wire.close();
                } catch (IOException ignored) {
                    // the switch is gone
                }
            }
            String log = readLog(dir);
            deleteTree(dir);
            if (e instanceof TargetException t) {
                throw new TargetException(t.getMessage() + log, t);
            }
            throw new TargetException("bmv2: cannot start simple_switch: " + e.getMessage() + log, e);
        }
    }

    private static String readLog(Path dir) {
        try {
            Path log = dir.resolve("switch.log");
            if (Files.exists(log)) {
                String s = Files.readString(log).strip();
                return s.isEmpty() ? "" : " (switch log: " + s.substring(Math.max(0, s.length() - 400)) + ")";
            }
        } catch (IOException ignored) {
            // no log to add
        }
        return "";
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    /** Opens the FIFO for writing; the open blocks until the switch opens it, so it runs in a thread with a deadline. */
    private static OutputStream openFifo(Path fifo, Process sw, Path dir) throws IOException {
        java.util.concurrent.CompletableFuture<OutputStream> f = new java.util.concurrent.CompletableFuture<>();
        Thread t = Thread.ofPlatform().daemon().start(() -> {
            try {
                f.complete(Files.newOutputStream(fifo));
            } catch (IOException e) {
                f.completeExceptionally(e);
            }
        });
        long deadline = System.nanoTime() + START_TIMEOUT_NS;
        while (System.nanoTime() < deadline) {
            try {
                return f.get(50, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                if (!sw.isAlive()) {
                    break;
                }
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IOException(e.getCause().getMessage(), e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
        // unblock the opener: a reader of our own lets its open return
        try (var unblock = Files.newInputStream(fifo)) {
            f.get(1, TimeUnit.SECONDS).close();
        } catch (Exception ignored) {
            // best effort
        }
        t.interrupt();
        throw new TargetException(sw.isAlive() ? "bmv2: simple_switch did not open its input within "
                + TimeUnit.NANOSECONDS.toSeconds(START_TIMEOUT_NS) + " s"
                : "bmv2: simple_switch exited with status " + sw.exitValue() + " before reading its input");
    }

    private static void waitForThrift(int port, Process sw, Path dir) {
        long deadline = System.nanoTime() + START_TIMEOUT_NS;
        while (System.nanoTime() < deadline) {
            if (!sw.isAlive()) {
                throw new TargetException("bmv2: simple_switch exited with status " + sw.exitValue());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException e) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new TargetException("interrupted", ie);
                }
            }
        }
        throw new TargetException("bmv2: the Thrift server did not listen on 127.0.0.1:" + port + " within "
                + TimeUnit.NANOSECONDS.toSeconds(START_TIMEOUT_NS) + " s");
    }

    /**
     * Runs runtime CLI commands (one per line) and {@return their output}, prompts removed.
     *
     * @throws TargetException when the CLI ends, times out or reports an error
     */
    synchronized String cli(String commands) {
        String marker = "prism_sync_" + (++sync);
        try {
            cliIn.write(commands);
            if (!commands.isEmpty() && !commands.endsWith("\n")) {
                cliIn.write('\n');
            }
            cliIn.write(marker + "\n");
            cliIn.flush();
        } catch (IOException e) {
            throw new TargetException("bmv2: the runtime CLI is gone: " + e.getMessage() + readLog(dir), e);
        }
        StringBuilder out = new StringBuilder();
        long deadline = System.nanoTime() + CLI_TIMEOUT_NS;
        while (true) {
            String line;
            try {
                line = cliOut.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TargetException("interrupted", e);
            }
            if (line == null) {
                throw new TargetException("bmv2: the runtime CLI did not answer within 60 s");
            }
            if (line.equals("\u0000eof")) {
                throw new TargetException("bmv2: the runtime CLI exited: " + out.toString().strip() + readLog(dir));
            }
            String text = line.replace("RuntimeCmd: ", "");
            if (text.contains("Unknown syntax: " + marker)) {
                break;
            }
            out.append(text).append('\n');
        }
        String s = out.toString();
        for (String l : s.split("\n")) {
            if (l.startsWith("Error:") || l.contains("Invalid") || l.contains("exception") || l.startsWith("***")) {
                throw new TargetException("bmv2: runtime CLI: " + l.strip() + " (commands: "
                        + commands.substring(0, Math.min(200, commands.length())).strip() + ")");
            }
        }
        return s;
    }

    /** Feeds packets into port 0. */
    void send(List<byte[]> packets) {
        try {
            for (byte[] p : packets) {
                wire.write(Pcap.record(p));
            }
            wire.flush();
        } catch (IOException e) {
            throw new TargetException("bmv2: simple_switch stopped reading its input: " + e.getMessage() + readLog(dir), e);
        }
    }

    /** {@return the packets that left on {@code port} since the last call} */
    List<byte[]> drain(int port) {
        int k = 0;
        while (PORTS[k] != port) {
            k++;
        }
        Path f = dir.resolve("p" + port + "_out.pcap");
        try {
            if (!Files.exists(f)) {
                return List.of();
            }
            byte[] all = Files.readAllBytes(f);
            long start = Math.max(outOffset[k], 24);
            List<byte[]> out = new ArrayList<>();
            ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
            int pos = (int) start;
            while (pos + 16 <= all.length) {
                int incl = b.getInt(pos + 8);
                if (pos + 16 + incl > all.length) {
                    break; // a record still being written
                }
                byte[] p = new byte[incl];
                System.arraycopy(all, pos + 16, p, 0, incl);
                out.add(p);
                pos += 16 + incl;
            }
            outOffset[k] = pos;
            return out;
        } catch (IOException e) {
            throw new TargetException("bmv2: cannot read " + f + ": " + e.getMessage(), e);
        }
    }

    boolean alive() {
        return !closed && sw.isAlive();
    }

    String log() {
        return readLog(dir);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        LIVE.remove(this);
        try {
            wire.close();
        } catch (IOException ignored) {
            // the switch may be gone already
        }
        stop(cli);
        stop(sw);
        deleteTree(dir);
    }

    /** Stops one process by its PID: SIGTERM, then SIGKILL after 2 s. */
    private static void stop(Process p) {
        if (p == null) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(2, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static void deleteTree(Path dir) {
        if (System.getenv("PRISM_BMV2_KEEP") != null) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
