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
}
