package dev.prism.runtime;

import dev.prism.runtime.jit.RunContext;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Optional;

/**
 * The kernel functions (kfuncs) Prism implements: the open-coded number iterator
 * {@code bpf_iter_num_new/next/destroy} (kernel/bpf/bpf_iter.c). A program calls a kfunc with
 * {@code call} src 2 ({@code call btf imm}); in Linux imm is the function's id in the running
 * kernel's BTF, which differs from kernel to kernel. Prism numbers its kfuncs itself, as it
 * numbers maps: the ELF loader resolves a call to an extern {@code .ksyms} function by name to
 * the number below, and the Linux oracle turns the number back into the running kernel's BTF
 * id by name ({@code /sys/kernel/btf/vmlinux}). The JITs reach a kfunc through a helper slot of
 * its own ({@link #slot}), the interpreter through the same {@link HelperTable} entry.
 *
 * <p>The iterator's 8 bytes ({@code struct bpf_iter_num}) hold Linux's {@code struct
 * bpf_iter_num_kern}: {@code int cur} at 0, {@code int end} at 4.
 */
public final class Kfuncs {
    private Kfuncs() {
    }

    /** Prism's numbers of its kfuncs, the imm of {@code call btf}. */
    public static final int ITER_NUM_NEW = 0x10001;
    public static final int ITER_NUM_NEXT = 0x10002;
    public static final int ITER_NUM_DESTROY = 0x10003;
    /** bpf_iter_num_new's largest range (BPF_MAX_LOOPS). */
    public static final long MAX_LOOPS = 1L << 23;
    private static final long EINVAL = -22;
    private static final long E2BIG = -7;

    /** A kfunc: Prism's number, its name, the helper slot the JITs call it through. */
    public record Kfunc(int id, String name, int slot) {
    }

    private static final List<Kfunc> ALL = List.of(
            new Kfunc(ITER_NUM_NEW, "bpf_iter_num_new", RunContext.FOR_EACH_STEP - 3),
            new Kfunc(ITER_NUM_NEXT, "bpf_iter_num_next", RunContext.FOR_EACH_STEP - 2),
            new Kfunc(ITER_NUM_DESTROY, "bpf_iter_num_destroy", RunContext.FOR_EACH_STEP - 1));

    /** {@return every kfunc Prism implements} */
    public static List<Kfunc> all() {
        return ALL;
    }

    /** {@return the kfunc with Prism's number {@code id}} */
    public static Optional<Kfunc> byId(int id) {
        return ALL.stream().filter(k -> k.id() == id).findFirst();
    }

    /** {@return the kfunc called {@code name}} */
    public static Optional<Kfunc> byName(String name) {
        return ALL.stream().filter(k -> k.name().equals(name)).findFirst();
    }

    /** {@return "bpf_iter_num_new" or "kfunc #id" for a number Prism does not know} */
    public static String describe(int id) {
        return byId(id).map(Kfunc::name).orElse("kfunc #" + id);
    }

    /** Binds the implementations at their slots. */
    static void bind(HelperTable t) {
        t.bind(ALL.get(0).slot(), "iter_num_new", Kfuncs::iterNumNew);
        t.bind(ALL.get(1).slot(), "iter_num_next", Kfuncs::iterNumNext);
        t.bind(ALL.get(2).slot(), "iter_num_destroy", Kfuncs::iterNumDestroy);
    }

    private static long iterNumNew(HelperContext c, long it, long start, long end, long r4, long r5) {
        MemorySegment s = c.memory(it, 8, true);
        int lo = (int) start;
        int hi = (int) end;
        if (lo > hi) {
            s.fill((byte) 0);
            return EINVAL;
        }
        if ((long) hi - lo > MAX_LOOPS) {
            s.fill((byte) 0);
            return E2BIG;
        }
        s.set(ValueLayout.JAVA_INT_UNALIGNED, 0, lo - 1);
        s.set(ValueLayout.JAVA_INT_UNALIGNED, 4, hi);
        return 0;
    }

    private static long iterNumNext(HelperContext c, long it, long r2, long r3, long r4, long r5) {
        MemorySegment s = c.memory(it, 8, true);
        int cur = s.get(ValueLayout.JAVA_INT_UNALIGNED, 0);
        int end = s.get(ValueLayout.JAVA_INT_UNALIGNED, 4);
        if ((long) (cur + 1) >= end) {
            s.fill((byte) 0);
            return 0;
        }
        s.set(ValueLayout.JAVA_INT_UNALIGNED, 0, cur + 1);
        return it;
    }

    private static long iterNumDestroy(HelperContext c, long it, long r2, long r3, long r4, long r5) {
        c.memory(it, 8, true).fill((byte) 0);
        return 0;
    }
}
