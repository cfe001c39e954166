package dev.prism.x86;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.program.ProgramType;
import dev.prism.runtime.Helpers;
import dev.prism.sys.ExecutableMemory;
import dev.prism.testing.Host;
import dev.prism.testing.NativeHelperScenarios;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@link X86NativeHelpers} against the Java implementations they replace, through
 * {@link NativeHelperScenarios}: the native code runs on the host, called through FFM.
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

    /** The helpers a seed's scenario asks for, each in its own executable memory, freed with it. */
    private static final class Natives implements NativeHelperScenarios.Natives {
        private final List<Native> code = new ArrayList<>();

        @Override
        public NativeHelperScenarios.NativeHelper helper(int id, ProgramType type) {
            Native n = Native.of(id, type);
            code.add(n);
            return n::call;
        }

        @Override
        public void close() {
            code.forEach(Native::close);
        }
    }

    @TestFactory
    Stream<DynamicTest> adjustHelpersMatchXdpBuffer() {
        return NativeHelperScenarios.adjustHelpersMatchXdpBuffer(40, 400, seed -> new Natives());
    }

    @TestFactory
    Stream<DynamicTest> ringbufMatchesJava() {
        return NativeHelperScenarios.ringbufMatchesJava(24, 600, seed -> new Natives());
    }

    /**
     * perf_event_output for XDP against the Java map on a second copy: the helper's own checks
     * (flag bits, the packet length in the flags against the packet) are its contract in
     * StandardHelpers, the rest is {@link dev.prism.runtime.maps.PerfEventArrayMap#output};
     * return values after each call, and the drained records at every drain and at the end.
     * Records of up to 1,600 bytes fill the 4 MiB of records, so -ENOSPC is reached.
     */
    @TestFactory
    Stream<DynamicTest> perfEventOutputMatchesJava() {
        return java.util.stream.IntStream.range(0, 6).mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> perfAgainstJava(seed)));
    }

    private static void perfAgainstJava(long seed) {
        java.util.Random rnd = new java.util.Random(seed);
        int cpu = (int) seed % 3;
        dev.prism.program.MapDef def = dev.prism.program.MapDef.of("ev", dev.prism.program.MapType.PERF_EVENT_ARRAY, 4, 4, 4, 0);
        byte[] code = X86NativeHelpers.code(Helpers.PERF_EVENT_OUTPUT, ProgramType.XDP, cpu);
        assertNull(X86NativeHelpers.code(Helpers.PERF_EVENT_OUTPUT, ProgramType.TC, cpu));
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined(); ExecutableMemory m = ExecutableMemory.of(code)) {
            MethodHandle h = Linker.nativeLinker().downcallHandle(m.entry(), SIX_LONGS);
            var jv = (dev.prism.runtime.maps.PerfEventArrayMap) dev.prism.runtime.maps.BpfMaps.create(def, 1, arena);
            var nat = (dev.prism.runtime.maps.PerfEventArrayMap) dev.prism.runtime.maps.BpfMaps.create(def, 1, arena);
            byte[] packet = new byte[dev.prism.runtime.XdpBuffer.MIN_PACKET + rnd.nextInt(1500)];
            rnd.nextBytes(packet);
            dev.prism.runtime.XdpBuffer x = new dev.prism.runtime.XdpBuffer(arena, packet);
            long base = x.frame().address();
            java.lang.foreign.MemorySegment ctx = arena.allocate(dev.prism.program.XdpContext.RUNTIME_SIZE, 8);
            ctx.set(ValueLayout.JAVA_LONG, 0, base + x.data());
            ctx.set(ValueLayout.JAVA_LONG, 8, base + x.dataEnd());
            java.lang.foreign.MemorySegment data = arena.allocate(1600, 8);
            int ok = 0;
            int full = 0;
            java.util.Map<Long, Integer> seen = new java.util.TreeMap<>();
            for (int step = 0; step < 12000; step++) {
                String what = "seed " + seed + " step " + step;
                if (step == 10_000) {
                    assertRecordsEqual(jv.drain(), nat.drain(), what);
                    continue;
                }
                if (seed % 2 == 1 && rnd.nextInt(200) == 0) { // odd seeds empty slots, even ones fill up
                    byte[] key = {(byte) rnd.nextInt(4), 0, 0, 0};
                    if (rnd.nextInt(3) == 0) {
                        jv.delete(java.lang.foreign.MemorySegment.ofArray(key));
                        nat.delete(java.lang.foreign.MemorySegment.ofArray(key));
                    } else {
                        jv.updateUser(key, new byte[4], 0);
                        nat.updateUser(key, new byte[4], 0);
                    }
                }
                long slot = switch (rnd.nextInt(6)) {
                    case 0, 1, 2 -> dev.prism.runtime.maps.PerfEventArrayMap.BPF_F_CURRENT_CPU;
                    case 3 -> cpu;
                    case 4 -> rnd.nextInt(6);
                    default -> rnd.nextInt() & 0xffff_ffffL;
                };
                long ctxLen = rnd.nextInt(4) == 0 ? rnd.nextInt(packet.length + 40) : rnd.nextInt(Math.min(packet.length, 65) + 1);
                long flags = slot | ctxLen << 32 | (rnd.nextInt(40) == 0 ? 1L << (52 + rnd.nextInt(12)) : 0);
                int size = rnd.nextInt(10) == 0 ? rnd.nextInt(64) : 1200 + rnd.nextInt(336);
                for (int i = 0; i < size; i++) {
                    data.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
                }
                long expected;
                if ((flags & ~(dev.prism.runtime.maps.PerfEventArrayMap.BPF_F_CTXLEN_MASK | dev.prism.runtime.maps.PerfEventArrayMap.BPF_F_INDEX_MASK)) != 0) {
                    expected = -22;
                } else if (ctxLen > packet.length) {
                    expected = -14;
                } else {
                    byte[] record = java.util.Arrays.copyOf(data.asSlice(0, size).toArray(ValueLayout.JAVA_BYTE), size + (int) ctxLen);
                    System.arraycopy(packet, 0, record, size, (int) ctxLen);
                    expected = jv.output(flags & dev.prism.runtime.maps.PerfEventArrayMap.BPF_F_INDEX_MASK, cpu, record);
                }
                long actual;
                try {
                    actual = (long) h.invokeExact(ctx.address(), nat.address(), flags, data.address(), (long) size, 0L);
                } catch (Throwable e) {
                    throw new AssertionError(e);
                }
                org.junit.jupiter.api.Assertions.assertEquals(expected, actual, what + ": flags 0x" + Long.toHexString(flags) + " size " + size);
                seen.merge(actual, 1, Integer::sum);
            }
            assertRecordsEqual(jv.drain(), nat.drain(), "seed " + seed + " at the end");
            for (long rc : seed % 2 == 1 ? new long[] {0, -22, -14, -7, -2, -95} : new long[] {0, -22, -14, -7, -95, -28}) {
                assertTrue(seen.getOrDefault(rc, 0) > 0, "seed " + seed + ": no call returned " + rc + " " + seen);
            }
        }
    }

    private static void assertRecordsEqual(List<dev.prism.runtime.maps.PerfEventArrayMap.Record> java,
                                           List<dev.prism.runtime.maps.PerfEventArrayMap.Record> nat, String what) {
        org.junit.jupiter.api.Assertions.assertEquals(java.size(), nat.size(), what + ": records");
        for (int i = 0; i < java.size(); i++) {
            org.junit.jupiter.api.Assertions.assertEquals(java.get(i).cpu(), nat.get(i).cpu(), what + ": record " + i + " slot");
            org.junit.jupiter.api.Assertions.assertArrayEquals(java.get(i).data(), nat.get(i).data(), what + ": record " + i);
        }
    }
}
