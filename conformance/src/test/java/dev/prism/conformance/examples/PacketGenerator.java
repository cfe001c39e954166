package dev.prism.conformance.examples;

import java.io.ByteArrayOutputStream;
import java.util.Random;

/**
 * Random packets shaped to reach deep into the examples' parsers: Ethernet with 0-2 VLAN tags,
 * IPv4 (with options) or IPv6, TCP/UDP/ICMP or another protocol, addresses from small pools (so
 * maps get hits, prefixes match, flows repeat), sometimes truncated anywhere, sometimes entirely
 * random bytes. Lengths stay within what one XDP frame takes (14..1500).
 */
public final class PacketGenerator {
    private static final int[][] V4_POOL = {
        {10, 0, 0, 1}, {10, 0, 0, 2}, {10, 1, 2, 3}, {192, 168, 7, 9}, {203, 0, 113, 99}, {203, 0, 113, 98}, {8, 8, 8, 8}};
    private final Random rnd;

    public PacketGenerator(long seed) {
        this.rnd = new Random(seed);
    }

    public byte[] next() {
        int shape = rnd.nextInt(20);
        if (shape == 0) {
            byte[] b = new byte[14 + rnd.nextInt(120)];
            rnd.nextBytes(b);
            return b;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] macs = new byte[12];
        rnd.nextBytes(macs);
        out.writeBytes(macs);
        int tags = rnd.nextInt(10) < 7 ? 0 : rnd.nextInt(3);
        for (int i = 0; i < tags; i++) {
            u16(out, i == 0 && tags == 2 ? 0x88a8 : 0x8100);
            u16(out, rnd.nextInt(4096));
        }
        int kind = rnd.nextInt(10);
        if (kind < 6) {
            u16(out, 0x0800);
            ipv4(out);
        } else if (kind < 8) {
            u16(out, 0x86dd);
            ipv6(out);
        } else {
            u16(out, kind == 8 ? 0x0806 : rnd.nextInt(0x10000));
            payload(out, rnd.nextInt(60));
        }
        byte[] p = out.toByteArray();
        if (rnd.nextInt(8) == 0 && p.length > 14) {
            p = java.util.Arrays.copyOf(p, 14 + rnd.nextInt(p.length - 14));
        }
        return p.length > 1500 ? java.util.Arrays.copyOf(p, 1500) : p;
    }

    private void ipv4(ByteArrayOutputStream out) {
        int ihl = rnd.nextInt(6) == 0 ? 5 + rnd.nextInt(11) : 5;
        int proto = pickProto();
        int l4 = l4Length(proto);
        int payload = rnd.nextInt(80);
        int total = ihl * 4 + l4 + payload;
        byte[] h = new byte[ihl * 4];
        h[0] = (byte) (0x40 | ihl);
        h[2] = (byte) (total >> 8);
        h[3] = (byte) total;
        h[8] = (byte) (1 + rnd.nextInt(255)); // ttl
        h[9] = (byte) proto;
        int[] s = V4_POOL[rnd.nextInt(V4_POOL.length)];
        int[] d = V4_POOL[rnd.nextInt(V4_POOL.length)];
        for (int i = 0; i < 4; i++) {
            h[12 + i] = (byte) (rnd.nextInt(6) == 0 ? rnd.nextInt(256) : s[i]);
            h[16 + i] = (byte) d[i];
        }
        for (int i = 20; i < h.length; i++) {
            h[i] = (byte) rnd.nextInt(256);
        }
        int sum = 0;
        for (int i = 0; i < h.length; i += 2) {
            sum += ((h[i] & 0xff) << 8) | (h[i + 1] & 0xff);
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        int csum = rnd.nextInt(5) == 0 ? rnd.nextInt(0x10000) : ~sum & 0xffff;
        h[10] = (byte) (csum >> 8);
        h[11] = (byte) csum;
        out.writeBytes(h);
        l4(out, proto, l4);
        payload(out, payload);
    }

    private void ipv6(ByteArrayOutputStream out) {
        int proto = pickProto();
        int l4 = l4Length(proto);
        int payload = rnd.nextInt(80);
        byte[] h = new byte[40];
        h[0] = 0x60;
        int plen = l4 + payload;
        h[4] = (byte) (plen >> 8);
        h[5] = (byte) plen;
        h[6] = (byte) proto;
        h[7] = 64;
        for (int i = 8; i < 40; i++) {
            h[i] = (byte) (rnd.nextInt(4) == 0 ? rnd.nextInt(256) : i);
        }
        out.writeBytes(h);
        l4(out, proto, l4);
        payload(out, payload);
    }

    private int pickProto() {
        return switch (rnd.nextInt(8)) {
            case 0, 1, 2 -> 6;
            case 3, 4 -> 17;
            case 5 -> 1;
            case 6 -> 58;
            default -> rnd.nextInt(256);
        };
    }

    private static int l4Length(int proto) {
        return switch (proto) {
            case 6 -> 20;
            case 17, 1, 58 -> 8;
            default -> 0;
        };
    }

    private void l4(ByteArrayOutputStream out, int proto, int length) {
        byte[] b = new byte[length];
        rnd.nextBytes(b);
        if (proto == 6 || proto == 17) {
            int[] ports = {80, 443, 53, 22, 1234, 4000, 5353};
            int sport = rnd.nextBoolean() ? ports[rnd.nextInt(ports.length)] : rnd.nextInt(0x10000);
            int dport = ports[rnd.nextInt(ports.length)];
            b[0] = (byte) (sport >> 8);
            b[1] = (byte) sport;
            b[2] = (byte) (dport >> 8);
            b[3] = (byte) dport;
        }
        if (proto == 6) {
            b[12] = 0x50;
        }
        out.writeBytes(b);
    }

    private void payload(ByteArrayOutputStream out, int n) {
        byte[] b = new byte[n];
        if (rnd.nextInt(10) == 0 && n >= 4) {
            System.arraycopy("EVIL".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, b, rnd.nextInt(n - 3), 4);
        } else {
            rnd.nextBytes(b);
        }
        out.writeBytes(b);
    }

    private static void u16(ByteArrayOutputStream out, int v) {
        out.write(v >> 8);
        out.write(v);
    }
}
