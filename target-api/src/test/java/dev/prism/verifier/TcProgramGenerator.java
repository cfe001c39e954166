package dev.prism.verifier;

import dev.prism.target.SkbFields;
import java.util.Random;

/**
 * Random tc programs for soundness and differential fuzzing: accesses to every offset and size
 * of {@code struct __sk_buff} (loads, sign-extending loads, register and immediate stores),
 * packet accesses behind bounds checks of random length, and the skb helpers (load/store bytes,
 * l3/l4_csum_replace, change_head, adjust_room) with random arguments, sometimes followed by a
 * use of packet pointers from before the call. Most programs are refused; the accepted ones
 * must run without a trap and compute the same on every target. r6 holds the context
 * throughout, r2/r3 data and data_end, r7 the value stored and returned.
 */
public final class TcProgramGenerator {
    private static final String[] SIZES = {"b", "h", "w", "dw"};

    private TcProgramGenerator() {
    }

    /** {@return one program in assembler text} */
    public static String program(Random rnd) {
        StringBuilder sb = new StringBuilder("mov %r6, %r1\nmov %r7, 0\nstdw [%r10-8], 0\nstdw [%r10-16], 0\n");
        reload(sb);
        int steps = 1 + rnd.nextInt(6);
        for (int s = 0; s < steps; s++) {
            switch (rnd.nextInt(6)) {
                case 0, 1 -> {
                    // a context access anywhere in (and a little past) __sk_buff
                    int off = rnd.nextInt(5) == 0 ? rnd.nextInt(200) : 4 * rnd.nextInt(50);
                    String size = SIZES[rnd.nextInt(4)];
                    if (rnd.nextBoolean()) {
                        String sx = !size.equals("dw") && rnd.nextInt(4) == 0 ? "s" : "";
                        // data/data_end go to r5: r7 is returned, and a pointer that a helper turned
                        // into a number would make the result depend on where the packet lies
                        String dst = off == 76 || off == 80 ? "%r5" : "%r7";
                        sb.append("ldx").append(sx).append(size).append(' ').append(dst).append(", [%r6+").append(off).append("]\n");
                    } else if (rnd.nextBoolean()) {
                        sb.append("stx").append(size).append(" [%r6+").append(off).append("], %r7\n");
                    } else {
                        sb.append("st").append(size).append(" [%r6+").append(off).append("], ").append(rnd.nextInt(100)).append('\n');
                    }
                }
                case 2 -> {
                    // a packet access behind a bounds check of a random length
                    int len = 1 + rnd.nextInt(60);
                    int at = rnd.nextInt(len + 2);
                    String lbl = "skip" + s;
                    sb.append("mov %r4, %r2\nadd %r4, ").append(len).append("\njgt %r4, %r3, ").append(lbl).append('\n');
                    sb.append(rnd.nextBoolean() ? "ldxb %r7, [%r2+" + at + "]\n" : "stb [%r2+" + at + "], 1\n");
                    sb.append(lbl).append(":\n");
                }
                case 3 -> {
                    // load/store bytes between the packet and the stack
                    int size = 1 + rnd.nextInt(16);
                    sb.append("mov %r1, %r6\nmov %r2, ").append(rnd.nextInt(80)).append("\nmov %r3, %r10\nadd %r3, -16\nmov %r4, ")
                            .append(size).append('\n');
                    sb.append(rnd.nextBoolean() ? "call 26\n" : "mov %r5, " + rnd.nextInt(4) + "\ncall 9\n");
                    reloadOrNot(sb, rnd);
                }
                case 4 -> {
                    // checksum updates at random offsets and flags
                    sb.append("mov %r1, %r6\nmov %r2, ").append(rnd.nextInt(80)).append("\nmov %r3, ").append(rnd.nextInt(3))
                            .append("\nmov %r4, %r7\nmov %r5, ").append(new int[] {0, 2, 4, 0x12, 0x22, 0x34}[rnd.nextInt(6)])
                            .append('\n');
                    sb.append(rnd.nextBoolean() ? "call 10\n" : "call 11\n");
                    reloadOrNot(sb, rnd);
                }
                default -> {
                    // the packet moves: change_head or adjust_room, then maybe a stale pointer
                    if (rnd.nextBoolean()) {
                        sb.append("mov %r1, %r6\nmov %r2, ").append(rnd.nextInt(64)).append("\nmov %r3, 0\ncall 43\n");
                    } else {
                        sb.append("mov %r1, %r6\nmov %r2, ").append(rnd.nextInt(80) - 40).append("\nmov %r3, ").append(rnd.nextInt(2))
                                .append("\nmov %r4, ").append(new int[] {0, 2, 4, 0x80}[rnd.nextInt(4)]).append("\ncall 50\n");
                    }
                    reloadOrNot(sb, rnd);
                }
            }
        }
        sb.append("mov %r0, %r7\nexit\n");
        return sb.toString();
    }

    /** {@return a random IPv4 or ARP frame of 14 to 133 bytes that Linux's skb test run takes} */
    public static byte[] packet(Random rnd) {
        byte[] packet = new byte[14 + rnd.nextInt(120)];
        rnd.nextBytes(packet);
        packet[12] = 0x08;
        packet[13] = (byte) (rnd.nextBoolean() && packet.length >= 34 ? 0 : 6);
        return packet;
    }

    /** {@return random mark, priority and cb} */
    public static SkbFields skb(Random rnd) {
        byte[] cb = new byte[SkbFields.CB_SIZE];
        rnd.nextBytes(cb);
        return new SkbFields(rnd.nextInt(), rnd.nextInt(), cb, null);
    }

    private static void reload(StringBuilder sb) {
        sb.append("ldxw %r2, [%r6+76]\nldxw %r3, [%r6+80]\n");
    }

    /** After a helper call r2/r3 are clobbered: usually reloaded; sometimes an old copy is used. */
    private static void reloadOrNot(StringBuilder sb, Random rnd) {
        if (rnd.nextInt(5) == 0) {
            sb.append("mov %r2, %r8\nmov %r3, %r9\n"); // unwritten (refused) or copies from before a call (stale)
        } else {
            reload(sb);
            if (rnd.nextInt(4) == 0) {
                sb.append("mov %r8, %r2\nmov %r9, %r3\n"); // kept across the next call: stale there
            }
        }
    }
}
