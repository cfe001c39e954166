package dev.prism.csd;

import dev.prism.error.TargetException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * One harness process per cross arch and JVM: {@code prism_harness.c} (a resource), built
 * statically with the arch's gcc on first use and run under {@code qemu-<arch>-static}
 * (invoked explicitly, no binfmt). It serves every program and run of that arch, so a suite
 * costs one qemu start, not one per case. Requests are serialized on the harness; the protocol
 * is the one in {@code prism_harness.c}. A harness that dies is restarted on the next request
 * (its programs are gone: their kernels fail with the harness's message).
 */
final class QemuHarness {
    private static final Map<FirmwareArch, QemuHarness> RUNNING = new EnumMap<>(FirmwareArch.class);
    private static Path dir;

    private final FirmwareArch arch;
    private final Process process;
    private final DataInputStream in;
    private final OutputStream out;
    private final StringBuilder stderr = new StringBuilder();
    /** The namespace last sent: its address and size (see {@link #namespace}). */
    private long nsAddress = -1;
    private long nsSize = -1;

    private QemuHarness(FirmwareArch arch, Path binary) throws IOException {
        this.arch = arch;
        this.process = new ProcessBuilder(List.of(arch.qemu(), binary.toString())).start();
        this.in = new DataInputStream(new BufferedInputStream(process.getInputStream(), 1 << 16));
        this.out = new BufferedOutputStream(process.getOutputStream(), 1 << 16);
        Thread errors = new Thread(() -> {
            try (InputStream e = process.getErrorStream()) {
                byte[] b = e.readAllBytes();
                synchronized (stderr) {
                    stderr.append(new String(b, StandardCharsets.UTF_8));
                }
            } catch (IOException ignored) {
                // the process is gone
            }
        }, "prism-csd-harness-stderr-" + arch.id());
        errors.setDaemon(true);
        errors.start();
    }

    /** {@return the running harness of {@code arch}, started (and its binary built) when there is none} */
    static QemuHarness of(FirmwareArch arch) {
        if (arch.host()) {
            throw new IllegalArgumentException("the host build runs in-process, not under qemu");
        }
        synchronized (RUNNING) {
            QemuHarness h = RUNNING.get(arch);
            if (h != null && h.process.isAlive()) {
                return h;
            }
            String why = arch.unavailable();
            if (why != null) {
                throw new TargetException("cannot run " + arch.id() + " firmware: " + why);
            }
            try {
                h = new QemuHarness(arch, binary(arch));
            } catch (IOException e) {
                throw new TargetException("cannot start the " + arch.id() + " harness: " + e.getMessage(), e);
            }
            RUNNING.put(arch, h);
            return h;
        }
    }

    private static Path binary(FirmwareArch arch) throws IOException {
        if (dir == null) {
            dir = Files.createTempDirectory("prism-csd-harness-");
            Path d = dir;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                synchronized (RUNNING) {
                    RUNNING.values().forEach(h -> h.process.destroyForcibly());
                }
                FirmwareBuild.deleteTree(d);
            }));
        }
        Path bin = dir.resolve("prism_harness-" + arch.id());
        if (!Files.exists(bin)) {
            Path c = dir.resolve("prism_harness.c");
            Files.writeString(c, FirmwareC.resource("prism_harness.c"));
            Process p = new ProcessBuilder(List.of(arch.gcc(), "-static", "-O2", "-o", bin.toString(), c.toString()))
                    .redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            try {
                if (p.waitFor() != 0) {
                    throw new TargetException("cannot build the " + arch.id() + " harness: " + text);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TargetException("interrupted while building the " + arch.id() + " harness");
            }
        }
        return bin;
    }

    /** The outcome of a run: the runtime block's status and pc, r0, and the memory after. */
    record Outcome(long status, long pc, long r0, byte[] memory) {
    }

    /** @param maps per ARRAY map: stride, max_entries, value_size */
    synchronized long load(byte[] image, long entry, List<long[]> maps) {
        return call(() -> {
            out.write('L');
            write64(image.length);
            write64(entry);
            out.write(image);
            write64(maps.size());
            for (long[] m : maps) {
                for (long v : m) {
                    write64(v);
                }
            }
            out.flush();
            return read64();
        });
    }

    synchronized byte[] getMap(long id, int map) {
        return call(() -> {
            out.write('G');
            write64(id);
            write64(map);
            out.flush();
            long n = read64();
            return in.readNBytes((int) n);
        });
    }

    synchronized void putMap(long id, int map, byte[] bytes) {
        call(() -> {
            out.write('P');
            write64(id);
            write64(map);
            write64(bytes.length);
            out.write(bytes);
            out.flush();
            return read64();
        });
    }

    synchronized void unload(long id) {
        if (!process.isAlive()) {
            return;
        }
        call(() -> {
            out.write('U');
            write64(id);
            out.flush();
            return read64();
        });
    }

    synchronized Outcome runRaw(long id, byte[] mem) {
        return call(() -> {
            out.write('R');
            write64(id);
            write64(mem.length);
            out.write(mem);
            out.flush();
            return new Outcome(read64(), read64(), read64(), in.readNBytes(mem.length));
        });
    }

    /**
     * Runs a chunk; the namespace goes over once per distinct segment (by address and size: a
     * namespace whose bytes change under the same segment must be a new segment, or its changes
     * are not seen).
     */
    synchronized Outcome runChunk(long id, MemorySegment ns, long off, long len, byte[] outBefore, long p0, long p1) {
        return call(() -> {
            namespace(ns);
            out.write('C');
            write64(id);
            write64(off);
            write64(len);
            write64(outBefore.length);
            write64(p0);
            write64(p1);
            out.write(outBefore);
            out.flush();
            return new Outcome(read64(), read64(), read64(), in.readNBytes(outBefore.length));
        });
    }

    private void namespace(MemorySegment ns) throws IOException {
        if (ns.address() == nsAddress && ns.byteSize() == nsSize) {
            return;
        }
        out.write('N');
        write64(ns.byteSize());
        byte[] buf = new byte[1 << 16];
        for (long at = 0; at < ns.byteSize(); at += buf.length) {
            int n = (int) Math.min(buf.length, ns.byteSize() - at);
            MemorySegment.copy(ns, ValueLayout.JAVA_BYTE, at, buf, 0, n);
            out.write(buf, 0, n);
        }
        out.flush();
        read64();
        nsAddress = ns.address();
        nsSize = ns.byteSize();
    }

    @FunctionalInterface
    private interface Exchange<T> {
        T run() throws IOException;
    }

    private <T> T call(Exchange<T> e) {
        try {
            return e.run();
        } catch (IOException ex) {
            process.destroyForcibly();
            String err;
            try {
                process.waitFor();
                Thread.sleep(50);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            synchronized (stderr) {
                err = stderr.toString().strip();
            }
            throw new TargetException("the " + arch.id() + " harness under " + arch.qemu() + " failed"
                    + (ex instanceof EOFException ? " (it exited" + (process.isAlive() ? "" : " with status " + process.exitValue()) + ")"
                    : ": " + ex.getMessage()) + (err.isEmpty() ? "" : ": " + err), ex);
        }
    }

    private void write64(long v) throws IOException {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (v >>> (8 * i));
        }
        out.write(b);
    }

    private long read64() throws IOException {
        byte[] b = new byte[8];
        in.readFully(b);
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = v << 8 | (b[i] & 0xff);
        }
        return v;
    }

    /** {@return the running harnesses (for tests: one process per arch, however many programs)} */
    static List<Long> pids() {
        synchronized (RUNNING) {
            List<Long> pids = new ArrayList<>();
            RUNNING.values().forEach(h -> pids.add(h.process.pid()));
            return pids;
        }
    }
}
