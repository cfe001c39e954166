package dev.prism.conformance.linux;

import dev.prism.error.TargetException;
import dev.prism.isa.Insn;
import dev.prism.program.Function;
import dev.prism.program.Program;
import dev.prism.sys.FuncInfoBtf;
import dev.prism.sys.LinuxBpf;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Times {@code BPF_PROG_LOAD}: how long the running kernel takes to verify and JIT the programs
 * of an object, the number {@code prism bench} sets next to Prism's verify + compile.
 *
 * <p>What is timed, and why:
 * <ul>
 *   <li>the {@code bpf(BPF_PROG_LOAD)} system call alone: {@link System#nanoTime()} right before
 *       and after the downcall, summed over the object's programs. The maps are created once
 *       before the first load ({@link KernelMaps}) and handed over through {@code fd_array}; the
 *       func_info BTF that bpf_loop callbacks need is loaded once too, as libbpf does per object.</li>
 *   <li>log level 0 and no log buffer, libbpf's default. {@link LinuxBpf#progLoad} asks for a
 *       level-1 log to explain rejections, and at level 1 the verifier prints every instruction
 *       it processes, which would be timed too; hence this small binding of its own. The
 *       {@code union bpf_attr} offsets are those of {@code dev.prism.sys.BpfAttr.ProgLoad}.</li>
 *   <li>each loaded program is closed right away; the kernel frees it after an RCU grace period,
 *       outside the timed call.</li>
 * </ul>
 */
public final class ProgLoadTimer {
    /** {@code BPF_PROG_LOAD}, enum bpf_cmd (include/uapi/linux/bpf.h). */
    private static final int BPF_PROG_LOAD = 5;
    private static final long PROG_TYPE = 0;          // __u32 prog_type
    private static final long INSN_CNT = 4;           // __u32 insn_cnt
    private static final long INSNS = 8;              // __aligned_u64 insns
    private static final long LICENSE = 16;           // __aligned_u64 license
    // 24 log_level, 28 log_size, 32 log_buf: all zero
    private static final long PROG_NAME = 48;         // char prog_name[16]
    private static final long PROG_BTF_FD = 72;       // __u32 prog_btf_fd
    private static final long FUNC_INFO_REC_SIZE = 76; // __u32 func_info_rec_size
    private static final long FUNC_INFO = 80;         // __aligned_u64 func_info
    private static final long FUNC_INFO_CNT = 88;     // __u32 func_info_cnt
    private static final long FD_ARRAY = 120;         // __aligned_u64 fd_array
    private static final long ATTR_SIZE = 144;
    /** EAGAIN: the kernel asks to retry a load it was interrupted in; the retry is timed too. */
    private static final int EAGAIN = 11;
    private static final int MAX_ATTEMPTS = 5;

    private ProgLoadTimer() {
    }

    /**
     * Loads {@code programs} (one object's, sharing its maps) {@code warmups + loads} times and
     * {@return the nanoseconds of each of the last {@code loads} loads}, each the sum over the
     * programs of their BPF_PROG_LOAD calls.
     *
     * @throws TargetException when this host cannot load BPF programs (not root, no bpf()) or the
     *                         kernel refuses one of them
     */
    public static long[] nanosPerLoad(List<Program> programs, int warmups, int loads) {
        if (programs.isEmpty() || warmups < 0 || loads < 1) {
            throw new IllegalArgumentException("programs " + programs.size() + ", warmups " + warmups + ", loads " + loads);
        }
        var availability = LinuxBpf.availability();
        if (!availability.available()) {
            throw new TargetException("linux is unavailable: " + availability.reason());
        }
        Syscall bpf = Syscall.get();
        long[] out = new long[loads];
        try (KernelMaps maps = KernelMaps.create(programs.get(0).maps(), programs.get(0).name());
             Arena arena = Arena.ofConfined()) {
            List<Attr> attrs = new ArrayList<>();
            List<Integer> btfFds = new ArrayList<>();
            try {
                for (Program p : programs) {
                    Insn[] slots = p.slots();
                    FuncInfoBtf funcs = FuncInfoBtf.needed(slots)
                            ? FuncInfoBtf.of(slots, pc -> p.functionAt(pc).map(Function::name).orElse(null)) : null;
                    int btfFd = funcs == null ? -1 : LinuxBpf.btfLoad(funcs.btf());
                    if (btfFd >= 0) {
                        btfFds.add(btfFd);
                    }
                    attrs.add(new Attr(p.name(), attr(arena, p, maps.fds(), btfFd, funcs)));
                }
                for (int i = 0; i < warmups + loads; i++) {
                    long total = 0;
                    for (Attr a : attrs) {
                        total += bpf.timeLoad(arena, a);
                    }
                    if (i >= warmups) {
                        out[i - warmups] = total;
                    }
                }
            } finally {
                btfFds.forEach(LinuxBpf::close);
            }
        }
        return out;
    }

    /**
     * What the kernel's verifier reports about one program at {@code BPF_LOG_STATS} (log level
     * 4): the last lines of its log, {@code verification time N usec} and {@code processed N insns
     * (limit 1000000) max_states_per_insn M total_states T peak_states P mark_read R}.
     *
     * @param accepted    whether BPF_PROG_LOAD succeeded
     * @param processed   instructions processed, -1 when the log has no such line
     * @param totalStates states the verifier stored, -1 when unknown
     * @param peakStates  the most states stored at once, -1 when unknown
     * @param verifyMicros the kernel's own verification time in microseconds, -1 when unknown
     * @param log         the stats log as the kernel wrote it
     */
    public record KernelStats(String program, boolean accepted, long processed, long totalStates, long peakStates,
                              long verifyMicros, String log) {
    }

    /** BPF_LOG_STATS (include/linux/bpf_verifier.h): the verifier logs its statistics only. */
    private static final int BPF_LOG_STATS = 4;
    private static final long LOG_LEVEL = 24;   // __u32 log_level
    private static final long LOG_SIZE = 28;    // __u32 log_size
    private static final long LOG_BUF = 32;     // __aligned_u64 log_buf
    private static final int STATS_LOG_SIZE = 1 << 16;

    /**
     * Loads each of {@code programs} (one object's, sharing its maps) once with the verifier's
     * statistics logged, and {@return what the kernel reported for each}. A refused program is
     * reported with {@code accepted} false and whatever its log held.
     *
     * @throws TargetException when this host cannot load BPF programs
     */
    public static List<KernelStats> stats(List<Program> programs) {
        var availability = LinuxBpf.availability();
        if (!availability.available()) {
            throw new TargetException("linux is unavailable: " + availability.reason());
        }
        Syscall bpf = Syscall.get();
        List<KernelStats> out = new ArrayList<>();
        try (KernelMaps maps = KernelMaps.create(programs.get(0).maps(), programs.get(0).name());
             Arena arena = Arena.ofConfined()) {
            for (Program p : programs) {
                Insn[] slots = p.slots();
                FuncInfoBtf funcs = FuncInfoBtf.needed(slots)
                        ? FuncInfoBtf.of(slots, pc -> p.functionAt(pc).map(Function::name).orElse(null)) : null;
                int btfFd = funcs == null ? -1 : LinuxBpf.btfLoad(funcs.btf());
                try {
                    MemorySegment a = attr(arena, p, maps.fds(), btfFd, funcs);
                    MemorySegment log = arena.allocate(STATS_LOG_SIZE + 1L);
                    a.set(ValueLayout.JAVA_INT, LOG_LEVEL, BPF_LOG_STATS);
                    a.set(ValueLayout.JAVA_INT, LOG_SIZE, STATS_LOG_SIZE);
                    a.set(ValueLayout.JAVA_LONG, LOG_BUF, log.address());
                    boolean ok = bpf.load(arena, new Attr(p.name(), a));
                    String text = log.getString(0, StandardCharsets.UTF_8).strip();
                    out.add(new KernelStats(p.name(), ok, number(text, "processed ", " insns"),
                            number(text, "total_states ", " "), number(text, "peak_states ", " "),
                            number(text, "verification time ", " usec"), text));
                } finally {
                    if (btfFd >= 0) {
                        LinuxBpf.close(btfFd);
                    }
                }
            }
        }
        return out;
    }

    /** {@return the number after the last {@code before} in {@code log} (up to {@code after}), or -1} */
    private static long number(String log, String before, String after) {
        int at = log.lastIndexOf(before);
        if (at < 0) {
            return -1;
        }
        int from = at + before.length();
        int to = from;
        while (to < log.length() && Character.isDigit(log.charAt(to))) {
            to++;
        }
        return to == from ? -1 : Long.parseLong(log.substring(from, to));
    }

    /** A prepared {@code union bpf_attr} for one program. */
    private record Attr(String program, MemorySegment segment) {
    }

    private static MemorySegment attr(Arena arena, Program p, int[] fdArray, int btfFd, FuncInfoBtf funcs) {
        byte[] insns = p.bytes();
        MemorySegment code = arena.allocate(insns.length, 8);
        MemorySegment.copy(insns, 0, code, ValueLayout.JAVA_BYTE, 0, insns.length);
        MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
        attr.set(ValueLayout.JAVA_INT, PROG_TYPE, LinuxObject.progType(p).code());
        attr.set(ValueLayout.JAVA_INT, INSN_CNT, insns.length / 8);
        attr.set(ValueLayout.JAVA_LONG, INSNS, code.address());
        attr.set(ValueLayout.JAVA_LONG, LICENSE, arena.allocateFrom("GPL").address());
        byte[] name = LinuxBpf.objectName(p.name()).getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(name, 0, attr, ValueLayout.JAVA_BYTE, PROG_NAME, name.length);
        if (funcs != null) {
            byte[] info = funcs.funcInfo();
            MemorySegment infoSeg = arena.allocate(Math.max(info.length, 1), 8);
            MemorySegment.copy(info, 0, infoSeg, ValueLayout.JAVA_BYTE, 0, info.length);
            attr.set(ValueLayout.JAVA_INT, PROG_BTF_FD, btfFd);
            attr.set(ValueLayout.JAVA_INT, FUNC_INFO_REC_SIZE, FuncInfoBtf.REC_SIZE);
            attr.set(ValueLayout.JAVA_LONG, FUNC_INFO, infoSeg.address());
            attr.set(ValueLayout.JAVA_INT, FUNC_INFO_CNT, funcs.count());
        }
        if (fdArray.length > 0) {
            MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, fdArray.length);
            MemorySegment.copy(fdArray, 0, fds, ValueLayout.JAVA_INT, 0, fdArray.length);
            attr.set(ValueLayout.JAVA_LONG, FD_ARRAY, fds.address());
        }
        return attr;
    }

    /** {@code long syscall(long, ...)} bound for bpf(), capturing errno. */
    private static final class Syscall {
        private static Syscall instance;

        private final long sysBpf;
        private final MethodHandle syscall;
        private final StructLayout stateLayout = Linker.Option.captureStateLayout();
        private final VarHandle errno = stateLayout.varHandle(PathElement.groupElement("errno"));

        private Syscall() {
            String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
            sysBpf = switch (arch) {
                case "amd64", "x86_64" -> 321; // arch/x86/entry/syscalls/syscall_64.tbl
                case "aarch64", "arm64" -> 280; // include/uapi/asm-generic/unistd.h
                default -> throw new TargetException("no known bpf() syscall number for architecture " + arch);
            };
            Linker linker = Linker.nativeLinker();
            syscall = linker.downcallHandle(
                    linker.defaultLookup().find("syscall").orElseThrow(() -> new TargetException("libc has no syscall()")),
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG),
                    Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));
        }

        static synchronized Syscall get() {
            if (instance == null) {
                instance = new Syscall();
            }
            return instance;
        }

        /** {@return whether BPF_PROG_LOAD of {@code a} succeeded}; closes the program */
        boolean load(Arena arena, Attr a) {
            MemorySegment state = arena.allocate(stateLayout);
            for (int attempt = 1; ; attempt++) {
                long fd;
                try {
                    fd = (long) syscall.invokeExact(state, sysBpf, (long) BPF_PROG_LOAD, a.segment(), a.segment().byteSize());
                } catch (Throwable t) {
                    throw new TargetException("bpf() call failed in the FFM layer: " + t, t);
                }
                if (fd >= 0) {
                    LinuxBpf.close((int) fd);
                    return true;
                }
                if ((int) errno.get(state, 0L) != EAGAIN || attempt == MAX_ATTEMPTS) {
                    return false;
                }
            }
        }

        /** {@return the nanoseconds one BPF_PROG_LOAD of {@code a} took}; closes the program */
        long timeLoad(Arena arena, Attr a) {
            MemorySegment state = arena.allocate(stateLayout);
            long elapsed = 0;
            for (int attempt = 1; ; attempt++) {
                long fd;
                long t0 = System.nanoTime();
                try {
                    fd = (long) syscall.invokeExact(state, sysBpf, (long) BPF_PROG_LOAD, a.segment(), a.segment().byteSize());
                } catch (Throwable t) {
                    throw new TargetException("bpf() call failed in the FFM layer: " + t, t);
                }
                elapsed += System.nanoTime() - t0;
                if (fd >= 0) {
                    LinuxBpf.close((int) fd);
                    return elapsed;
                }
                int e = (int) errno.get(state, 0L);
                if (e != EAGAIN || attempt == MAX_ATTEMPTS) {
                    throw new TargetException("BPF_PROG_LOAD of " + a.program() + " failed with errno " + e
                            + " (load it with 'prism run --target linux' to see the verifier log)");
                }
            }
        }
    }
}
