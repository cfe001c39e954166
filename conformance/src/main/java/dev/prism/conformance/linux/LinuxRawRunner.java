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
import dev.prism.sys.FuncInfoBtf;
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
 *
 * <h2>Packet mode</h2>
 * Linux refuses the legacy packet loads ({@code ldabs*}, {@code ldind*}, RFC 9669 section 5.5)
 * in XDP programs ("BPF_LD_[ABS|IND] instructions not allowed for this program type") and in
 * any program with BPF-to-BPF calls ("LD_ABS is not allowed in subprogs without BTF"), so the
 * wrapper above cannot run them. Linux does allow them in SCHED_CLS (tc) programs, reading the
 * skb whose context is in r6. So a program that holds an {@link Insn.PacketLoad} and no local
 * call and no callx ({@code packetMode}) is instead loaded as SCHED_CLS, its body inlined
 * rather than called:
 * <pre>
 *   0:   mov r2, len(mem)             r1 stays the skb context
 *   1:   the test program, every exit replaced by ja +(E - its index - 1)
 *   E:   lddw r1, map_value(R) + 0
 *   E+2: stxdw [r1 + 0], r0           R[0] = the test program's full 64-bit r0
 *   E+3: mov r0, 0                    TC_ACT_OK
 *   E+4: exit
 * </pre>
 * {@code exit} and {@code ja} are both one slot and the prologue sits before the whole body,
 * so the body's own jump offsets stay valid. BPF_PROG_TEST_RUN copies the memory into an skb
 * whose data starts at the mac header (SCHED_CLS is an L2 program type; SOCKET_FILTER would
 * start 14 bytes later, at the network header), so {@code ldabs k} reads {@code mem[k]}.
 * The verifier insists on r6 = ctx at every packet load; the suite's packet cases begin with
 * {@code mov r6, r1}, which here copies the context. A packet load out of bounds ends the whole
 * program with r0 = 0 (the verifier rewrites each load into a helper call followed by that
 * exit, bpf_gen_ld_abs), so the epilogue never runs and R[0] keeps its initial 0: exactly the
 * RFC's outcome. Limits of this mode: the skb test run needs at least ETH_HLEN (14) bytes of
 * data, so shorter memory is "not supported"; r1 is the context and not a pointer to the
 * memory, so a program that also reads or writes the memory through r1 is refused by the
 * verifier. The memory after the run is the test run's {@code data_out}, the packet as the
 * kernel left it (a packet load cannot write it).
 */
public final class LinuxRawRunner {
    /** XDP_PASS, the wrapper's own return value. */
    private static final int XDP_PASS = 2;
    /** XDP test runs need an Ethernet header (14 bytes); the content does not matter. */
    private static final int PACKET_SIZE = 64;
    /** ETH_HLEN: the least data BPF_PROG_TEST_RUN accepts for an skb program. */
    private static final int ETH_HLEN = 14;
    /** TC_ACT_OK, the packet-mode epilogue's return value. */
    private static final int TC_ACT_OK = 0;
    /** Slots the packet-mode prologue puts before the test program: {@code mov r2, len}. */
    static final int PACKET_PROLOGUE_LENGTH = 1;

    /**
     * The outcome of one run.
     *
     * @param r0       the test program's return value, all 64 bits
     * @param memAfter the memory after the run, as long as the memory given
     */
    public record Result(long r0, byte[] memAfter) {
    }

    /**
     * Runs {@code program} once with r1 = {@code mem} (0 when null or empty) and r2 = its length;
     * in packet mode ({@code packetMode}) r1 is instead the context of an skb holding
     * {@code mem}, as the class comment explains.
     *
     * @return r0 and the memory after the run
     * @throws TargetException when bpf() is unavailable, when the kernel rejects the program
     *                         (the message carries the verifier log; its instruction indices
     *                         count from the wrapper, see {@link #wrapperLength}, or in packet
     *                         mode from a one-slot prologue), when a map operation fails, or
     *                         ("not supported: ...") in packet mode when {@code mem} is shorter
     *                         than the 14 bytes an skb test run needs
     */
    public Result run(Program program, byte[] mem) {
        return run(program, mem, new int[0]);
    }

