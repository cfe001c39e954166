package dev.prism.x86;

import dev.prism.program.Program;
import dev.prism.runtime.Environment;
import dev.prism.runtime.Helper;
import dev.prism.runtime.Region;
import dev.prism.runtime.jit.JitInstance;
import dev.prism.runtime.jit.RunContext;
import dev.prism.sys.ExecutableMemory;
import dev.prism.verifier.VerifiedProgram;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;

/**
 * Programs of one object as native x86-64 code: {@link JitInstance} holds the maps, the
 * {@link X86Runtime run context} and the Java helpers; this class holds the code in W^X
 * executable memory, calls its entry through the FFM linker (as a critical function when no
 * program of the set calls into Java), and binds each helper slot to an FFM upcall stub that
 * ends in {@link JitInstance#callHelper}. Runs are serialized; close it to free code, maps and
 * stubs (an unreachable instance's code is unmapped by ExecutableMemory's cleaner).
 */
final class NativeInstance extends JitInstance<NativeInstance.Code> {
    private static final FunctionDescriptor HELPER = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
    private static final MethodHandle UPCALL;
    /** Native stack a run may use below the entry frame: 8 frames and their saved registers, with slack. */
    private static final long STACK_SPAN = (long) X86Jit.MAX_FRAMES * (X86Jit.FRAME_SIZE + 64) + 256;

    static {
        try {
            UPCALL = MethodHandles.lookup().findVirtual(NativeInstance.class, "callHelper",
                    MethodType.methodType(long.class, Helper.class, long.class, long.class, long.class, long.class, long.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** One program's machine code in executable memory. */
    record Code(X86Jit.Compiled compiled, ExecutableMemory memory) {
        long base() {
            return memory.entry().address();
        }
    }

    private NativeInstance(List<Program> programs, Environment env, Integer fixedSize) {
        super("x86-64", programs, env, fixedSize);
        try {
            bindHelpers();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** {@return programs of one object, verified and compiled now (raw ones: per memory size, when run)} */
    static NativeInstance of(List<Program> programs, Environment env) {
        NativeInstance n = new NativeInstance(programs, env, null);
        try {
            n.compileEager();
            return n;
        } catch (RuntimeException e) {
            n.close();
            throw e;
        }
    }

    /** {@return one program compiled from its proof} */
    static NativeInstance of(VerifiedProgram verified, X86Jit.Compiled compiled, Environment env) {
        NativeInstance n = new NativeInstance(List.of(verified.program()), env, verified.memSize());
        n.install(verified.memSize(), new Code(compiled, ExecutableMemory.of(compiled.code())));
        return n;
    }

    @Override
    protected Code compile(VerifiedProgram verified) {
        X86Jit.Compiled compiled = X86Jit.compile(verified);
        return new Code(compiled, ExecutableMemory.of(compiled.code()));
    }

    @Override
    protected void free(Code code) {
        code.memory().close();
    }

    @Override
    protected long tailEntry(Code code) {
        return code.base() + code.compiled().tailEntry();
    }

    @Override
    protected int callPcAt(List<Code> code, long address) {
        for (Code k : code) {
            long off = address - k.base();
            if (off >= 0 && off < k.compiled().code().length) {
                return k.compiled().callPcAt(off);
            }
        }
        return -1;
    }

    @Override
    protected Region stack() {
        long entryRsp = context().get(ValueLayout.JAVA_LONG, RunContext.ENTRY_SP);
        return new Region("stack", entryRsp - STACK_SPAN, MemorySegment.ofAddress(entryRsp - STACK_SPAN).reinterpret(STACK_SPAN), true);
    }

    /** An FFM upcall stub into {@link #callHelper} with {@code helper} bound. */
    @Override
    protected long helperEntry(int id, Helper helper) {
        MethodHandle h = MethodHandles.insertArguments(UPCALL.bindTo(this), 0, helper);
        return Linker.nativeLinker().upcallStub(h, HELPER, arena).address();
    }

    /** {@return whether none of {@code code} calls into Java, so the entry may be called as a critical function} */
    @Override
    protected boolean nativeOnly(List<Code> code) {
        for (Code c : code) {
            if (!c.compiled().upcalls().isEmpty()) {
                return false;
            }
        }
        return true;
    }

    @Override
    protected long invoke(Prepared<Code> p) {
        ExecutableMemory entry = p.code().get(0).memory();
        long context = context().address();
        return p.nativeOnly() ? entry.invokeCritical(p.r1(), p.r2(), context) : entry.invoke(p.r1(), p.r2(), context);
    }
}
