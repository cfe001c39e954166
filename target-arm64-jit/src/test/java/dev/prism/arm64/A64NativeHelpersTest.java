package dev.prism.arm64;

import static dev.prism.arm64.A64LeafHarness.CLOBBERED;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.arm64.emu.A64Machine;
import dev.prism.arm64.emu.Unicorn;
import dev.prism.error.TrapException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.ProgramType;
import dev.prism.program.XdpContext;
import dev.prism.runtime.Environment;
import dev.prism.runtime.Helpers;
import dev.prism.runtime.XdpBuffer;
import dev.prism.runtime.jit.RunContext;
import dev.prism.runtime.maps.BpfMaps;
import dev.prism.runtime.maps.RingBufMap;
import dev.prism.testing.Host;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * {@link A64NativeHelpers} against the Java implementations they replace, the arm64 twin of
 * X86NativeHelpersTest: the same operations on two copies of the same state, one driven by the
 * native code in the emulator (identity-mapped host memory, so the code works on the very bytes
 * Java then reads), the other by {@link XdpBuffer} or {@link RingBufMap}; return values and
 * every byte of the state must agree after each operation.
 *
 * <p>Each helper runs behind {@link A64LeafHarness}, which checks that x18-x28 (what AAPCS64
 * makes a callee preserve, and the platform register), sp and the stack below it survive: the
 * helpers may change only x0-x17. Even seeds run on a Cortex-A57 (ARMv8.0, no LSE), odd ones
 * on the emulator's newest core.
 */
class A64NativeHelpersTest {
    private static final A64Reg[] PRESERVED = {
        A64Reg.X18, A64Reg.X19, A64Reg.X20, A64Reg.X21, A64Reg.X22, A64Reg.X23, A64Reg.X24, A64Reg.X25, A64Reg.X26,
        A64Reg.X27, A64Reg.X28,
    };

    @BeforeAll
    static void host() {
        Host.require("arm64", Unicorn.availability().available(), Unicorn.availability().reason());
    }

    /** A helper's code behind the harness on {@code machine}, called as {@code f(r1, r2, r3, r4, r5, runContext)}. */
    private record Native(A64Machine machine, long entry) {
        static Native of(A64Machine machine, int id, ProgramType type) {
            byte[] code = A64NativeHelpers.code(id, type);
            return new Native(machine, machine.loadRaw(A64LeafHarness.harnessed(PRESERVED, a -> {
                int at = a.position();
                for (int i = 0; i < code.length; i += 4) {
                    a.emit(code[i] & 0xff | (code[i + 1] & 0xff) << 8 | (code[i + 2] & 0xff) << 16 | (code[i + 3] & 0xff) << 24);
                }
                return at;
            })));
        }

        long call(long r1, long r2, long r3, long r4, long r5, long context) {
            long r0 = machine.call(entry, new long[] {r1, r2, r3, r4, r5, context});
            assertNotEquals(CLOBBERED, r0, "x18-x28, sp or the stack below it clobbered");
            return r0;
        }
    }

    private static Unicorn.CpuModel cpu(long seed) {
        return seed % 2 == 0 ? Unicorn.CpuModel.CORTEX_A57 : Unicorn.CpuModel.MAX;
    }

    @Test
    void onlyXdpProgramsGetTheAdjustHelpers() {
        for (int id : new int[] {Helpers.XDP_ADJUST_HEAD, Helpers.XDP_ADJUST_META, Helpers.XDP_ADJUST_TAIL}) {
            assertTrue(A64NativeHelpers.code(id, ProgramType.XDP).length > 0);
            for (ProgramType t : new ProgramType[] {ProgramType.TC, ProgramType.RAW, ProgramType.CSD}) {
                assertNull(A64NativeHelpers.code(id, t), "helper " + id + " on " + t);
            }
        }
        for (int id : new int[] {Helpers.RINGBUF_RESERVE, Helpers.RINGBUF_SUBMIT, Helpers.RINGBUF_DISCARD, Helpers.RINGBUF_OUTPUT}) {
            assertTrue(A64NativeHelpers.code(id, ProgramType.TC).length > 0, "helper " + id);
        }
        assertNull(A64NativeHelpers.code(Helpers.MAP_UPDATE_ELEM, ProgramType.XDP));
        // the table NativeInstance binds: generated code past ktime, nothing for the rest
        Environment env = Environment.deterministic(0, 1);
        assertNotEquals(0, A64NativeHelpers.HELPERS.entry(Helpers.RINGBUF_OUTPUT, env, ProgramType.XDP));
        assertEquals(0, A64NativeHelpers.HELPERS.entry(Helpers.XDP_ADJUST_TAIL, env, ProgramType.TC));
        assertEquals(0, A64NativeHelpers.HELPERS.entry(Helpers.KTIME_GET_NS, env, ProgramType.XDP));
    }

    // ---------------------------------------------------------------- xdp_adjust_head/meta/tail