    /**
     * {@link #run(Program, byte[])} for a program with maps: it is loaded with
     * {@code fd_array} = {@code fdArray}, so that its {@code lddw map_idx N} /
     * {@code map_value_idx N, OFF} (src 5 and 6) refer to the map whose fd is
     * {@code fdArray[N]}. The wrapper's own maps are referenced by fd (src 2) and are not in
     * the array.
     */
    public Result run(Program program, byte[] mem, int[] fdArray) {
        if (program.type() != ProgramType.RAW) {
            throw TargetException.unsupported("the Linux raw runner takes raw programs, not " + program.type().id());
        }
        byte[] memory = mem == null ? new byte[0] : mem;
        if (packetMode(program)) {
            return runPacket(program, memory, fdArray);
        }
        try (Fds fds = new Fds()) {
            BpfMap memMap = memory.length == 0 ? null : fds.add(LinuxBpf.mapCreate(MapType.ARRAY, 4, memory.length, 1, 0, "prism_mem"));
            BpfMap resultMap = fds.add(LinuxBpf.mapCreate(MapType.ARRAY, 4, Long.BYTES, 1, 0, "prism_r0"));
            if (memMap != null) {
                LinuxBpf.mapUpdate(memMap, key0(), memory, LinuxBpf.BPF_ANY);
            }
            Insn[] wrapper = wrapper(memMap, memory.length, resultMap);
            int progFd = fds.add(load(program, wrapper, fdArray));
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

    /**
     * {@return whether {@code program} runs in packet mode (see the class comment): it holds a
     * legacy packet load, and no local call or callx, which Linux would not allow with it}
     */
    static boolean packetMode(Program program) {
        boolean packetLoad = false;
        for (Insn insn : program.slots()) {
            switch (insn) {
                case Insn.PacketLoad _ -> packetLoad = true;
                case Insn.Call c when c.kind() == CallKind.LOCAL -> {
                    return false;
                }
                case Insn.CallX _ -> {
                    return false;
                }
                case null, default -> {
                }
            }
        }
        return packetLoad;
    }

    private Result runPacket(Program program, byte[] memory, int[] fdArray) {
        if (memory.length < ETH_HLEN) {
            throw TargetException.unsupported("the kernel's skb test run needs at least " + ETH_HLEN
                    + " bytes of packet, the case has " + memory.length);
        }
        try (Fds fds = new Fds()) {
            BpfMap resultMap = fds.add(LinuxBpf.mapCreate(MapType.ARRAY, 4, Long.BYTES, 1, 0, "prism_r0"));
            Insn[] all = packetProgram(program.slots(), memory.length, resultMap);
            int progFd;
            try {
                progFd = fds.add(LinuxBpf.progLoad(ProgType.SCHED_CLS, InsnCodec.encode(all), program.name(), fdArray));
            } catch (TargetException e) {
                throw new TargetException("kernel rejected " + program.name() + " (loaded as SCHED_CLS in packet mode, after a "
                        + PACKET_PROLOGUE_LENGTH + "-insn prologue and with its exits turned into jumps to an epilogue: subtract "
                        + PACKET_PROLOGUE_LENGTH + " from the log's insn indices): " + e.getMessage(), e);
            }
            TestRun run = LinuxBpf.testRun(progFd, memory, memory.length, 1);
            if (run.retval() != TC_ACT_OK) {
                throw new TargetException("the kernel run returned " + run.retval() + " from the packet-mode program, expected TC_ACT_OK (0)");
            }
            byte[] r0 = LinuxBpf.mapLookup(resultMap, key0());
            if (r0 == null) {
                throw new TargetException("array map element 0 missing after the run");
            }
            return new Result(ByteBuffer.wrap(r0).order(ByteOrder.LITTLE_ENDIAN).getLong(), run.dataOut());
        }
    }

    /**
     * {@return the packet-mode program's slots, laid out as in the class comment: the prologue,
     * {@code body} with each exit replaced by a jump to the epilogue, and the epilogue}
     */
    static Insn[] packetProgram(Insn[] body, int memLength, BpfMap resultMap) {
        List<Insn> all = new ArrayList<>();
        all.add(new Insn.Alu(AluOp.MOV, Width.W64, Reg.R2, new Imm(memLength)));
        for (int i = 0; i < body.length; i++) {
            if (body[i] instanceof Insn.Exit) {
                int toEpilogue = body.length - i - 1;
                all.add(new Insn.Ja(toEpilogue, toEpilogue > Short.MAX_VALUE));
            } else {
                all.add(body[i]);
            }
        }
        addSlots(all, new Insn.LoadImm64(LoadImm64Kind.MAP_VALUE_BY_FD, Reg.R1, resultMap.fd(), 0));
        all.add(new Insn.Store(Size.DW, Reg.R1, (short) 0, Reg.R0));
        all.add(new Insn.Alu(AluOp.MOV, Width.W64, Reg.R0, new Imm(TC_ACT_OK)));
        all.add(new Insn.Exit());
        return all.toArray(Insn[]::new);
    }

    /** {@return how many slots the wrapper puts before the test program: 9, or 8 without memory} */
    public static int wrapperLength(boolean hasMemory) {
        return hasMemory ? 9 : 8;
    }

    private static int load(Program program, Insn[] wrapper, int[] fdArray) {
        Insn[] test = program.slots();
        Insn[] all = new Insn[wrapper.length + test.length];
        System.arraycopy(wrapper, 0, all, 0, wrapper.length);
        System.arraycopy(test, 0, all, wrapper.length, test.length);
        try {
            // bpf_loop callbacks (lddw code) load only with func_info: describe each subprogram
            FuncInfoBtf funcs = FuncInfoBtf.needed(all)
                    ? FuncInfoBtf.of(all, pc -> pc == 0 ? "prism_wrapper" : pc == wrapper.length ? "test" : null) : null;
            return LinuxBpf.progLoad(ProgType.XDP, InsnCodec.encode(all), program.name(), fdArray, funcs);
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
            List<Runnable> steps = new ArrayList<>();
            for (int fd : open.reversed()) {
                steps.add(() -> LinuxBpf.close(fd));
            }
            Cleanup.runAll(steps);
        }
    }
}
