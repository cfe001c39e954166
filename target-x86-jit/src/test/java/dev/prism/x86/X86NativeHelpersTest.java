package dev.prism.x86;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import dev.prism.sys.ExecutableMemory;
import dev.prism.testing.Host;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@link X86NativeHelpers} against the Java implementations they replace: the same operations
 * on two copies of the same state, one driven by the native code through FFM, the other by
 * {@link XdpBuffer} or {@link RingBufMap}; return values and every byte of the state must agree
 * after each operation.
 */
class X86NativeHelpersTest {
    private static final FunctionDescriptor SIX_LONGS = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);

    @BeforeAll
    static void host() {
        var a = new X86Target().availability();
        Host.require("x86-64", a.available(), a.reason());
    }

    /** A helper's native code, callable as {@code long f(r1, r2, r3, r4, r5, runContext)}. */
    private record Native(ExecutableMemory memory, MethodHandle handle) implements AutoCloseable {
        static Native of(int id, ProgramType type) {
            byte[] code = X86NativeHelpers.code(id, type);
            ExecutableMemory m = ExecutableMemory.of(code);
            return new Native(m, Linker.nativeLinker().downcallHandle(m.entry(), SIX_LONGS));
        }

        long call(long r1, long r2, long r3, long r4, long r5, long context) {
            try {
                return (long) handle.invokeExact(r1, r2, r3, r4, r5, context);
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        }

        @Override
        public void close() {
            memory.close();
        }
    }

    @Test
    void onlyXdpProgramsGetTheAdjustHelpers() {
        for (int id : new int[] {Helpers.XDP_ADJUST_HEAD, Helpers.XDP_ADJUST_META, Helpers.XDP_ADJUST_TAIL}) {
            assertTrue(X86NativeHelpers.code(id, ProgramType.XDP).length > 0);
            for (ProgramType t : new ProgramType[] {ProgramType.TC, ProgramType.RAW, ProgramType.CSD}) {
                assertNull(X86NativeHelpers.code(id, t), "helper " + id + " on " + t);
            }
        }
        assertNull(X86NativeHelpers.code(Helpers.MAP_UPDATE_ELEM, ProgramType.XDP));
    }

    // ---------------------------------------------------------------- xdp_adjust_head/meta/tail

    /** Deltas around every limit of a 64..1500-byte packet, and far ones. */
    private static int delta(Random rnd) {
        return switch (rnd.nextInt(6)) {
            case 0 -> rnd.nextInt(9) - 4;
            case 1 -> rnd.nextInt(600) - 300;
            case 2 -> rnd.nextInt(8000) - 4000;
            case 3 -> (rnd.nextInt(80) - 40) * 4;
            case 4 -> rnd.nextBoolean() ? Integer.MIN_VALUE + rnd.nextInt(3) : Integer.MAX_VALUE - rnd.nextInt(3);
            default -> rnd.nextInt();
        };
    }

    @TestFactory
    Stream<DynamicTest> adjustHelpersMatchXdpBuffer() {
        return IntStream.range(0, 40).mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> adjustAgainstJava(seed)));
    }

    private static void adjustAgainstJava(long seed) {
        Random rnd = new Random(seed);
        byte[] packet = new byte[XdpBuffer.MIN_PACKET + rnd.nextInt(1500)];
        rnd.nextBytes(packet);
        try (Arena arena = Arena.ofConfined(); Native head = Native.of(Helpers.XDP_ADJUST_HEAD, ProgramType.XDP);
                Native meta = Native.of(Helpers.XDP_ADJUST_META, ProgramType.XDP);
                Native tail = Native.of(Helpers.XDP_ADJUST_TAIL, ProgramType.XDP)) {
            XdpBuffer java = new XdpBuffer(arena, packet);
            XdpBuffer nat = new XdpBuffer(arena, packet);
            long base = nat.frame().address();
            MemorySegment ctx = arena.allocate(XdpContext.RUNTIME_SIZE, 8);
            ctx.set(ValueLayout.JAVA_LONG, 0, base + nat.data());
            ctx.set(ValueLayout.JAVA_LONG, 8, base + nat.dataEnd());
            ctx.set(ValueLayout.JAVA_LONG, 16, base + nat.dataMeta());
            ctx.set(ValueLayout.JAVA_LONG, XdpContext.HOST_FRAME, base);
            MemorySegment run = arena.allocate(RunContext.size(1), 16);
            int ok = 0;
            for (int step = 0; step < 400; step++) {
                int d = delta(rnd);
                int which = rnd.nextInt(3);
                long expected = switch (which) {
                    case 0 -> java.adjustHead(d);
                    case 1 -> java.adjustMeta(d);
                    default -> java.adjustTail(d);
                };
                Native n = which == 0 ? head : which == 1 ? meta : tail;
                // garbage in the upper half of r2: the helper takes an int
                long r2 = (d & 0xffff_ffffL) | (long) rnd.nextInt() << 32;
                long actual = n.call(ctx.address(), r2, rnd.nextLong(), rnd.nextLong(), rnd.nextLong(), run.address());
                String what = "seed " + seed + " step " + step + ": " + (which == 0 ? "adjust_head" : which == 1 ? "adjust_meta" : "adjust_tail") + "(" + d + ")";
                assertEquals(expected, actual, what);
                nat.bounds(ctx.get(ValueLayout.JAVA_LONG, 16) - base, ctx.get(ValueLayout.JAVA_LONG, 0) - base,
                        ctx.get(ValueLayout.JAVA_LONG, 8) - base);
                assertEquals(java.dataMeta(), nat.dataMeta(), what + ": data_meta");
                assertEquals(java.data(), nat.data(), what + ": data");
                assertEquals(java.dataEnd(), nat.dataEnd(), what + ": data_end");
                assertArrayEquals(java.output(), nat.output(), what + ": metadata and packet");
                if (actual == 0 && which == 0) {
                    assertEquals(base + nat.data(), run.get(ValueLayout.JAVA_LONG, RunContext.PKT_START), what + ": pkt start");
                }
                if (actual == 0 && which == 2) {
                    assertEquals(base + nat.dataEnd(), run.get(ValueLayout.JAVA_LONG, RunContext.PKT_END), what + ": pkt end");
                }
                ok += actual == 0 ? 1 : 0;
            }
            assertTrue(ok > 20, "only " + ok + " adjustments succeeded: the deltas miss the limits");
        }
    }

    // ---------------------------------------------------------------- ring buffer

    @TestFactory
    Stream<DynamicTest> ringbufMatchesJava() {
        return IntStream.range(0, 24).mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> ringAgainstJava(seed)));
    }

    private static void ringAgainstJava(long seed) {
        Random rnd = new Random(seed);
        int size = 4096 << rnd.nextInt(2);
        MapDef def = new MapDef("rb", MapType.RINGBUF, 0, 0, size, 0, null, false);
        try (Arena arena = Arena.ofConfined(); Native reserve = Native.of(Helpers.RINGBUF_RESERVE, ProgramType.XDP);
                Native submit = Native.of(Helpers.RINGBUF_SUBMIT, ProgramType.XDP);
                Native discard = Native.of(Helpers.RINGBUF_DISCARD, ProgramType.XDP);
                Native output = Native.of(Helpers.RINGBUF_OUTPUT, ProgramType.TC)) {
            RingBufMap java = (RingBufMap) BpfMaps.create(def, 1, arena);
            RingBufMap nat = (RingBufMap) BpfMaps.create(def, 1, arena);
            long bytes = RingBufMap.HEADER_SIZE + 2L * size;
            MemorySegment javaBlock = MemorySegment.ofAddress(java.address()).reinterpret(bytes);
            MemorySegment natBlock = MemorySegment.ofAddress(nat.address()).reinterpret(bytes);
            MemorySegment src = arena.allocate(size, 8);
            List<long[]> open = new ArrayList<>(); // {java payload, native payload}
            int reserved = 0;
            int full = 0;
            for (int step = 0; step < 600; step++) {
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
                    long a = reserve.call(nat.address(), n, flags, rnd.nextLong(), rnd.nextLong(), 0);
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
                    assertEquals(0, (drop ? discard : submit).call(r[1], rnd.nextInt(4), 0, 0, 0, 0), what);
                } else if (op < 9) {
                    int n = rnd.nextInt(rnd.nextBoolean() ? 64 : size);
                    for (int i = 0; i < n; i++) {
                        src.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
                    }
                    long flags = rnd.nextInt(6) == 0 ? rnd.nextInt(9) : 0;
                    int j = java.output(src.asSlice(0, n), flags);
                    long a = output.call(nat.address(), src.address(), n, flags, rnd.nextLong(), 0);
                    assertEquals(j, a, what + ": output(" + n + ", " + flags + ")");
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
            assertTrue(reserved > 50 && full > 5, "reserved " + reserved + ", refused for room " + full);
        }
    }
}
