package dev.prism.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.ProgramType;
import dev.prism.program.XdpContext;
import dev.prism.runtime.Helpers;
import dev.prism.runtime.XdpBuffer;
import dev.prism.runtime.jit.RunContext;
import dev.prism.runtime.maps.BpfMaps;
import dev.prism.runtime.maps.RingBufMap;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.LongFunction;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;

/**
 * A JIT's native helper code (xdp_adjust_head/meta/tail, ringbuf reserve/submit/discard/output)
 * against the Java implementations it replaces: the same random operations on two copies of the
 * same state, one driven by the native code, the other by {@link XdpBuffer} or
 * {@link RingBufMap}; return values and every byte of the state must agree after each
 * operation, and each seed must reach the limits (refusals, a full ring, a wrap) or it fails.
 * Other modules reach this class through target-api's test-jar; a target supplies only how to
 * call its code ({@link Natives}).
 */
public final class NativeHelperScenarios {
    /** The page the output source ends at: the helper reading one byte past it faults in an emulator. */
    public static final long PAGE = 4096;

    private NativeHelperScenarios() {
    }

    /** One helper's native code, called as {@code long f(r1, r2, r3, r4, r5, runContext)}. */
    @FunctionalInterface
    public interface NativeHelper {
        long call(long r1, long r2, long r3, long r4, long r5, long runContext);
    }

    /** A target's native helpers for one seed, and the host memory they may touch. */
    public interface Natives extends AutoCloseable {
        /** {@return the code of helper {@code id} as a program of {@code type} gets it} */
        NativeHelper helper(int id, ProgramType type);

        /**
         * Makes host memory {@code [address, address + bytes)} reachable by the helpers, and
         * nothing past its last page: an emulator maps it, code running on the host needs nothing.
         */
        default void expose(long address, long bytes) {
        }

        @Override
        default void close() {
        }
    }

    // ---------------------------------------------------------------- xdp_adjust_head/meta/tail

    /** Deltas around every limit of a 14..1513-byte packet, and far ones. */
    static int delta(Random rnd) {
        return switch (rnd.nextInt(6)) {
            case 0 -> rnd.nextInt(9) - 4;
            case 1 -> rnd.nextInt(600) - 300;
            case 2 -> rnd.nextInt(8000) - 4000;
            case 3 -> (rnd.nextInt(80) - 40) * 4;
            case 4 -> rnd.nextBoolean() ? Integer.MIN_VALUE + rnd.nextInt(3) : Integer.MAX_VALUE - rnd.nextInt(3);
            default -> rnd.nextInt();
        };
    }

