package dev.prism.sys;

import dev.prism.error.TargetException;
import dev.prism.isa.AluOp;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.InsnCodec;
import dev.prism.isa.Reg;
import dev.prism.isa.Width;
import dev.prism.program.MapType;
import dev.prism.target.Availability;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The Linux {@code bpf()} system call (man 2 bpf), through {@code java.lang.foreign}: the
 * commands the kernel oracle needs (create, update, look up, delete, iterate and freeze maps;
 * load and test-run programs) and nothing else. Ring buffers are read through
 * {@link RingBufConsumer}.
 *
 * <p>Every call builds its {@code union bpf_attr} in a confined arena that dies with the call,
 * so nothing the kernel was given a pointer to outlives it. Every failure, from "not Linux" to
 * a verifier rejection, is a {@link TargetException} whose message names the command and the
 * errno; a rejected program's message carries the tail of the verifier log.
 *
 * <p>File descriptors are plain ints owned by the caller, who closes each once with
 * {@link #close(int)}.
 */
public final class LinuxBpf {
    /** Verifier log buffer size, log_level 1. Conformance programs log a few KiB at most. */
    private static final int LOG_SIZE = 1 << 20;
    /** Lines of verifier log kept in a rejection message: the failing path's end and the error. */
    private static final int LOG_TAIL_LINES = 40;
    /** libbpf's retry count for EAGAIN from BPF_PROG_LOAD (the verifier was interrupted). */
    private static final int LOAD_ATTEMPTS = 5;
    /** BPF_F_... flags of BPF_MAP_UPDATE_ELEM: create or replace. */
    public static final long BPF_ANY = 0;

    private LinuxBpf() {
    }

    // ---------------------------------------------------------------------------------------
    // Availability

    /** Computed on first use, once per JVM: the answer cannot change while the JVM runs. */
    private static final class Probe {
        static final Availability RESULT = probe();
    }

    /**
     * {@return whether bpf() works here: Linux, x86-64 or arm64, and a trivial XDP program
     * ({@code mov r0, 0; exit}) loads; otherwise why not}
     */
    public static Availability availability() {
        return Probe.RESULT;
    }

    private static Availability probe() {
        String os = System.getProperty("os.name", "");
        if (!os.equals("Linux")) {
            return Availability.no("not Linux (os.name is " + os + ")");
        }
        String arch = System.getProperty("os.arch", "");
        if (!arch.equals("amd64") && !arch.equals("aarch64")) {
            return Availability.no("bpf() oracle supports amd64 and aarch64, not " + arch);
        }
        byte[] trivial = InsnCodec.encode(new Insn[] {
                new Insn.Alu(AluOp.MOV, Width.W64, Reg.R0, new Imm(0)),
                new Insn.Exit()});
        try {
            close(progLoad(ProgType.XDP, trivial, "prism_probe"));
            return Availability.yes("bpf() works");
        } catch (TargetException | IllegalCallerException e) {
            // IllegalCallerException: native access denied (--illegal-native-access=deny).
            return Availability.no(e.getMessage());
        }
    }

    // ---------------------------------------------------------------------------------------
    // Maps

    /**
     * Creates a map (BPF_MAP_CREATE).
     *
     * @param flags {@code map_flags}, BPF_F_* (0 for none)
     * @param name  a name shown by bpftool, or null; see {@link #objectName}
     * @return the map, whose fd the caller closes
     * @throws TargetException when the kernel refuses
     */
    public static BpfMap mapCreate(MapType type, int keySize, int valueSize, int maxEntries, int flags, String name) {
        return mapCreate(type, keySize, valueSize, maxEntries, flags, name, 0);
    }

    /**
     * Creates a map (BPF_MAP_CREATE); for ARRAY_OF_MAPS and HASH_OF_MAPS {@code innerMapFd} is a
     * map of the inner maps' shape (the kernel keeps a copy of its metadata; the caller may close it).
     */
    public static BpfMap mapCreate(MapType type, int keySize, int valueSize, int maxEntries, int flags, String name,
                                   int innerMapFd) {
        Objects.requireNonNull(type);
        if (type != MapType.RINGBUF) { // a ring buffer has neither keys nor values, only a size
            positive("key size", keySize);
            positive("value size", valueSize);
        }
        positive("max entries", maxEntries);
        Libc libc = Libc.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(BpfAttr.MapCreate.SIZE, 8);
            attr.set(ValueLayout.JAVA_INT, BpfAttr.MapCreate.MAP_TYPE, type.code());
            attr.set(ValueLayout.JAVA_INT, BpfAttr.MapCreate.KEY_SIZE, keySize);
            attr.set(ValueLayout.JAVA_INT, BpfAttr.MapCreate.VALUE_SIZE, valueSize);
            attr.set(ValueLayout.JAVA_INT, BpfAttr.MapCreate.MAX_ENTRIES, maxEntries);
            attr.set(ValueLayout.JAVA_INT, BpfAttr.MapCreate.MAP_FLAGS, flags);
            attr.set(ValueLayout.JAVA_INT, BpfAttr.MapCreate.INNER_MAP_FD, innerMapFd);
            putName(attr, BpfAttr.MapCreate.MAP_NAME, name);
            Libc.Result r = libc.bpf(arena, BpfAttr.BPF_MAP_CREATE, attr);
            if (r.failed()) {
                throw failure("BPF_MAP_CREATE", r.errno(), " (" + type + ", key " + keySize + ", value "
                        + valueSize + ", " + maxEntries + " entries)");
            }
            return new BpfMap((int) r.value(), type, keySize, valueSize, maxEntries);
        }
    }

    /** {@return the kernel's id of a map (BPF_OBJ_GET_INFO_BY_FD): what a map-in-map lookup from user space returns} */
    public static int mapId(BpfMap map) {
        Libc libc = Libc.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(BpfAttr.InfoByFd.MAP_INFO_SIZE, 8);
            MemorySegment attr = arena.allocate(BpfAttr.InfoByFd.SIZE, 8);
            attr.set(ValueLayout.JAVA_INT, BpfAttr.InfoByFd.BPF_FD, map.fd());
            attr.set(ValueLayout.JAVA_INT, BpfAttr.InfoByFd.INFO_LEN, BpfAttr.InfoByFd.MAP_INFO_SIZE);
            attr.set(ValueLayout.JAVA_LONG, BpfAttr.InfoByFd.INFO, info.address());
            Libc.Result r = libc.bpf(arena, BpfAttr.BPF_OBJ_GET_INFO_BY_FD, attr);
            if (r.failed()) {
                throw failure("BPF_OBJ_GET_INFO_BY_FD", r.errno(), " (map fd " + map.fd() + ")");
            }
            return info.get(ValueLayout.JAVA_INT, BpfAttr.InfoByFd.MAP_INFO_ID);
        }
    }

    /**
     * Writes one element (BPF_MAP_UPDATE_ELEM).
     *
     * @param flags {@link #BPF_ANY}, or BPF_NOEXIST (1) / BPF_EXIST (2)
     * @throws IllegalArgumentException when key or value does not have the map's size
     * @throws TargetException          when the kernel refuses (E2BIG: map full, EEXIST, ENOENT by flags)
     */
    public static void mapUpdate(BpfMap map, byte[] key, byte[] value, long flags) {
        checkLength("key", key, map.keySize());
        checkLength("value", value, map.userValueSize());
        Libc libc = Libc.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = elemAttr(arena, map, key);
            attr.set(ValueLayout.JAVA_LONG, BpfAttr.MapElem.VALUE, copyIn(arena, value).address());
            attr.set(ValueLayout.JAVA_LONG, BpfAttr.MapElem.FLAGS, flags);
            Libc.Result r = libc.bpf(arena, BpfAttr.BPF_MAP_UPDATE_ELEM, attr);
            if (r.failed()) {
                throw failure("BPF_MAP_UPDATE_ELEM", r.errno(), " (map fd " + map.fd() + ")");
            }
        }
    }

    /**
     * Reads one element (BPF_MAP_LOOKUP_ELEM).
     *
     * @return a copy of the value ({@code map.valueSize()} bytes), or null when the key is absent
     * @throws IllegalArgumentException when the key does not have the map's key size
     * @throws TargetException          when the kernel refuses for any reason but ENOENT
     */
    public static byte[] mapLookup(BpfMap map, byte[] key) {
        checkLength("key", key, map.keySize());
        Libc libc = Libc.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = elemAttr(arena, map, key);
            MemorySegment value = arena.allocate(map.userValueSize(), 8);
            attr.set(ValueLayout.JAVA_LONG, BpfAttr.MapElem.VALUE, value.address());
            Libc.Result r = libc.bpf(arena, BpfAttr.BPF_MAP_LOOKUP_ELEM, attr);
            if (r.failed()) {
                if (r.errno() == Errno.ENOENT.number()) {
                    return null;
                }
                throw failure("BPF_MAP_LOOKUP_ELEM", r.errno(), " (map fd " + map.fd() + ")");
            }
            return value.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /**
     * Deletes one element (BPF_MAP_DELETE_ELEM).
     *
     * @return true when it was there, false on ENOENT
     * @throws TargetException when the kernel refuses for another reason (EINVAL for arrays)
     */
    public static boolean mapDelete(BpfMap map, byte[] key) {
        checkLength("key", key, map.keySize());
        Libc libc = Libc.get();
        try (Arena arena = Arena.ofConfined()) {
            Libc.Result r = libc.bpf(arena, BpfAttr.BPF_MAP_DELETE_ELEM, elemAttr(arena, map, key));
            if (r.failed()) {
                if (r.errno() == Errno.ENOENT.number()) {
                    return false;
                }
                throw failure("BPF_MAP_DELETE_ELEM", r.errno(), " (map fd " + map.fd() + ")");
            }
            return true;
        }
    }

    /**
     * Iterates keys (BPF_MAP_GET_NEXT_KEY).
     *
     * @param key the current key, or null for the first
     * @return the next key, or null at the end
     */
    public static byte[] mapNextKey(BpfMap map, byte[] key) {
        Libc libc = Libc.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(BpfAttr.MapElem.SIZE, 8);
            attr.set(ValueLayout.JAVA_INT, BpfAttr.MapElem.MAP_FD, map.fd());
            if (key != null) {
                checkLength("key", key, map.keySize());
                attr.set(ValueLayout.JAVA_LONG, BpfAttr.MapElem.KEY, copyIn(arena, key).address());
            }
            MemorySegment next = arena.allocate(map.keySize(), 8);
            attr.set(ValueLayout.JAVA_LONG, BpfAttr.MapElem.VALUE, next.address());
            Libc.Result r = libc.bpf(arena, BpfAttr.BPF_MAP_GET_NEXT_KEY, attr);
            if (r.failed()) {
                if (r.errno() == Errno.ENOENT.number()) {
                    return null;
                }
                throw failure("BPF_MAP_GET_NEXT_KEY", r.errno(), " (map fd " + map.fd() + ")");
            }
            return next.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /**
     * Freezes a map (BPF_MAP_FREEZE, Linux 5.2+): from now on user space can no longer write it,
     * and the verifier may treat a read-only-to-programs map (BPF_F_RDONLY_PROG) as constant,
     * as libbpf arranges for {@code .rodata}.
     *
     * @throws TargetException when the kernel refuses (EBUSY: the map is mmap-ed writable)
     */
    public static void mapFreeze(BpfMap map) {
        Libc libc = Libc.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(BpfAttr.MapElem.SIZE, 8);
            attr.set(ValueLayout.JAVA_INT, BpfAttr.MapElem.MAP_FD, map.fd());
            Libc.Result r = libc.bpf(arena, BpfAttr.BPF_MAP_FREEZE, attr);
            if (r.failed()) {
                throw failure("BPF_MAP_FREEZE", r.errno(), " (map fd " + map.fd() + ")");
            }
        }
    }

    /**
     * {@return the number of possible CPUs (/sys/devices/system/cpu/possible), which sizes the
     * user-space value of per-CPU maps: one {@code round_up(value_size, 8)} block per CPU}
     */
    public static int possibleCpus() {
        try {
            String spec = java.nio.file.Files.readString(java.nio.file.Path.of("/sys/devices/system/cpu/possible")).strip();
            int count = 0;
            for (String part : spec.split(",")) {
                String[] range = part.split("-");
                count += range.length == 1 ? 1 : Integer.parseInt(range[1]) - Integer.parseInt(range[0]) + 1;
            }
            return count;
        } catch (java.io.IOException | RuntimeException e) {
            return Runtime.getRuntime().availableProcessors();
        }
    }

    /**
     * Pins the calling thread to {@code cpu}, so that test runs from it execute there (per-CPU
     * maps then see one CPU's slot change, as the interpreter's CPU 0 does); -1 lets it run
     * on every CPU again.
     */
    public static void pinCurrentThread(int cpu) {
        Libc.get().pinToCpu(cpu);
    }

    /**
     * {@return what {@code work} returns, run with the calling thread pinned to {@code cpu}}; the
     * thread's previous affinity is restored afterwards (a test run executes on the caller's CPU)
     */
    public static <T> T onCpu(int cpu, java.util.function.Supplier<T> work) {
        Libc libc = Libc.get();
        byte[] saved = libc.affinity();
        libc.pinToCpu(cpu);
        try {
            return work.get();
        } finally {
            libc.setAffinity(saved);
        }
    }

    private static MemorySegment elemAttr(Arena arena, BpfMap map, byte[] key) {
        MemorySegment attr = arena.allocate(BpfAttr.MapElem.SIZE, 8);
        attr.set(ValueLayout.JAVA_INT, BpfAttr.MapElem.MAP_FD, map.fd());
        attr.set(ValueLayout.JAVA_LONG, BpfAttr.MapElem.KEY, copyIn(arena, key).address());
        return attr;
    }

    // ---------------------------------------------------------------------------------------
    // Programs

    /**
     * Loads a program (BPF_PROG_LOAD) under the license "GPL", so that every helper is allowed.
     * The verifier runs at log_level 1 into a 1 MiB buffer; since Linux 6.4 the buffer rotates,
     * so a log that overflows keeps its end, where the error is.
     *
     * @param insns little-endian instructions, 8 bytes each
     * @param name  shown by bpftool, or null; see {@link #objectName}
     * @return the program's fd, which the caller closes
     * @throws TargetException when the kernel refuses; the message holds the errno and the last
     *                         {@value #LOG_TAIL_LINES} lines of the verifier log
     */
    public static int progLoad(ProgType type, byte[] insns, String name) {
        return progLoad(type, insns, name, new int[0]);
    }

    /**
     * Loads a program whose {@code lddw map_idx / map_value_idx} instructions (src 5 and 6)
     * index {@code fdArray} (BPF_PSEUDO_MAP_IDX, Linux 5.14+).
     *
     * @see #progLoad(ProgType, byte[], String)
     */
    public static int progLoad(ProgType type, byte[] insns, String name, int[] fdArray) {
        return progLoad(type, insns, name, fdArray, null);
    }

    /**
     * Loads a BTF blob (BPF_BTF_LOAD), e.g. a {@link FuncInfoBtf}.
     *
     * @return its fd, which the caller closes
     * @throws TargetException with the kernel's BTF log when it refuses
     */
    public static int btfLoad(byte[] btf) {
        Libc libc = Libc.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = copyIn(arena, btf);
            MemorySegment log = arena.allocate(65537);
            MemorySegment attr = arena.allocate(BpfAttr.BtfLoad.SIZE, 8);
            attr.set(ValueLayout.JAVA_LONG, BpfAttr.BtfLoad.BTF, data.address());
            attr.set(ValueLayout.JAVA_INT, BpfAttr.BtfLoad.BTF_SIZE, btf.length);
            attr.set(ValueLayout.JAVA_LONG, BpfAttr.BtfLoad.BTF_LOG_BUF, log.address());
            attr.set(ValueLayout.JAVA_INT, BpfAttr.BtfLoad.BTF_LOG_SIZE, 65536);
            attr.set(ValueLayout.JAVA_INT, BpfAttr.BtfLoad.BTF_LOG_LEVEL, 1);
            Libc.Result r = libc.bpf(arena, BpfAttr.BPF_BTF_LOAD, attr);
            if (r.failed()) {
                throw failure("BPF_BTF_LOAD", r.errno(), " (" + btf.length + " bytes)\nBTF log:\n"
                        + tail(log.getString(0, StandardCharsets.UTF_8)));
            }
            return (int) r.value();
        }
    }

    /**
     * Loads a program with function information: {@code funcs} describes every subprogram (Linux
     * requires it for programs that take code addresses, such as bpf_loop callbacks).
     *
     * @see #progLoad(ProgType, byte[], String, int[])
     */
    public static int progLoad(ProgType type, byte[] insns, String name, int[] fdArray, FuncInfoBtf funcs) {
        if (funcs == null) {
            return progLoad(type, insns, name, fdArray, -1, null);
        }
        int btfFd = btfLoad(funcs.btf());
        try {
            return progLoad(type, insns, name, fdArray, btfFd, funcs);
        } finally {
            close(btfFd);
        }
    }

    private static int progLoad(ProgType type, byte[] insns, String name, int[] fdArray, int btfFd, FuncInfoBtf funcs) {
        Objects.requireNonNull(type);
        insns = KernelBtf.resolveKfuncs(insns); // Prism's kfunc numbers -> the running kernel's BTF ids
        if (insns.length == 0 || insns.length % InsnCodec.SLOT != 0) {
            throw new IllegalArgumentException("program is " + insns.length + " bytes, not a non-empty multiple of 8");
        }
        Libc libc = Libc.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment code = copyIn(arena, insns);
            MemorySegment license = arena.allocateFrom("GPL");
            // One spare byte beyond log_size stays zero, so the log is always NUL-terminated.
            MemorySegment log = arena.allocate(LOG_SIZE + 1L);
            MemorySegment attr = arena.allocate(BpfAttr.ProgLoad.SIZE, 8);
            attr.set(ValueLayout.JAVA_INT, BpfAttr.ProgLoad.PROG_TYPE, type.code());
            attr.set(ValueLayout.JAVA_INT, BpfAttr.ProgLoad.INSN_CNT, insns.length / InsnCodec.SLOT);
            attr.set(ValueLayout.JAVA_LONG, BpfAttr.ProgLoad.INSNS, code.address());
            attr.set(ValueLayout.JAVA_LONG, BpfAttr.ProgLoad.LICENSE, license.address());
            attr.set(ValueLayout.JAVA_INT, BpfAttr.ProgLoad.LOG_LEVEL, 1);
            attr.set(ValueLayout.JAVA_INT, BpfAttr.ProgLoad.LOG_SIZE, LOG_SIZE);
            attr.set(ValueLayout.JAVA_LONG, BpfAttr.ProgLoad.LOG_BUF, log.address());
            putName(attr, BpfAttr.ProgLoad.PROG_NAME, name);
            if (funcs != null) {
                attr.set(ValueLayout.JAVA_INT, BpfAttr.ProgLoad.PROG_BTF_FD, btfFd);
                attr.set(ValueLayout.JAVA_INT, BpfAttr.ProgLoad.FUNC_INFO_REC_SIZE, FuncInfoBtf.REC_SIZE);
                attr.set(ValueLayout.JAVA_LONG, BpfAttr.ProgLoad.FUNC_INFO, copyIn(arena, funcs.funcInfo()).address());
                attr.set(ValueLayout.JAVA_INT, BpfAttr.ProgLoad.FUNC_INFO_CNT, funcs.count());
            }
            if (fdArray.length > 0) {
                MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, fdArray.length);
                MemorySegment.copy(fdArray, 0, fds, ValueLayout.JAVA_INT, 0, fdArray.length);
                attr.set(ValueLayout.JAVA_LONG, BpfAttr.ProgLoad.FD_ARRAY, fds.address());
            }

            Libc.Result r = load(libc, arena, attr);
            if (!r.failed()) {
                return (int) r.value();
            }
            String verifierLog = log.getString(0, StandardCharsets.UTF_8);
            int logTrueSize = attr.get(ValueLayout.JAVA_INT, BpfAttr.ProgLoad.LOG_TRUE_SIZE);
            if (r.errno() == Errno.ENOSPC.number()) {
                // ENOSPC also means "log truncated", even for a program the verifier accepted
                // (kernel/bpf/log.c, bpf_vlog_finalize). Without a log the answer is the verdict.
                attr.set(ValueLayout.JAVA_INT, BpfAttr.ProgLoad.LOG_LEVEL, 0);
                attr.set(ValueLayout.JAVA_INT, BpfAttr.ProgLoad.LOG_SIZE, 0);
                attr.set(ValueLayout.JAVA_LONG, BpfAttr.ProgLoad.LOG_BUF, 0L);
                r = load(libc, arena, attr);
                if (!r.failed()) {
                    return (int) r.value();
                }
            }
            String detail = " (" + type + ", " + insns.length / InsnCodec.SLOT + " insns)";
            if (verifierLog.isBlank()) {
                // EACCES and EINVAL normally come with a log; without one, say so. Other errnos
                // (EPERM, ENOMEM, E2BIG) are refused before the verifier runs.
                boolean verifierVerdict = r.errno() == Errno.EACCES.number() || r.errno() == Errno.EINVAL.number();
                throw failure("BPF_PROG_LOAD", r.errno(), detail + (verifierVerdict ? "; the verifier left no log" : ""));
            }
            String truncated = logTrueSize > LOG_SIZE ? ", log truncated at " + LOG_SIZE + " of " + logTrueSize + " bytes" : "";
            throw failure("BPF_PROG_LOAD", r.errno(), detail + "\nverifier log" + truncated + ":\n" + tail(verifierLog));
        }
    }

    private static Libc.Result load(Libc libc, Arena arena, MemorySegment attr) {
        Libc.Result r = libc.bpf(arena, BpfAttr.BPF_PROG_LOAD, attr);
        for (int attempt = 1; attempt < LOAD_ATTEMPTS && r.failed() && r.errno() == Errno.EAGAIN.number(); attempt++) {
            r = libc.bpf(arena, BpfAttr.BPF_PROG_LOAD, attr);
        }
        return r;
    }

    /** {@return the last {@value #LOG_TAIL_LINES} lines of a verifier log, saying how many were dropped} */
    static String tail(String log) {
        List<String> lines = Arrays.asList(log.stripTrailing().split("\n"));
        if (lines.size() <= LOG_TAIL_LINES) {
            return String.join("\n", lines);
        }
        int dropped = lines.size() - LOG_TAIL_LINES;
        return "... (" + dropped + " earlier lines)\n" + String.join("\n", lines.subList(dropped, lines.size()));
    }

    /**
     * Runs a loaded program once or more on a packet (BPF_PROG_TEST_RUN). XDP and SCHED_CLS need
     * at least 14 bytes (an Ethernet header).
     *
     * @param progFd          a loaded program
     * @param data            the packet
     * @param dataOutCapacity how many bytes of packet to take back; an XDP program may grow the
     *                        packet (bpf_xdp_adjust_tail), so room beyond {@code data.length}
     *                        may be needed
     * @param repeat          runs, at least 1; duration is their mean
     * @throws TargetException when the kernel refuses, including ENOSPC when the packet after
     *                         the run does not fit in {@code dataOutCapacity}
     */
    public static TestRun testRun(int progFd, byte[] data, int dataOutCapacity, int repeat) {
        if (dataOutCapacity < 0) {
            throw new IllegalArgumentException("data out capacity " + dataOutCapacity);
        }
        if (repeat < 1) {
            throw new IllegalArgumentException("repeat " + repeat + ", must be at least 1");
        }
        Libc libc = Libc.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = copyIn(arena, data);
            MemorySegment out = arena.allocate(Math.max(dataOutCapacity, 1), 8);
            MemorySegment attr = arena.allocate(BpfAttr.TestRun.SIZE, 8);
            attr.set(ValueLayout.JAVA_INT, BpfAttr.TestRun.PROG_FD, progFd);
            attr.set(ValueLayout.JAVA_INT, BpfAttr.TestRun.DATA_SIZE_IN, data.length);
            attr.set(ValueLayout.JAVA_LONG, BpfAttr.TestRun.DATA_IN, in.address());
            if (dataOutCapacity > 0) {
                attr.set(ValueLayout.JAVA_INT, BpfAttr.TestRun.DATA_SIZE_OUT, dataOutCapacity);
                attr.set(ValueLayout.JAVA_LONG, BpfAttr.TestRun.DATA_OUT, out.address());
            }
            attr.set(ValueLayout.JAVA_INT, BpfAttr.TestRun.REPEAT, repeat);
            Libc.Result r = libc.bpf(arena, BpfAttr.BPF_PROG_TEST_RUN, attr);
            int sizeOut = attr.get(ValueLayout.JAVA_INT, BpfAttr.TestRun.DATA_SIZE_OUT);
            if (r.failed()) {
                String detail = r.errno() == Errno.ENOSPC.number()
                        ? " (the packet after the run is " + Integer.toUnsignedString(sizeOut)
                                + " bytes, the buffer " + dataOutCapacity + ")"
                        : " (prog fd " + progFd + ", " + data.length + " bytes in)";
                throw failure("BPF_PROG_TEST_RUN", r.errno(), detail);
            }
            int retval = attr.get(ValueLayout.JAVA_INT, BpfAttr.TestRun.RETVAL);
            long duration = Integer.toUnsignedLong(attr.get(ValueLayout.JAVA_INT, BpfAttr.TestRun.DURATION));
            byte[] dataOut = dataOutCapacity == 0
                    ? new byte[0]
                    : out.asSlice(0, Math.min(Integer.toUnsignedLong(sizeOut), dataOutCapacity)).toArray(ValueLayout.JAVA_BYTE);
            return new TestRun(retval, dataOut, duration);
        }
    }

    /**
     * Runs a loaded program once on a packet with a context (BPF_PROG_TEST_RUN with ctx_in and
     * ctx_out): for SCHED_CLS, {@code ctxIn} is a {@code struct __sk_buff} whose mark, priority
     * and cb (and a few more fields) the kernel copies into the skb, and whose every other field
     * must be zero; the same struct comes back with the values after the run.
     *
     * @return the run and the context after it ({@code ctxIn.length} bytes)
     * @throws TargetException when the kernel refuses (EINVAL for a nonzero field it does not take)
     */
    public static ContextRun testRunWithContext(int progFd, byte[] data, int dataOutCapacity, byte[] ctxIn) {
        Libc libc = Libc.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = copyIn(arena, data);
            MemorySegment out = arena.allocate(Math.max(dataOutCapacity, 1), 8);
            MemorySegment ctx = copyIn(arena, ctxIn);
            MemorySegment ctxOut = arena.allocate(Math.max(ctxIn.length, 1), 8);
            MemorySegment attr = arena.allocate(BpfAttr.TestRun.SIZE, 8);
            attr.set(ValueLayout.JAVA_INT, BpfAttr.TestRun.PROG_FD, progFd);
            attr.set(ValueLayout.JAVA_INT, BpfAttr.TestRun.DATA_SIZE_IN, data.length);
            attr.set(ValueLayout.JAVA_LONG, BpfAttr.TestRun.DATA_IN, in.address());
            attr.set(ValueLayout.JAVA_INT, BpfAttr.TestRun.DATA_SIZE_OUT, dataOutCapacity);
            attr.set(ValueLayout.JAVA_LONG, BpfAttr.TestRun.DATA_OUT, out.address());
            attr.set(ValueLayout.JAVA_INT, BpfAttr.TestRun.REPEAT, 1);
            attr.set(ValueLayout.JAVA_INT, BpfAttr.TestRun.CTX_SIZE_IN, ctxIn.length);
            attr.set(ValueLayout.JAVA_INT, BpfAttr.TestRun.CTX_SIZE_OUT, ctxIn.length);
            attr.set(ValueLayout.JAVA_LONG, BpfAttr.TestRun.CTX_IN, ctx.address());
            attr.set(ValueLayout.JAVA_LONG, BpfAttr.TestRun.CTX_OUT, ctxOut.address());
            Libc.Result r = libc.bpf(arena, BpfAttr.BPF_PROG_TEST_RUN, attr);
            int sizeOut = attr.get(ValueLayout.JAVA_INT, BpfAttr.TestRun.DATA_SIZE_OUT);
            if (r.failed()) {
                throw failure("BPF_PROG_TEST_RUN", r.errno(), " (prog fd " + progFd + ", " + data.length
                        + " bytes in, a context of " + ctxIn.length + " bytes, data_size_out " + Integer.toUnsignedString(sizeOut) + ")");
            }
            int retval = attr.get(ValueLayout.JAVA_INT, BpfAttr.TestRun.RETVAL);
            long duration = Integer.toUnsignedLong(attr.get(ValueLayout.JAVA_INT, BpfAttr.TestRun.DURATION));
            byte[] dataOut = out.asSlice(0, Math.min(Integer.toUnsignedLong(sizeOut), dataOutCapacity)).toArray(ValueLayout.JAVA_BYTE);
            int ctxSizeOut = attr.get(ValueLayout.JAVA_INT, BpfAttr.TestRun.CTX_SIZE_OUT);
            byte[] ctxAfter = ctxOut.asSlice(0, Math.min(Math.max(ctxSizeOut, 0), ctxIn.length)).toArray(ValueLayout.JAVA_BYTE);
            return new ContextRun(new TestRun(retval, dataOut, duration), ctxAfter);
        }
    }

    /** A test run with its context after the run ({@link #testRunWithContext}). */
    public record ContextRun(TestRun run, byte[] ctxOut) {
    }

    // ---------------------------------------------------------------------------------------
    // File descriptors

    /**
     * Closes a map or program fd. The kernel frees the object when its last reference goes.
     *
     * @throws TargetException when close(2) fails (EBADF: closed twice, or never opened)
     */
    public static void close(int fd) {
        Libc libc = Libc.get();
        try (Arena arena = Arena.ofConfined()) {
            Libc.Result r = libc.close(arena, fd);
            if (r.failed()) {
                throw new TargetException("close(" + fd + ") failed: " + Errno.describe(r.errno(), null));
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Helpers

    /**
     * {@return a name the kernel accepts for map_name / prog_name: characters outside
     * [A-Za-z0-9_.] become '_', and it is cut to 15 bytes (BPF_OBJ_NAME_LEN less the NUL)}
     */
    public static String objectName(String name) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < name.length() && sb.length() < BpfAttr.OBJ_NAME_LEN - 1; i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
            sb.append(ok ? c : '_');
        }
        return sb.toString();
    }

    private static void putName(MemorySegment attr, long offset, String name) {
        if (name == null) {
            return;
        }
        byte[] bytes = objectName(name).getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(bytes, 0, attr, ValueLayout.JAVA_BYTE, offset, bytes.length);
    }

    /** {@return a native copy of {@code bytes}, 8-byte aligned, at least one byte long} */
    private static MemorySegment copyIn(Arena arena, byte[] bytes) {
        MemorySegment seg = arena.allocate(Math.max(bytes.length, 1), 8);
        MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return seg;
    }

    private static void checkLength(String what, byte[] bytes, int expected) {
        if (bytes.length != expected) {
            throw new IllegalArgumentException(what + " is " + bytes.length + " bytes, the map's " + what + " size is " + expected);
        }
    }

    private static void positive(String what, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(what + " " + value + ", must be positive");
        }
    }

    private static TargetException failure(String command, int errno, String detail) {
        String hint = errno == Errno.EPERM.number() ? "not root?" : null;
        return new TargetException("bpf(" + command + ") failed: " + Errno.describe(errno, hint) + detail);
    }
}
