package dev.prism.p4;

import dev.prism.error.TargetException;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A lowered program running on BMv2 (one {@code simple_switch} process for the executable's
 * life, started at the first run). A batch is fed into port 0 as one stream of pcap records;
 * each packet's r0 comes back from the program's run log (register {@code prism_r0}, indexed
 * by arrival number), the packet after from the port its action sent it to: port 0 for
 * XDP_TX (and for raw programs, whose memory is the packet after a one-byte tag), the host
 * port {@value P4Lowering#HOST_PORT} for XDP_PASS. Dropped, aborted and redirected packets have
 * no packet after ({@link RunResult#packetAfter()} is null): the switch does not show them.
 */
final class Bmv2Executable implements Executable {

    /** The work runs on a device or in another process, which the thread's CPU time does not see. */
    @Override
    public boolean runsOnCallingThread() {
        return false;
    }
    private static final long RUN_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(60);
    private final P4Artifact artifact;
    private final P4Toolchain tc;
    private final P4MapSync maps;
    private final boolean raw;
    private Bmv2Switch sw;
    private long sent;

    Bmv2Executable(P4Artifact artifact, P4Toolchain tc, P4MapSync maps) {
        this.artifact = artifact;
        this.tc = tc;
        this.maps = maps;
        this.raw = artifact.lowered().raw();
    }

    @Override
    public RunResult run(RunInput input) {
        return run(List.of(input)).getFirst();
    }

    /** {@return the results of a batch of inputs, in order}: one stream of packets through one switch process */
    @Override
    public synchronized List<RunResult> run(List<RunInput> inputs) {
        if (sw == null) {
            sw = Bmv2Switch.start(tc, artifact.bmv2Json());
        }
        if (!sw.alive()) {
            throw new TargetException("bmv2: simple_switch is not running" + sw.log());
        }
        String json = new String(artifact.bmv2Json(), java.nio.charset.StandardCharsets.UTF_8);
        String push = maps.pushCommands(table -> json.contains('"' + table + '"'));
        if (!push.isEmpty()) {
            sw.cli(push);
        }
        List<RunResult> out = new ArrayList<>();
        int chunk = P4Lowering.RUN_LOG / 2;
        for (int from = 0; from < inputs.size(); from += chunk) {
            out.addAll(runChunk(inputs.subList(from, Math.min(inputs.size(), from + chunk))));
        }
        pullRegisters();
        return out;
    }

    private List<RunResult> runChunk(List<RunInput> inputs) {
        List<byte[]> packets = new ArrayList<>();
        for (RunInput in : inputs) {
            byte[] p;
            if (raw) {
                byte[] mem = in.mem();
                p = new byte[mem.length + 1];
                System.arraycopy(mem, 0, p, 1, mem.length);
            } else {
                p = in.packet();
                if (p == null) {
                    throw new TargetException("p4: an xdp program needs a packet");
                }
            }
            packets.add(p);
        }
        long first = sent;
        sw.send(packets);
        sent += packets.size();
        long deadline = System.nanoTime() + RUN_TIMEOUT_NS;
        while (readSeq() < sent) {
            if (System.nanoTime() > deadline) {
                throw new TargetException("bmv2: " + (sent - readSeq()) + " of " + packets.size()
                        + " packets not processed within 60 s" + sw.log());
            }
            if (!sw.alive()) {
                throw new TargetException("bmv2: simple_switch exited" + sw.log());
            }
            sleep();
        }
        long[] r0 = readRunLog(first, packets.size());
        int wantWire = 0;
        int wantHost = 0;
        for (long v : r0) {
            if (raw || v == 3) {
                wantWire++;
            } else if (v == 2) {
                wantHost++;
            }
        }
        Deque<byte[]> wire = new ArrayDeque<>();
        Deque<byte[]> host = new ArrayDeque<>();
        while (true) {
            wire.addAll(sw.drain(0));
            host.addAll(sw.drain(P4Lowering.HOST_PORT));
            if (wire.size() >= wantWire && host.size() >= wantHost) {
                break;
            }
            if (System.nanoTime() > deadline) {
                throw new TargetException("bmv2: expected " + wantWire + " packets on port 0 and " + wantHost
                        + " on the host port, got " + wire.size() + " and " + host.size() + sw.log());
            }
            sleep();
        }
        List<RunResult> out = new ArrayList<>();
        for (int i = 0; i < r0.length; i++) {
            if (raw) {
                byte[] p = wire.poll();
                byte[] mem = p.length == 0 ? p : java.util.Arrays.copyOfRange(p, 1, p.length);
                out.add(new RunResult(r0[i], mem));
            } else {
                byte[] after = r0[i] == 3 ? wire.poll() : r0[i] == 2 ? host.poll() : null;
                out.add(new RunResult(r0[i], null, after));
            }
        }
        return out;
    }

    private static void sleep() {
        try {
            Thread.sleep(2);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TargetException("interrupted", e);
        }
    }

    private long readSeq() {
        String s = sw.cli("register_read PrismIngress.prism_seq 0");
        return parseValues(s, "prism_seq")[0];
    }

    private long[] readRunLog(long first, int count) {
        long[] lo = parseValues(sw.cli("register_read PrismIngress.prism_r0_lo"), "prism_r0_lo");
        long[] hi = parseValues(sw.cli("register_read PrismIngress.prism_r0_hi"), "prism_r0_hi");
        long[] out = new long[count];
        for (int i = 0; i < count; i++) {
            int k = (int) ((first + i) % P4Lowering.RUN_LOG);
            out[i] = hi[k] << 32 | (lo[k] & 0xffff_ffffL);
        }
        return out;
    }

    /** Parses {@code name[0]= 5} or {@code name= 1, 2, 3}. */
    static long[] parseValues(String output, String name) {
        for (String line : output.split("\n")) {
            int eq = line.indexOf("= ");
            if (line.contains(name) && eq >= 0) {
                String[] parts = line.substring(eq + 2).split(",");
                long[] v = new long[parts.length];
                for (int i = 0; i < parts.length; i++) {
                    v[i] = Long.parseUnsignedLong(parts[i].strip());
                }
                return v;
            }
        }
        throw new TargetException("bmv2: cannot read register " + name + " from: " + output.strip());
    }

    private void pullRegisters() {
        for (P4Lowering.MapBinding b : maps.registers()) {
            long[] v = parseValues(sw.cli("register_read PrismIngress." + b.p4Name()), b.p4Name());
            byte[] bytes = new byte[v.length];
            for (int i = 0; i < v.length; i++) {
                bytes[i] = (byte) v[i];
            }
            maps.pull(b, bytes);
        }
    }

    @Override
    public MapAccess maps() {
        return maps;
    }

    P4MapSync sync() {
        return maps;
    }

    @Override
    public synchronized void close() {
        if (sw != null) {
            sw.close();
        }
        maps.close();
    }
}