    /** {@return one test "seed n" per seed below {@code seeds}, each {@link #adjustAgainstJava} of {@code steps}} */
    public static Stream<DynamicTest> adjustHelpersMatchXdpBuffer(int seeds, int steps, LongFunction<Natives> target) {
        return IntStream.range(0, seeds)
                .mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> adjustAgainstJava(seed, steps, target)));
    }

    /** Random adjust_head/meta/tail calls on a random packet, the native ones on a copy. */
    public static void adjustAgainstJava(long seed, int steps, LongFunction<Natives> target) {
        Random rnd = new Random(seed);
        byte[] packet = new byte[XdpBuffer.MIN_PACKET + rnd.nextInt(1500)];
        rnd.nextBytes(packet);
        try (Arena arena = Arena.ofConfined(); Natives natives = target.apply(seed)) {
            NativeHelper head = natives.helper(Helpers.XDP_ADJUST_HEAD, ProgramType.XDP);
            NativeHelper meta = natives.helper(Helpers.XDP_ADJUST_META, ProgramType.XDP);
            NativeHelper tail = natives.helper(Helpers.XDP_ADJUST_TAIL, ProgramType.XDP);
            XdpBuffer java = new XdpBuffer(arena, packet);
            XdpBuffer nat = new XdpBuffer(arena, packet);
            long base = nat.frame().address();
            MemorySegment ctx = arena.allocate(XdpContext.RUNTIME_SIZE, 8);
            ctx.set(ValueLayout.JAVA_LONG, 0, base + nat.data());
            ctx.set(ValueLayout.JAVA_LONG, 8, base + nat.dataEnd());
            ctx.set(ValueLayout.JAVA_LONG, 16, base + nat.dataMeta());
            ctx.set(ValueLayout.JAVA_LONG, XdpContext.HOST_FRAME, base);
            MemorySegment run = arena.allocate(RunContext.size(1), 16);
            natives.expose(base, XdpBuffer.FRAME_SIZE);
            natives.expose(ctx.address(), ctx.byteSize());
            natives.expose(run.address(), run.byteSize());
            int ok = 0;
            int moves = 0;
            for (int step = 0; step < steps; step++) {
                int d = delta(rnd);
                int which = rnd.nextInt(3);
                long expected = switch (which) {
                    case 0 -> java.adjustHead(d);
                    case 1 -> java.adjustMeta(d);
                    default -> java.adjustTail(d);
                };
                NativeHelper n = which == 0 ? head : which == 1 ? meta : tail;
                // garbage in the upper half of r2: the helper takes an int
                long r2 = (d & 0xffff_ffffL) | (long) rnd.nextInt() << 32;
                long actual = n.call(ctx.address(), r2, rnd.nextLong(), rnd.nextLong(), rnd.nextLong(), run.address());
                String what = "seed " + seed + " step " + step + ": "
                        + (which == 0 ? "adjust_head" : which == 1 ? "adjust_meta" : "adjust_tail") + "(" + d + ")";
                assertEquals(expected, actual, what);
                nat.bounds(ctx.get(ValueLayout.JAVA_LONG, 16) - base, ctx.get(ValueLayout.JAVA_LONG, 0) - base,
                        ctx.get(ValueLayout.JAVA_LONG, 8) - base);
                assertEquals(java.dataMeta(), nat.dataMeta(), what + ": data_meta");
                assertEquals(java.data(), nat.data(), what + ": data");
                assertEquals(java.dataEnd(), nat.dataEnd(), what + ": data_end");
                assertArrayEquals(java.output(), nat.output(), what + ": metadata and packet");
                if (actual == 0 && which == 0) {
                    assertEquals(base + nat.data(), run.get(ValueLayout.JAVA_LONG, RunContext.PKT_START), what + ": pkt start");
                    moves += nat.data() > nat.dataMeta() && d != 0 ? 1 : 0;
                }
                if (actual == 0 && which == 2) {
                    assertEquals(base + nat.dataEnd(), run.get(ValueLayout.JAVA_LONG, RunContext.PKT_END), what + ": pkt end");
                }
                ok += actual == 0 ? 1 : 0;
            }
            assertTrue(ok > 20, "only " + ok + " adjustments succeeded: the deltas miss the limits");
            assertTrue(moves > 0 || seed % 4 != 0, "no adjust_head moved metadata");
        }
    }

    // ---------------------------------------------------------------- ring buffer

    /** {@return one test "seed n" per seed below {@code seeds}, each {@link #ringAgainstJava} of {@code steps}} */
    public static Stream<DynamicTest> ringbufMatchesJava(int seeds, int steps, LongFunction<Natives> target) {
        return IntStream.range(0, seeds)
                .mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> ringAgainstJava(seed, steps, target)));
    }

    /**
     * Random reserve, submit/discard, output, drain and consumer skips on a 4 or 8 KiB ring, the
     * native ones on a copy; arguments a helper does not take carry garbage.
     */
    public static void ringAgainstJava(long seed, int steps, LongFunction<Natives> target) {
        Random rnd = new Random(seed);
        int size = 4096 << rnd.nextInt(2);
        MapDef def = new MapDef("rb", MapType.RINGBUF, 0, 0, size, 0, null, false);
        try (Arena arena = Arena.ofConfined(); Natives natives = target.apply(seed)) {
            NativeHelper reserve = natives.helper(Helpers.RINGBUF_RESERVE, ProgramType.XDP);
            NativeHelper submit = natives.helper(Helpers.RINGBUF_SUBMIT, ProgramType.XDP);
            NativeHelper discard = natives.helper(Helpers.RINGBUF_DISCARD, ProgramType.XDP);
            NativeHelper output = natives.helper(Helpers.RINGBUF_OUTPUT, ProgramType.TC);
            RingBufMap java = (RingBufMap) BpfMaps.create(def, 1, arena);
            RingBufMap nat = (RingBufMap) BpfMaps.create(def, 1, arena);
            long bytes = RingBufMap.HEADER_SIZE + 2L * size;
            MemorySegment javaBlock = MemorySegment.ofAddress(java.address()).reinterpret(bytes);
            MemorySegment natBlock = MemorySegment.ofAddress(nat.address()).reinterpret(bytes);
            // the source at a page's end, unaligned by turns: a read past it faults where
            // expose maps no more than asked
            MemorySegment srcPage = arena.allocate(size + 2L * PAGE, PAGE);
            natives.expose(nat.address(), bytes);
            natives.expose(srcPage.address(), size + PAGE);
            List<long[]> open = new ArrayList<>(); // {java payload, native payload}
            int reserved = 0;
            int full = 0;
            int outputs = 0;
            int skips = 0;
            for (int step = 0; step < steps; step++) {
                int op = rnd.nextInt(10);
                String what = "seed " + seed + " step " + step;
                if (op < 4) {
                    long n = switch (rnd.nextInt(8)) {
                        case 0 -> rnd.nextInt(size + 16);
                        case 1 -> RingBufMap.MAX_RECORD + rnd.nextInt(3) - 1;
                        case 2 -> rnd.nextLong();
                        default -> rnd.nextInt(300);
                    };
                    long flags = rnd.nextInt(10) == 0 ? 1 + rnd.nextInt(4) : 0;
                    long j = java.reserve(n, flags);
                    long a = reserve.call(nat.address(), n, flags, rnd.nextLong(), rnd.nextLong(), rnd.nextLong());
                    assertEquals(j == 0 ? 0 : j - java.dataAddress(), a == 0 ? 0 : a - nat.dataAddress(),
                            what + ": reserve(" + n + ", " + flags + ")");
                    if (j != 0) {
                        open.add(new long[] {j, a});
                        MemorySegment.ofAddress(j).reinterpret(Math.min(n, 8)).fill((byte) step);
                        MemorySegment.ofAddress(a).reinterpret(Math.min(n, 8)).fill((byte) step);
                        reserved++;
                    } else if (flags == 0 && n < size) {
                        full++;
                    }
                } else if (op < 7 && !open.isEmpty()) {
                    long[] r = open.remove(rnd.nextInt(open.size()));
                    boolean drop = rnd.nextInt(3) == 0;
                    if (drop) {
                        java.discard(r[0]);
                    } else {
                        java.submit(r[0]);
                    }
                    assertEquals(0, (drop ? discard : submit).call(r[1], rnd.nextInt(4), rnd.nextLong(), 0, 0, 0), what);
                } else if (op < 9) {
                    int n = rnd.nextInt(rnd.nextBoolean() ? 64 : size);
                    MemorySegment src = srcPage.asSlice(size + PAGE - n, n);
                    for (int i = 0; i < n; i++) {
                        src.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
                    }
                    long flags = rnd.nextInt(6) == 0 ? rnd.nextInt(9) : 0;
                    int j = java.output(src, flags);
                    long a = output.call(nat.address(), src.address(), n, flags, rnd.nextLong(), rnd.nextLong());
                    assertEquals(j, a, what + ": output(" + n + ", " + flags + ")");
                    outputs += a == 0 ? 1 : 0;
                } else if (rnd.nextInt(4) == 0) {
                    // a consumer that skips to the producer, busy records included, as user space
                    // may: then pending_pos, not consumer_pos, keeps reserve off the busy records
                    javaBlock.set(ValueLayout.JAVA_LONG, RingBufMap.CONSUMER_POS, java.producerPosition());
                    natBlock.set(ValueLayout.JAVA_LONG, RingBufMap.CONSUMER_POS, nat.producerPosition());
                    skips++;
                } else {
                    List<byte[]> j = java.drain();
                    List<byte[]> a = nat.drain();
                    assertEquals(j.size(), a.size(), what + ": records");
                    for (int i = 0; i < j.size(); i++) {
                        assertArrayEquals(j.get(i), a.get(i), what + ": record " + i);
                    }
                }
                assertArrayEquals(javaBlock.toArray(ValueLayout.JAVA_BYTE), natBlock.toArray(ValueLayout.JAVA_BYTE), what + ": ring");
            }
            assertTrue(reserved > 50 && full > 5 && outputs > 10 && skips > 0,
                    "reserved " + reserved + ", refused for room " + full + ", output " + outputs + ", skips " + skips);
            assertTrue(nat.producerPosition() > size, "the ring never wrapped: producer at " + nat.producerPosition());
        }
    }
}