    /** Deltas around every limit of a 14..1513-byte packet, and far ones. */
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
        return IntStream.range(0, 24).mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> adjustAgainstJava(seed)));
    }

    private static void adjustAgainstJava(long seed) {
        Random rnd = new Random(seed);
        byte[] packet = new byte[XdpBuffer.MIN_PACKET + rnd.nextInt(1500)];
        rnd.nextBytes(packet);
        try (Arena arena = Arena.ofConfined(); A64Machine machine = new A64Machine(cpu(seed), A64Machine.DEFAULT_BUDGET, null)) {
            Native head = Native.of(machine, Helpers.XDP_ADJUST_HEAD, ProgramType.XDP);
            Native meta = Native.of(machine, Helpers.XDP_ADJUST_META, ProgramType.XDP);
            Native tail = Native.of(machine, Helpers.XDP_ADJUST_TAIL, ProgramType.XDP);
            XdpBuffer java = new XdpBuffer(arena, packet);
            XdpBuffer nat = new XdpBuffer(arena, packet);
            long base = nat.frame().address();
            MemorySegment ctx = arena.allocate(XdpContext.RUNTIME_SIZE, 8);
            ctx.set(ValueLayout.JAVA_LONG, 0, base + nat.data());
            ctx.set(ValueLayout.JAVA_LONG, 8, base + nat.dataEnd());
            ctx.set(ValueLayout.JAVA_LONG, 16, base + nat.dataMeta());
            ctx.set(ValueLayout.JAVA_LONG, XdpContext.HOST_FRAME, base);
            MemorySegment run = arena.allocate(RunContext.size(1), 16);
            machine.map(base, XdpBuffer.FRAME_SIZE);
            machine.map(ctx.address(), ctx.byteSize());
            machine.map(run.address(), run.byteSize());
            int ok = 0;
            int moves = 0;
            for (int step = 0; step < 300; step++) {
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

    @TestFactory
    Stream<DynamicTest> ringbufMatchesJava() {
        return IntStream.range(0, 16).mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> ringAgainstJava(seed)));
    }

    private static void ringAgainstJava(long seed) {
        Random rnd = new Random(seed);
        int size = 4096 << rnd.nextInt(2);
        MapDef def = new MapDef("rb", MapType.RINGBUF, 0, 0, size, 0, null, false);
        try (Arena arena = Arena.ofConfined(); A64Machine machine = new A64Machine(cpu(seed), A64Machine.DEFAULT_BUDGET, null)) {
            Native reserve = Native.of(machine, Helpers.RINGBUF_RESERVE, ProgramType.XDP);
            Native submit = Native.of(machine, Helpers.RINGBUF_SUBMIT, ProgramType.XDP);
            Native discard = Native.of(machine, Helpers.RINGBUF_DISCARD, ProgramType.XDP);
            Native output = Native.of(machine, Helpers.RINGBUF_OUTPUT, ProgramType.TC);
            RingBufMap java = (RingBufMap) BpfMaps.create(def, 1, arena);
            RingBufMap nat = (RingBufMap) BpfMaps.create(def, 1, arena);
            long bytes = RingBufMap.HEADER_SIZE + 2L * size;
            MemorySegment javaBlock = MemorySegment.ofAddress(java.address()).reinterpret(bytes);
            MemorySegment natBlock = MemorySegment.ofAddress(nat.address()).reinterpret(bytes);
            // the source at a page's end, unaligned by turns: a read past it faults
            MemorySegment srcPage = arena.allocate(size + 2L * A64Machine.PAGE, A64Machine.PAGE);
            machine.map(nat.address(), bytes);
            machine.map(srcPage.address(), size + A64Machine.PAGE);
            List<long[]> open = new ArrayList<>(); // {java payload, native payload}
            int reserved = 0;
            int full = 0;
            int outputs = 0;
            int skips = 0;
            for (int step = 0; step < 500; step++) {
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
                    MemorySegment src = srcPage.asSlice(size + A64Machine.PAGE - n, n);
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
            assertTrue(reserved > 30 && full > 5 && outputs > 10 && skips > 0,
                    "reserved " + reserved + ", refused for room " + full + ", output " + outputs + ", skips " + skips);
            assertTrue(nat.producerPosition() > size, "the ring never wrapped: producer at " + nat.producerPosition());
        }
    }

    /** Reserve takes Java's spin lock: while it is held, the native code waits (here: spends its budget). */
    @Test
    void reserveWaitsForTheLockJavaHolds() {
        MapDef def = new MapDef("rb", MapType.RINGBUF, 0, 0, 4096, 0, null, false);
        try (Arena arena = Arena.ofConfined(); A64Machine machine = new A64Machine(Unicorn.CpuModel.CORTEX_A57, 100_000, null)) {
            Native reserve = Native.of(machine, Helpers.RINGBUF_RESERVE, ProgramType.XDP);
            RingBufMap ring = (RingBufMap) BpfMaps.create(def, 1, arena);
            MemorySegment block = MemorySegment.ofAddress(ring.address()).reinterpret(RingBufMap.HEADER_SIZE + 2L * 4096);
            machine.map(ring.address(), block.byteSize());
            block.set(ValueLayout.JAVA_INT, RingBufMap.LOCK, 1);
            TrapException t = assertThrows(TrapException.class, () -> reserve.call(ring.address(), 16, 0, 0, 0, 0));
            assertTrue(t.getMessage().contains("budget"), t.getMessage());
            assertEquals(0, ring.producerPosition());
            block.set(ValueLayout.JAVA_INT, RingBufMap.LOCK, 0);
            assertEquals(ring.dataAddress() + RingBufMap.RECORD_HEADER, reserve.call(ring.address(), 16, 0, 0, 0, 0));
            assertEquals(0, block.get(ValueLayout.JAVA_INT, RingBufMap.LOCK), "lock released");
            assertEquals(24, ring.producerPosition());
        }
    }
}
