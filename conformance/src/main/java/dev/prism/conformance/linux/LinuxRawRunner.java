package dev.prism.conformance.linux;

import dev.prism.error.TargetException;
import dev.prism.isa.AluOp;
import dev.prism.isa.CallKind;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.InsnCodec;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.isa.Reg;
import dev.prism.isa.Size;
import dev.prism.isa.Width;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.sys.BpfMap;
import dev.prism.sys.LinuxBpf;
import dev.prism.program.MapType;
import dev.prism.sys.ProgType;
import dev.prism.sys.TestRun;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a {@code raw} conformance program in the running kernel: the Linux oracle (DESIGN.md,
 * "Oracles"). The kernel has no raw program type, so the test program becomes a BPF-to-BPF
 * subprogram of an XDP program whose main function sets up the raw calling convention:
 * <pre>
 *   0: lddw r1, map_value(A) + 0     r1 = the memory, A[0]        (mov r1, 0 when mem is empty)
 *   2: mov r2, len(mem)
 *   3: call local +5                 to insn 9, the test program's first instruction
 *   4: lddw r1, map_value(R) + 0
 *   6: stxdw [r1 + 0], r0            R[0] = the test program's full 64-bit r0
 *   7: mov r0, 2                     XDP_PASS
 *   8: exit
 *   9: the test program, unchanged
 * </pre>
 * A and R are single-entry ARRAY maps; {@code lddw src=2} (BPF_PSEUDO_MAP_VALUE) hands the
 * verifier a map-value pointer without a {@code map_lookup_elem} call, which would need a key
 * on the wrapper's stack. The wrapper uses no stack at all: Linux counts the stack of every
 * frame in a call chain against one 512-byte limit (check_max_stack_depth), so any wrapper
 * stack would be taken from the test program's.
 *
 * <p>The test program's local calls and jumps are relative, so appending it keeps them valid.
 * The kernel sees the memory as a map value of exactly {@code len(mem)} bytes and checks every
 * access against that, as the raw contract wants.
 */
public final class LinuxRawRunner {
    /** XDP_PASS, the wrapper's own return value. */
    private static final int XDP_PASS = 2;
    /** XDP test runs need an Ethernet header (14 bytes); the content does not matter. */
    private static final int PACKET_SIZE = 64;

    /**
     * The outcome of one run.
     *
     * @param r0       the test program's return value, all 64 bits
     * @param memAfter the memory after the run, as long as the memory given
     */
    public record Result(long r0, byte[] memAfter) {
    }

    /**
     * Runs {@code program} once with r1 = {@code mem} (0 when null or empty) and r2 = its length.
     *
     * @return r0 and the memory after the run
     * @throws TargetException when bpf() is unavailable, when the kernel rejects the program
     *                         (the message carries the verifier log; its instruction indices
     *                         count from the wrapper, see {@link #wrapperLength}), or when a
     *                         map operation fails
     */
    public Result run(Program program, byte[] mem) {
        if (program.type() != ProgramType.RAW) {
            throw new TargetException("not supported: the Linux raw runner takes raw programs, not " + program.type().id());
        }
        byte[] memory = mem == null ? new byte[0] : mem;
        try (Fds fds = new Fds()) {
            BpfMap memMap = memory.length == 0 ? null : fds.add(LinuxBpf.mapCreate(MapType.ARRAY, 4, memory.length, 1, 0, "prism_mem"));
            BpfMap resultMap = fds.add(LinuxBpf.mapCreate(MapType.ARRAY, 4, Long.BYTES, 1, 0, "prism_r0"));
            if (memMap != null) {
                LinuxBpf.mapUpdate(memMap, key0(), memory, LinuxBpf.BPF_ANY);
            }
            Insn[] wrapper = wrapper(memMap, memory.length, resultMap);
            int progFd = fds.add(load(program, wrapper));
            TestRun run = LinuxBpf.testRun(progFd, new byte[PACKET_SIZE], PACKET_SIZE, 1);
            if (run.retval() != XDP_PASS) {
                throw new TargetException("the kernel run returned " + run.retval() + " from the wrapper, expected XDP_PASS");
            }
            byte[] r0 = LinuxBpf.mapLookup(resultMap, key0());
            byte[] memAfter = memMap == null ? new byte[0] : LinuxBpf.mapLookup(memMap, key0());
            if (r0 == null || memAfter == null) {
                throw new TargetException("array map element 0 missing after the run");
            }
            // The wrapper stored r0 with stxdw, in the host's byte order; Prism's bpf() layer
            // runs only on x86-64 and arm64, both little-endian.
            return new Result(ByteBuffer.wrap(r0).order(ByteOrder.LITTLE_ENDIAN).getLong(), memAfter);
        }
    }

