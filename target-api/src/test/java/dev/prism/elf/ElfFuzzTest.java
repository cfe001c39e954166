package dev.prism.elf;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.error.ElfException;
import dev.prism.program.Program;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Mutation fuzzing of the loader: real clang objects and a hand-made one, mutated by bit flips,
 * byte replacements, truncations and targeted rewrites of header, section header, symbol,
 * relocation, BTF and code fields. Every outcome must be a loaded object or an
 * {@link ElfException} naming an offset; nothing else, and no hang (each batch runs under a
 * deadline).
 *
 * <p>{@code make test} runs 3,000 mutations of the clang objects; nightly ({@code PRISM_NIGHTLY=1}
 * or {@code -Dprism.nightly=true}) runs 100,000. {@code -Dprism.fuzz.seed=N} replays a seed.
 */
class ElfFuzzTest {
    private static final int BATCH = 500;
    private static final Duration BATCH_DEADLINE = Duration.ofSeconds(60);

    private static boolean nightly() {
        return "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    }

    private static long seed() {
        return Long.getLong("prism.fuzz.seed", 0x5eedL);
    }

    @Test
    void mutatedClangObjectsLoadOrAreRefused() {
        ElfToolchain.require();
        List<byte[]> seeds = new ArrayList<>();
        for (String name : List.of("maps", "legacy", "globals", "calls", "rawtext", "mapinmap")) {
            for (String cpu : List.of("v3", "v4")) {
                byte[] b = ElfToolchain.bytes(name, cpu);
                ElfObject.parse(name, b); // every seed loads unmutated
                seeds.add(b);
            }
        }
        run("clang objects", seeds, nightly() ? 100_000 : 3_000);
    }

    @Test
    void mutatedHandMadeObjectLoadsOrIsRefused() {
        run("hand-made object", List.of(handMade()), nightly() ? 20_000 : 1_000);
    }

    /** An object with a BTF map, a legacy map, global data, a .text callee and line-free code. */
    private static byte[] handMade() {
        ElfWriter w = new ElfWriter();
        int text = w.code(".text", ElfWriter.insns(ElfWriter.mov64(0, 3), ElfWriter.EXIT));
        int xdp = w.code("xdp", ElfWriter.insns(ElfWriter.insn(0x18, 1, 0, 0, 0), 0, ElfWriter.insn(0x18, 2, 0, 0, 4), 0,
                ElfWriter.insn(0x85, 0, 1, 0, -1), ElfWriter.EXIT));
        ByteBuffer def = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putInt(1).putInt(4).putInt(8)
                .putInt(16).putInt(0);
        int maps = w.section("maps", 3, def.array());
        int data = w.section(".data", 3, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        int m = w.symbol("legacy", 0, 20, 1, 1, maps);
        int d = w.symbol("", 0, 0, 3, 0, data);
        int f = w.symbol("callee", 0, 16, 2, 1, text);
        w.function("prog", xdp, 0);
        w.rel(xdp, 0, 1, m);
        w.rel(xdp, 16, 1, d);
        w.rel(xdp, 32, 10, f);
        ElfWriter.Btf btf = new ElfWriter.Btf();
        int i32 = btf.type("int", 1, 0, 4, 32);
        int arr = btf.type("", 3, 0, 0, i32, i32, 2);
        int ptr = btf.type("", 2, 0, arr);
        int keyPtr = btf.type("", 2, 0, i32);
        int def2 = btf.type("", 4, 3, 16, btf.str("type"), ptr, 0, btf.str("max_entries"), ptr, 64, btf.str("key"),
                keyPtr, 128);
        int var = btf.type("btfmap", 14, 0, def2, 1);
        btf.type(".maps", 15, 1, 24, var, 0, 24);
        int dotMaps = w.section(".maps", 3, new byte[24]);
        w.symbol("btfmap", 0, 24, 1, 1, dotMaps);
        w.section(".BTF", 0, btf.build());
        w.section("license", 3, "GPL\0".getBytes(StandardCharsets.US_ASCII));
        byte[] b = w.build();
        ElfObject.parse("hand-made", b);
        return b;
    }

    // ---------------------------------------------------------------------------------------

    private void run(String label, List<byte[]> seeds, int count) {
        Random rnd = new Random(seed());
        int[] loaded = {0};
        int[] refused = {0};
        List<String> failures = new ArrayList<>();
        String[] current = {""};
        for (int start = 0; start < count; start += BATCH) {
            int end = Math.min(count, start + BATCH);
            int first = start;
            assertTimeoutPreemptively(BATCH_DEADLINE, () -> {
                for (int i = first; i < end; i++) {
                    int s = rnd.nextInt(seeds.size());
                    Mutant mutant = mutate(seeds.get(s), rnd);
                    current[0] = label + " #" + i + " (seed object " + s + "): " + mutant.description();
                    try {
                        // read(), not parse(): without parse's last-resort net, so that an
                        // exception other than ElfException shows here with its stack trace
                        ElfObject o = ElfObject.read("fuzz.o", mutant.bytes());
                        exercise(o);
                        loaded[0]++;
                    } catch (ElfException e) {
                        String m = e.getMessage();
                        if (!m.contains("@0x") || m.contains("internal error")) {
                            failures.add(current[0] + ": " + m);
                        }
                        refused[0]++;
                    } catch (Throwable t) {
                        StringWriter trace = new StringWriter();
                        t.printStackTrace(new PrintWriter(trace));
                        failures.add(current[0] + ": " + trace);
                    }
                }
            }, () -> "no answer within " + BATCH_DEADLINE + "; last started: " + current[0]);
        }
        System.out.printf("ELF fuzz (%s): %d mutations of %d objects: %d loaded, %d refused, %d failures "
                + "(seed 0x%x%s)%n", label, count, seeds.size(), loaded[0], refused[0], failures.size(), seed(),
                nightly() ? ", nightly" : "");
        if (!failures.isEmpty()) {
            fail(failures.size() + " mutations ended other than loaded or ElfException naming an offset; first:\n"
                    + String.join("\n", failures.subList(0, Math.min(5, failures.size()))));
        }
        assertTrue(loaded[0] > 0 && refused[0] > 0, "mutations should both load and fail");
    }

    /** Touches everything a loaded object offers; none of it may throw for a loaded object. */
    private static void exercise(ElfObject o) {
        for (Program p : o.programs()) {
            p.bytes();
            p.functions();
            p.sourceLine(p.length() - 1);
        }
        for (ElfObject.Entry e : o.entries()) {
            try {
                o.program(e.name());
            } catch (ElfException expected) {
                // ambiguous or unsupported: both are answers
            }
        }
        o.maps().forEach(m -> m.initialData());
    }

    // ---------------------------------------------------------------------------------------
    // Mutations

    private record Mutant(byte[] bytes, String description) {
    }

    /** Where the interesting structures of a valid seed lie. */
    private record Layout(long shoff, int shnum, List<long[]> headers) {
        /** header fields: [header offset, type, offset, size, entsize] */
        static Layout of(byte[] b) {
            ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            long shoff = buf.getLong(40);
            int shnum = Short.toUnsignedInt(buf.getShort(60));
            List<long[]> headers = new ArrayList<>();
            for (int i = 0; i < shnum; i++) {
                int at = (int) shoff + 64 * i;
                headers.add(new long[] {at, buf.getInt(at + 4), buf.getLong(at + 24), buf.getLong(at + 32),
                        buf.getLong(at + 56)});
            }
            return new Layout(shoff, shnum, headers);
        }

        List<long[]> ofType(int type) {
            return headers.stream().filter(h -> h[1] == type && h[3] > 0).toList();
        }
    }

    private static Mutant mutate(byte[] seed, Random rnd) {
        byte[] b = seed.clone();
        StringBuilder what = new StringBuilder();
        int rounds = rnd.nextInt(8) == 0 ? 2 + rnd.nextInt(3) : 1;
        for (int r = 0; r < rounds; r++) {
            b = mutateOnce(b, seed, rnd, what);
        }
        return new Mutant(b, what.toString());
    }

    private static byte[] mutateOnce(byte[] b, byte[] seed, Random rnd, StringBuilder what) {
        if (b.length == 0) {
            return b; // an earlier round truncated everything
        }
        Layout l = Layout.of(seed);
        switch (rnd.nextInt(10)) {
            case 0 -> {
                int n = 1 + rnd.nextInt(8);
                for (int i = 0; i < n; i++) {
                    int at = rnd.nextInt(b.length);
                    int bit = rnd.nextInt(8);
                    b[at] ^= (byte) (1 << bit);
                    what.append(String.format("flip bit %d @0x%x; ", bit, at));
                }
            }
            case 1 -> {
                int n = 1 + rnd.nextInt(4);
                for (int i = 0; i < n; i++) {
                    int at = rnd.nextInt(b.length);
                    byte v = switch (rnd.nextInt(3)) {
                        case 0 -> 0;
                        case 1 -> (byte) 0xff;
                        default -> (byte) rnd.nextInt(256);
                    };
                    b[at] = v;
                    what.append(String.format("byte @0x%x = 0x%02x; ", at, v & 0xff));
                }
            }
            case 2 -> {
                int n = rnd.nextInt(b.length);
                b = Arrays.copyOf(b, n);
                what.append("truncate to ").append(n).append("; ");
            }
            case 3 -> {
                // a section header field
                long[] h = l.headers().get(1 + rnd.nextInt(l.shnum() - 1));
                int[][] fields = {{0, 4}, {4, 4}, {8, 8}, {24, 8}, {32, 8}, {40, 4}, {44, 4}, {56, 8}};
                int[] f = fields[rnd.nextInt(fields.length)];
                b = put(b, h[0] + f[0], f[1], interesting(rnd, b, get(b, h[0] + f[0], f[1]), f[1]), what);
            }
            case 4 -> {
                // a relocation entry field
                List<long[]> rels = l.ofType(9);
                if (rels.isEmpty()) {
                    return mutateOnce(b, seed, rnd, what);
                }
                long[] h = rels.get(rnd.nextInt(rels.size()));
                long at = h[2] + 16L * rnd.nextInt((int) (h[3] / 16));
                int[][] fields = {{0, 8}, {8, 4}, {12, 4}};
                int[] f = fields[rnd.nextInt(fields.length)];
                long v = f[0] == 8 ? new long[] {0, 1, 2, 3, 4, 10, 7, 0xff}[rnd.nextInt(8)]
                        : interesting(rnd, b, get(b, at + f[0], f[1]), f[1]);
                b = put(b, at + f[0], f[1], v, what);
            }
            case 5 -> {
                // a symbol field
                List<long[]> tabs = l.ofType(2);
                long[] h = tabs.getFirst();
                long at = h[2] + 24L * rnd.nextInt((int) (h[3] / 24));
                int[][] fields = {{0, 4}, {4, 1}, {6, 2}, {8, 8}, {16, 8}};
                int[] f = fields[rnd.nextInt(fields.length)];
                b = put(b, at + f[0], f[1], interesting(rnd, b, get(b, at + f[0], f[1]), f[1]), what);
            }
            case 6 -> {
                // an ELF header field
                int[][] fields = {{40, 8}, {60, 2}, {62, 2}, {58, 2}, {52, 2}};
                int[] f = fields[rnd.nextInt(fields.length)];
                b = put(b, f[0], f[1], interesting(rnd, b, get(b, f[0], f[1]), f[1]), what);
            }
            case 7, 9 -> {
                // a u32 inside .BTF / .BTF.ext / data (type 1 sections that are not code)
                List<long[]> data = l.headers().stream().filter(h -> h[1] == 1 && h[3] >= 4).toList();
                long[] h = data.get(rnd.nextInt(data.size()));
                long at = h[2] + 4L * rnd.nextInt((int) (h[3] / 4));
                b = put(b, at, 4, interesting(rnd, b, get(b, at, 4), 4), what);
            }
            default -> {
                // an instruction byte in some PROGBITS section (code included)
                List<long[]> data = l.headers().stream().filter(h -> h[1] == 1 && h[3] >= 8).toList();
                long[] h = data.get(rnd.nextInt(data.size()));
                long at = h[2] + 8L * rnd.nextInt((int) (h[3] / 8)) + rnd.nextInt(8);
                b = put(b, at, 1, rnd.nextInt(256), what);
            }
        }
        return b;
    }

    private static long get(byte[] b, long at, int width) {
        long v = 0;
        for (int i = 0; i < width && at + i < b.length; i++) {
            v |= (b[(int) at + i] & 0xffL) << (8 * i);
        }
        return v;
    }

    private static byte[] put(byte[] b, long at, int width, long value, StringBuilder what) {
        what.append(String.format("%d bytes @0x%x = 0x%x; ", width, at, value));
        for (int i = 0; i < width && at + i < b.length; i++) {
            b[(int) at + i] = (byte) (value >>> (8 * i));
        }
        return b;
    }

    private static long interesting(Random rnd, byte[] b, long original, int width) {
        long ones = width == 8 ? -1L : (1L << (8 * width)) - 1;
        long v = switch (rnd.nextInt(12)) {
            case 0 -> 0;
            case 1 -> 1;
            case 2 -> ones;
            case 3 -> ones >>> 1;
            case 4 -> (ones >>> 1) + 1;
            case 5 -> b.length;
            case 6 -> b.length - 1 - rnd.nextInt(16);
            case 7 -> original + 1;
            case 8 -> original - 1;
            case 9 -> original + 8 * (rnd.nextInt(5) - 2);
            case 10 -> original ^ (1L << rnd.nextInt(8 * width));
            default -> rnd.nextLong();
        };
        return v & ones;
    }
}
