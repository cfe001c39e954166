package dev.prism.verifier;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.asm.Assembler;
import dev.prism.error.TrapException;
import dev.prism.error.VerificationException;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Environment;
import dev.prism.runtime.HelperTable;
import dev.prism.runtime.Interpreter;
import dev.prism.target.SkbFields;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Soundness fuzzing of tc programs: random accesses to {@code struct __sk_buff} (every offset
 * of the struct, every size, loads and stores, sign extension), packet accesses behind bounds
 * checks, and the skb helpers with random arguments, some followed by uses of packet pointers
 * from before the call. Every program the verifier accepts is normalized and run on the strict
 * interpreter over random packets: a trap is a verifier (or normalization) bug. 3,000 programs
 * in {@code make test}, 300,000 nightly.
 */
class TcSoundnessTest {
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    private static final int PROGRAMS = NIGHTLY ? 300_000 : 3_000;
    private static final String[] SIZES = {"b", "h", "w", "dw"};

    @Test
    void acceptedTcProgramsNeverTrap() {
        Random rnd = new Random(Long.getLong("prism.fuzz.seed", 19L));
        Interpreter interpreter = new Interpreter(HelperTable.standard(), Verifier.MAX_PROCESSED, Environment.deterministic(0, 1))
                .strictStack();
        int accepted = 0;
        int rejected = 0;
        for (int i = 0; i < PROGRAMS; i++) {
            String text = program(rnd);
            Program p = Program.builder("tc" + i, ProgramType.TC, Assembler.assemble(text)).build();
            Program run;
            try {
                run = Verifier.verify(p, Profile.RFC9669).normalized();
            } catch (VerificationException e) {
                rejected++;
                continue;
            }
            accepted++;
            try (Interpreter.Instance inst = interpreter.instantiate(List.of(run))) {
                for (int r = 0; r < 3; r++) {
                    byte[] packet = new byte[14 + rnd.nextInt(120)];
                    rnd.nextBytes(packet);
                    packet[12] = 0x08;
                    packet[13] = (byte) (rnd.nextBoolean() ? 0 : 6); // IPv4 or ARP
                    if (packet[13] == 0 && packet.length < 34) {
                        packet[13] = 6;
                    }
                    byte[] cb = new byte[SkbFields.CB_SIZE];
                    rnd.nextBytes(cb);
                    try {
                        inst.run(null, packet, new SkbFields(rnd.nextInt(), rnd.nextInt(), cb, null));
                    } catch (TrapException e) {
                        fail("verifier bug: tc program " + i + " was accepted but trapped on a " + packet.length
                                + "-byte packet: " + e.getMessage() + "\n" + text);
                    }
                }
            }
        }
        System.out.printf("tc soundness: %d programs, %d accepted and run 3 times each without a trap, %d rejected%n",
                PROGRAMS, accepted, rejected);
        assertTrue(accepted > PROGRAMS / 10, "the generator produces acceptable programs: " + accepted);
        assertTrue(rejected > PROGRAMS / 10, "and rejected ones: " + rejected);
    }

    /** r6 = ctx throughout; r2/r3 = data/data_end after each (re)load; r7 a value to store. */
    private static String program(Random rnd) {
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
                        sb.append("ldx").append(sx).append(size).append(" %r7, [%r6+").append(off).append("]\n");
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