    /** {@return how many slots the wrapper puts before the test program: 9, or 8 without memory} */
    public static int wrapperLength(boolean hasMemory) {
        return hasMemory ? 9 : 8;
    }

    private static int load(Program program, Insn[] wrapper) {
        Insn[] test = program.slots();
        Insn[] all = new Insn[wrapper.length + test.length];
        System.arraycopy(wrapper, 0, all, 0, wrapper.length);
        System.arraycopy(test, 0, all, wrapper.length, test.length);
        try {
            return LinuxBpf.progLoad(ProgType.XDP, InsnCodec.encode(all), program.name());
        } catch (TargetException e) {
            throw new TargetException("kernel rejected " + program.name() + " (loaded after a " + wrapper.length
                    + "-insn wrapper: subtract " + wrapper.length + " from the log's insn indices): " + e.getMessage(), e);
        }
    }

    /** {@return the wrapper's slots (null second halves of lddw included), laid out as in the class comment} */
    static Insn[] wrapper(BpfMap memMap, int memLength, BpfMap resultMap) {
        List<Insn> before = new ArrayList<>();
        if (memMap != null) {
            addSlots(before, new Insn.LoadImm64(LoadImm64Kind.MAP_VALUE_BY_FD, Reg.R1, memMap.fd(), 0));
        } else {
            before.add(new Insn.Alu(AluOp.MOV, Width.W64, Reg.R1, new Imm(0)));
        }
        before.add(new Insn.Alu(AluOp.MOV, Width.W64, Reg.R2, new Imm(memLength)));
        List<Insn> after = new ArrayList<>();
        addSlots(after, new Insn.LoadImm64(LoadImm64Kind.MAP_VALUE_BY_FD, Reg.R1, resultMap.fd(), 0));
        after.add(new Insn.Store(Size.DW, Reg.R1, (short) 0, Reg.R0));
        after.add(new Insn.Alu(AluOp.MOV, Width.W64, Reg.R0, new Imm(XDP_PASS)));
        after.add(new Insn.Exit());
        // The call's offset counts from the instruction after it to the test program's start,
        // which is exactly the slots that follow the call.
        List<Insn> all = new ArrayList<>(before);
        all.add(new Insn.Call(CallKind.LOCAL, after.size()));
        all.addAll(after);
        return all.toArray(Insn[]::new);
    }

    private static void addSlots(List<Insn> slots, Insn.LoadImm64 lddw) {
        slots.add(lddw);
        slots.add(null);
    }

    private static byte[] key0() {
        return new byte[4];
    }

    /**
     * The fds of one run, closed together. A close that fails while another failure is on its
     * way out is attached to it as suppressed rather than hiding it (try-with-resources).
     */
    private static final class Fds implements AutoCloseable {
        private final List<Integer> open = new ArrayList<>();

        int add(int fd) {
            open.add(fd);
            return fd;
        }

        BpfMap add(BpfMap map) {
            open.add(map.fd());
            return map;
        }

        @Override
        public void close() {
            TargetException first = null;
            for (int i = open.size() - 1; i >= 0; i--) {
                try {
                    LinuxBpf.close(open.get(i));
                } catch (TargetException e) {
                    if (first == null) {
                        first = e;
                    } else {
                        first.addSuppressed(e);
                    }
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }
}
