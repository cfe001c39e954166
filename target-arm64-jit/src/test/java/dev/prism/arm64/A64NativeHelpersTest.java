package dev.prism.arm64;

import static dev.prism.arm64.A64LeafHarness.CLOBBERED;
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
import dev.prism.runtime.Environment;
import dev.prism.runtime.Helpers;
import dev.prism.runtime.maps.BpfMaps;
import dev.prism.runtime.maps.RingBufMap;
import dev.prism.testing.Host;
import dev.prism.testing.NativeHelperScenarios;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@link A64NativeHelpers} against the Java implementations they replace, through
 * {@link NativeHelperScenarios} as X86NativeHelpersTest: the native code runs in the emulator on
 * identity-mapped host memory (only what the scenario exposes, so the code works on the very
 * bytes Java then reads, and a read past them faults).
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

    /** A seed's machine (its CPU by {@link #cpu}), the helpers loaded into it, host memory mapped into it. */
    private record Natives(A64Machine machine) implements NativeHelperScenarios.Natives {
        Natives(long seed) {
            this(new A64Machine(cpu(seed), A64Machine.DEFAULT_BUDGET, null));
        }

        @Override
        public NativeHelperScenarios.NativeHelper helper(int id, ProgramType type) {
            return Native.of(machine, id, type)::call;
        }

        @Override
        public void expose(long address, long bytes) {
            machine.map(address, bytes);
        }

        @Override
        public void close() {
            machine.close();
        }
    }

    @TestFactory
    Stream<DynamicTest> adjustHelpersMatchXdpBuffer() {
        return NativeHelperScenarios.adjustHelpersMatchXdpBuffer(24, 300, Natives::new);
    }

    @TestFactory
    Stream<DynamicTest> ringbufMatchesJava() {
        return NativeHelperScenarios.ringbufMatchesJava(16, 500, Natives::new);
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
