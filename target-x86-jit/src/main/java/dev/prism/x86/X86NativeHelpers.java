package dev.prism.x86;

import static dev.prism.x86.X86Reg.R10;
import static dev.prism.x86.X86Reg.R11;
import static dev.prism.x86.X86Reg.R8;
import static dev.prism.x86.X86Reg.R9;
import static dev.prism.x86.X86Reg.RAX;
import static dev.prism.x86.X86Reg.RCX;
import static dev.prism.x86.X86Reg.RDI;
import static dev.prism.x86.X86Reg.RDX;
import static dev.prism.x86.X86Reg.RSI;

import dev.prism.program.ProgramType;
import dev.prism.program.XdpContext;
import dev.prism.runtime.Environment;
import dev.prism.runtime.Helpers;
import dev.prism.runtime.XdpBuffer;
import dev.prism.runtime.jit.NativeInstance;
import dev.prism.runtime.jit.RunContext;
import dev.prism.runtime.maps.BpfMaps;
import dev.prism.runtime.maps.MapErrno;
import dev.prism.runtime.maps.PerfEventArrayMap;
import dev.prism.runtime.maps.RingBufMap;

/**
 * Helpers implemented as native code, made once per JVM and bound into a run context's helper
 * table in place of an upcall into Java, so that code calling them stays native and runs as a
 * critical function (an upcall costs tens of ns, the critical entry saves about 4 more). Each
 * does exactly what its Java implementation does, on the same memory:
 * <ul>
 *   <li>{@code bpf_ktime_get_ns} when the instance's environment reads the host's clock
 *       ({@link Environment#HOST_CLOCK}): a call of libc's {@code clock_gettime(CLOCK_MONOTONIC)},
 *       the clock {@link System#nanoTime} reads on Linux;</li>
 *   <li>{@code bpf_xdp_adjust_head/meta/tail} for XDP programs: the limits of {@link XdpBuffer},
 *       on the pointers of the host-layout context, checked against the frame's start the runtime
 *       leaves at {@link XdpContext#HOST_FRAME}; the runtime reads the pointers back before any
 *       Java helper and at the end of the run;</li>
 *   <li>{@code bpf_ringbuf_reserve/submit/discard/output}: {@link RingBufMap}'s protocol on its
 *       header (the map's handle), under the same spin lock Java takes;</li>
 *   <li>{@code bpf_get_smp_processor_id}: the environment's CPU, a constant of the code.</li>
 * </ul>
 * Arguments arrive as the JIT passes them to any helper: BPF r1-r5 in rdi, rsi, rdx, rcx, r8,
 * the run context in r9. Only the System V scratch registers are touched, and the direction
 * flag is clear again at every return.
 */
final class X86NativeHelpers {
    static final NativeInstance.NativeHelpers HELPERS = NativeInstance.NativeHelpers.ktime(X86NativeHelpers::ktimeCode)
            .or(NativeInstance.NativeHelpers.generated(X86NativeHelpers::code));

    private static final int DATA = 0;
    private static final int DATA_END = 8;
    private static final int DATA_META = 16;
    private static final long BUSY = 0x8000_0000L;
    private static final long DISCARD = 0x4000_0000L;

    private X86NativeHelpers() {
    }

    /** {@return helper {@code id}'s code for programs of {@code type} on CPU {@code cpu}, or null to leave it to Java} */
    static byte[] code(int id, ProgramType type, int cpu) {
        return switch (id) {
            case Helpers.PERF_EVENT_OUTPUT -> type == ProgramType.XDP ? perfEventOutput(cpu) : null;
            case Helpers.GET_SMP_PROCESSOR_ID -> smpProcessorId(cpu);
            default -> code(id, type);
        };
    }

    /** {@code u32 get_smp_processor_id(void)}: the environment's CPU, as the Java helper returns it. */
    private static byte[] smpProcessorId(int cpu) {
        X86Assembler a = new X86Assembler();
        a.mov(32, X86Reg.RAX, cpu & 0xffff_ffffL);
        a.ret();
        return a.toByteArray();
    }

    /** {@return helper {@code id}'s code for programs of {@code type}, or null to leave it to Java} */
    static byte[] code(int id, ProgramType type) {
        boolean xdp = type == ProgramType.XDP;
        return switch (id) {
            case Helpers.XDP_ADJUST_META -> xdp ? adjustMeta() : null;
            case Helpers.XDP_ADJUST_HEAD -> xdp ? adjustHead() : null;
            case Helpers.XDP_ADJUST_TAIL -> xdp ? adjustTail() : null;
            case Helpers.RINGBUF_RESERVE -> ringbufReserve();
            case Helpers.RINGBUF_SUBMIT -> ringbufCommit(false);
            case Helpers.RINGBUF_DISCARD -> ringbufCommit(true);
            case Helpers.RINGBUF_OUTPUT -> ringbufOutput();
            default -> null;
        };
    }

    /**
     * {@code u64 ktime(void)}: a struct timespec on the stack (24 bytes keep the call 16-byte
     * aligned), clock_gettime(CLOCK_MONOTONIC, &ts), then tv_sec * 10^9 + tv_nsec.
     */
    private static byte[] ktimeCode(long clockGettime) {
        X86Assembler a = new X86Assembler();
        a.sub(64, X86Reg.RSP, 24);
        a.mov(32, X86Reg.RDI, NativeInstance.CLOCK_MONOTONIC);
        a.mov(64, X86Reg.RSI, X86Reg.RSP);
        a.movabs(X86Reg.RAX, clockGettime);
        a.call(X86Reg.RAX);
        a.mov(64, X86Reg.RAX, X86Address.of(X86Reg.RSP));
        a.mov(64, X86Reg.RCX, 1_000_000_000L);
        a.imul(64, X86Reg.RAX, X86Reg.RCX);
        a.mov(64, X86Reg.RCX, X86Address.of(X86Reg.RSP, 8));
        a.add(64, X86Reg.RAX, X86Reg.RCX);
        a.add(64, X86Reg.RSP, 24);
        a.ret();
        return a.toByteArray();
    }

    /**
     * {@code adjust_meta(ctx, int delta)}: meta' = meta + delta; -EINVAL below the xdp_frame
     * area or past data; -EACCES when data - meta' is not a multiple of 4 or exceeds 255.
     */
    private static byte[] adjustMeta() {
        X86Assembler a = new X86Assembler();
        Label einval = new Label();
        Label eacces = new Label();
        a.movsx(64, 32, RSI, RSI);
        a.mov(64, RAX, X86Address.of(RDI, DATA_META));
        a.add(64, RAX, RSI);
        a.mov(64, RDX, X86Address.of(RDI, XdpContext.HOST_FRAME));
        a.add(64, RDX, XdpBuffer.XDP_FRAME_SIZE);
        a.cmp(64, RAX, RDX);
        a.jccShort(Condition.B, einval);
        a.mov(64, RCX, X86Address.of(RDI, DATA));
        a.cmp(64, RAX, RCX);
        a.jccShort(Condition.A, einval);
        a.sub(64, RCX, RAX);
        a.test(32, RCX, 3);
        a.jccShort(Condition.NE, eacces);
        a.cmp(64, RCX, XdpBuffer.META_MAX);
        a.jccShort(Condition.A, eacces);
        a.mov(64, X86Address.of(RDI, DATA_META), RAX);
        a.xor(32, RAX, RAX);
        a.ret();
        errno(a, einval, -MapErrno.EINVAL);
        errno(a, eacces, -13);
        return a.toByteArray();
    }

    /**
     * {@code adjust_head(ctx, int delta)}: data' = data + delta, -EINVAL when it would enter
     * the xdp_frame area with the metadata in front of it, or leave less than an Ethernet
     * header; the metadata moves along (memmove, downwards when it moves up).
     */
    private static byte[] adjustHead() {
        X86Assembler a = new X86Assembler();
        Label einval = new Label();
        Label up = new Label();
        Label moved = new Label();
        // r11 ctx, rdx delta, r8 meta, r10 meta length, rax data'
        a.mov(64, R11, RDI);
        a.movsx(64, 32, RDX, RSI);
        a.mov(64, R8, X86Address.of(R11, DATA_META));
        a.mov(64, R10, X86Address.of(R11, DATA));
        a.sub(64, R10, R8);
        a.mov(64, RAX, X86Address.of(R11, DATA));
        a.add(64, RAX, RDX);
        a.mov(64, RCX, X86Address.of(R11, XdpContext.HOST_FRAME));
        a.add(64, RCX, XdpBuffer.XDP_FRAME_SIZE);
        a.add(64, RCX, R10);
        a.cmp(64, RAX, RCX);
        a.jccShort(Condition.B, einval);
        a.mov(64, RCX, X86Address.of(R11, DATA_END));
        a.sub(64, RCX, XdpBuffer.ETH_HLEN);
        a.cmp(64, RAX, RCX);
        a.jccShort(Condition.A, einval);
        a.test(64, R10, R10);
        a.jccShort(Condition.E, moved);
        a.mov(64, RCX, R10);
        a.test(64, RDX, RDX);
        a.jccShort(Condition.G, up);
        a.mov(64, RSI, R8);
        a.lea(64, RDI, X86Address.of(R8, 0));
        a.add(64, RDI, RDX);
        a.repMovsb();
        a.jmpShort(moved);
        a.bind(up); // overlapping upwards: copy from the last byte down
        a.lea(64, RSI, X86Address.of(R8, -1));
        a.add(64, RSI, R10);
        a.lea(64, RDI, X86Address.of(RSI, 0));
        a.add(64, RDI, RDX);
        a.std();
        a.repMovsb();
        a.cld();
        a.bind(moved);
        a.add(64, R8, RDX);
        a.mov(64, X86Address.of(R11, DATA_META), R8);
        a.mov(64, X86Address.of(R11, DATA), RAX);
        a.mov(64, X86Address.of(R9, RunContext.PKT_START), RAX);
        a.xor(32, RAX, RAX);
        a.ret();
        errno(a, einval, -MapErrno.EINVAL);
        return a.toByteArray();
    }

    /**
     * {@code adjust_tail(ctx, int delta)}: data_end' = data_end + delta, -EINVAL past the frame
     * less its shared info or below data + an Ethernet header; grown bytes are zeroed.
     */
    private static byte[] adjustTail() {
        X86Assembler a = new X86Assembler();
        Label einval = new Label();
        Label zeroed = new Label();
        // r11 ctx, rsi delta, rdx data_end'
        a.mov(64, R11, RDI);
        a.movsx(64, 32, RSI, RSI);
        a.mov(64, RDX, X86Address.of(R11, DATA_END));
        a.add(64, RDX, RSI);
        a.mov(64, RCX, X86Address.of(R11, XdpContext.HOST_FRAME));
        a.add(64, RCX, XdpBuffer.FRAME_SIZE - XdpBuffer.TAILROOM);
        a.cmp(64, RDX, RCX);
        a.jccShort(Condition.A, einval);
        a.mov(64, RCX, X86Address.of(R11, DATA));
        a.add(64, RCX, XdpBuffer.ETH_HLEN);
        a.cmp(64, RDX, RCX);
        a.jccShort(Condition.B, einval);
        a.test(64, RSI, RSI);
        a.jccShort(Condition.LE, zeroed);
        a.mov(64, RDI, X86Address.of(R11, DATA_END));
        a.mov(64, RCX, RSI);
        a.xor(32, RAX, RAX);
        a.repStosb();
        a.bind(zeroed);
        a.mov(64, X86Address.of(R11, DATA_END), RDX);
        a.mov(64, X86Address.of(R9, RunContext.PKT_END), RDX);
        a.xor(32, RAX, RAX);
        a.ret();
        errno(a, einval, -MapErrno.EINVAL);
        return a.toByteArray();
    }

    /** {@code ringbuf_reserve(ring, size, flags)}: the record's payload, or 0. */
    private static byte[] ringbufReserve() {
        X86Assembler a = new X86Assembler();
        Label none = new Label();
        a.test(64, RDX, RDX);
        a.jcc(Condition.NE, none);
        reserve(a);
        a.ret();
        a.bind(none);
        a.xor(32, RAX, RAX);
        a.ret();
        return a.toByteArray();
    }

    /**
     * The body of {@link RingBufMap#reserve(long)}, ring in rdi, size in rsi, payload address
     * or 0 in rax; clobbers rcx, rdx, r8-r11 and keeps rdi and rsi:
     * <pre>
     *   r8 = round_up(size + 8, 8); none when size > RINGBUF_MAX_RECORD_SZ or r8 > ring size
     *   r11 = consumer_pos; lock
     *   rcx = producer_pos; rdx = pending_pos, moved past committed records; store it
     *   rax = rcx + r8; none (unlock) when rax - r11 or rax - rdx exceeds the mask
     *   header at rcx & mask = size | BUSY, 0; producer_pos = rax; unlock
     * </pre>
     */
    private static void reserve(X86Assembler a) {
        Label none = new Label();
        Label unlockNone = new Label();
        Label spin = new Label();
        Label locked = new Label();
        Label walk = new Label();
        Label walked = new Label();
        Label done = new Label();
        int data = RingBufMap.HEADER_SIZE;
        a.mov(64, RAX, RingBufMap.MAX_RECORD);
        a.cmp(64, RSI, RAX);
        a.jcc(Condition.A, none);
        a.lea(64, R8, X86Address.of(RSI, RingBufMap.RECORD_HEADER + 7));
        a.and(64, R8, -8);
        a.mov(64, R10, X86Address.of(RDI, RingBufMap.MASK));
        a.lea(64, RAX, X86Address.of(R10, 1));
        a.cmp(64, R8, RAX);
        a.jcc(Condition.A, none);
        a.mov(64, R11, X86Address.of(RDI, RingBufMap.CONSUMER_POS));
        a.bind(spin);
        a.xor(32, RAX, RAX);
        a.mov(32, RCX, 1);
        a.lock();
        a.cmpxchg(32, X86Address.of(RDI, RingBufMap.LOCK), RCX);
        a.jccShort(Condition.E, locked);
        a.pause();
        a.jmpShort(spin);
        a.bind(locked);
        a.mov(64, RCX, X86Address.of(RDI, RingBufMap.PRODUCER_POS));
        a.mov(64, RDX, X86Address.of(RDI, RingBufMap.PENDING_POS));
        a.bind(walk);
        a.cmp(64, RDX, RCX);
        a.jccShort(Condition.AE, walked);
        a.mov(64, RAX, RDX);
        a.and(64, RAX, R10);
        a.add(64, RAX, RDI);
        a.mov(32, RAX, X86Address.of(RAX, data));
        a.test(32, RAX, BUSY);
        a.jccShort(Condition.NE, walked);
        a.and(32, RAX, ~(BUSY | DISCARD) & 0xffff_ffffL);
        a.add(64, RAX, RingBufMap.RECORD_HEADER + 7);
        a.and(64, RAX, -8);
        a.add(64, RDX, RAX);
        a.jmpShort(walk);
        a.bind(walked);
        a.mov(64, X86Address.of(RDI, RingBufMap.PENDING_POS), RDX);
        a.lea(64, RAX, X86Address.of(RCX, 0));
        a.add(64, RAX, R8);
        a.mov(64, R9, RAX);
        a.sub(64, R9, R11);
        a.cmp(64, R9, R10);
        a.jccShort(Condition.A, unlockNone);
        a.mov(64, R9, RAX);
        a.sub(64, R9, RDX);
        a.cmp(64, R9, R10);
        a.jccShort(Condition.A, unlockNone);
        a.and(64, RCX, R10);
        a.add(64, RCX, RDI); // the record, less the header block
        a.mov(32, RDX, RSI);
        a.or(32, RDX, BUSY);
        a.mov(32, X86Address.of(RCX, data), RDX);
        a.mov(32, X86Address.of(RCX, data + 4), 0);
        a.mov(64, X86Address.of(RDI, RingBufMap.PRODUCER_POS), RAX); // x86 stores are release stores
        a.mov(32, X86Address.of(RDI, RingBufMap.LOCK), 0);
        a.lea(64, RAX, X86Address.of(RCX, data + RingBufMap.RECORD_HEADER));
        a.jmpShort(done);
        a.bind(unlockNone);
        a.mov(32, X86Address.of(RDI, RingBufMap.LOCK), 0);
        a.bind(none);
        a.xor(32, RAX, RAX);
        a.bind(done);
    }

    /**
     * {@code ringbuf_submit/discard(record, flags)}: the header's BUSY bit cleared (DISCARD set)
     * with an atomic exchange. The verifier's reference tracking guarantees a reserved record,
     * which {@link RingBufMap#submit} checks again in Java.
     */
    private static byte[] ringbufCommit(boolean discard) {
        X86Assembler a = new X86Assembler();
        commit(a, RDI, discard);
        a.xor(32, RAX, RAX);
        a.ret();
        return a.toByteArray();
    }

    private static void commit(X86Assembler a, X86Reg payload, boolean discard) {
        a.mov(32, RDX, X86Address.of(payload, -RingBufMap.RECORD_HEADER));
        a.xor(32, RDX, BUSY);
        if (discard) {
            a.or(32, RDX, DISCARD);
        }
        a.xchg(32, X86Address.of(payload, -RingBufMap.RECORD_HEADER), RDX);
    }

    /**
     * {@code ringbuf_output(ring, data, size, flags)}: -EINVAL for flags other than the wakeup
     * bits, -EAGAIN when the ring has no room, else the bytes copied into a reserved record and
     * submitted, 0.
     */
    private static byte[] ringbufOutput() {
        X86Assembler a = new X86Assembler();
        Label einval = new Label();
        Label eagain = new Label();
        a.mov(64, RAX, ~(BpfMaps.BPF_RB_NO_WAKEUP | BpfMaps.BPF_RB_FORCE_WAKEUP));
        a.test(64, RCX, RAX);
        a.jcc(Condition.NE, einval);
        a.push(RSI); // data
        a.push(RDX); // size
        a.mov(64, RSI, RDX);
        reserve(a);
        a.pop(RCX);
        a.pop(RSI);
        a.test(64, RAX, RAX);
        a.jcc(Condition.E, eagain);
        a.mov(64, RDI, RAX);
        a.repMovsb();
        commit(a, RAX, false);
        a.xor(32, RAX, RAX);
        a.ret();
        errno(a, einval, -MapErrno.EINVAL);
        errno(a, eagain, -MapErrno.EAGAIN);
        return a.toByteArray();
    }

    /**
     * {@code perf_event_output(ctx, map, flags, data, size)} for XDP on CPU {@code cpu}, as the
     * Java helper and {@link PerfEventArrayMap#output}: -EINVAL for flag bits outside the slot and
     * the packet length; -EFAULT when that length exceeds the packet; then the slot (the CPU's for
     * BPF_F_CURRENT_CPU): -E2BIG past max_entries, -ENOENT when empty, -EOPNOTSUPP when another
     * CPU's; under the map's lock, -ENOSPC when the records are full, else the record (the
     * program's bytes, then the packet's) appended, 0. Registers:
     * <pre>
     *   rdi ctx  rsi map block  rcx data  r8 size  r10 packet bytes  rdx slot  r9 record length
     * </pre>
     */
    private static byte[] perfEventOutput(int cpu) {
        X86Assembler a = new X86Assembler();
        Label einval = new Label();
        Label efault = new Label();
        Label e2big = new Label();
        Label enoent = new Label();
        Label eopnotsupp = new Label();
        Label enospc = new Label();
        Label slotChosen = new Label();
        Label spin = new Label();
        Label locked = new Label();
        a.movabs(RAX, ~(PerfEventArrayMap.BPF_F_CTXLEN_MASK | PerfEventArrayMap.BPF_F_INDEX_MASK));
        a.test(64, RDX, RAX);
        a.jcc(Condition.NE, einval);
        a.mov(64, R10, RDX);
        a.shr(64, R10, 32);
        a.and(32, R10, 0xfffff);
        a.mov(64, RAX, X86Address.of(RDI, DATA_END));
        a.mov(64, R11, X86Address.of(RDI, DATA));
        a.sub(64, RAX, R11);
        a.cmp(64, R10, RAX);
        a.jcc(Condition.A, efault);
        a.mov(32, RDX, RDX); // the slot: flags' low 32 bits
        a.cmp(32, RDX, PerfEventArrayMap.BPF_F_CURRENT_CPU);
        a.jccShort(Condition.NE, slotChosen);
        a.mov(32, RDX, cpu);
        a.bind(slotChosen);
        a.mov(32, RAX, X86Address.of(RSI, PerfEventArrayMap.MAX_ENTRIES));
        a.cmp(32, RDX, RAX);
        a.jcc(Condition.AE, e2big);
        a.lea(64, R11, X86Address.of(RSI, PerfEventArrayMap.OPEN));
        a.add(64, R11, RDX);
        a.movzx(8, R11, X86Address.of(R11));
        a.test(32, R11, R11);
        a.jcc(Condition.E, enoent);
        a.cmp(32, RDX, cpu);
        a.jcc(Condition.NE, eopnotsupp);
        a.bind(spin);
        a.xor(32, RAX, RAX);
        a.mov(32, R11, 1);
        a.lock();
        a.cmpxchg(32, X86Address.of(RSI, PerfEventArrayMap.LOCK), R11);
        a.jccShort(Condition.E, locked);
        a.pause();
        a.jmpShort(spin);
        a.bind(locked);
        a.lea(64, R9, X86Address.of(R8, 0));
        a.add(64, R9, R10); // the record's length
        a.lea(64, RAX, X86Address.of(R9, PerfEventArrayMap.RECORD_HEADER + 7));
        a.and(64, RAX, -8); // its bytes, header included
        a.cmp(64, X86Address.of(RSI, PerfEventArrayMap.COUNT), PerfEventArrayMap.MAX_PENDING);
        a.jcc(Condition.AE, enospc);
        a.mov(64, R11, X86Address.of(RSI, PerfEventArrayMap.USED));
        a.add(64, RAX, R11);
        a.cmp(64, RAX, PerfEventArrayMap.CAPACITY);
        a.jcc(Condition.A, enospc);
        a.mov(64, X86Address.of(RSI, PerfEventArrayMap.USED), RAX);
        a.add(64, X86Address.of(RSI, PerfEventArrayMap.COUNT), 1);
        a.mov(32, RAX, X86Address.of(RSI, PerfEventArrayMap.RECORDS));
        a.add(64, RAX, RSI);
        a.add(64, RAX, R11); // the record
        a.mov(32, X86Address.of(RAX), RDX);
        a.mov(32, X86Address.of(RAX, 4), R9);
        a.push(RSI);
        a.push(RDI);
        a.lea(64, RDI, X86Address.of(RAX, PerfEventArrayMap.RECORD_HEADER));
        a.mov(64, RSI, RCX);
        a.mov(64, RCX, R8);
        a.repMovsb();
        a.mov(64, RAX, X86Address.of(X86Reg.RSP));
        a.mov(64, RSI, X86Address.of(RAX, DATA));
        a.mov(64, RCX, R10);
        a.repMovsb();
        a.pop(RDI);
        a.pop(RSI);
        a.mov(32, X86Address.of(RSI, PerfEventArrayMap.LOCK), 0);
        a.xor(32, RAX, RAX);
        a.ret();
        a.bind(enospc);
        a.mov(32, X86Address.of(RSI, PerfEventArrayMap.LOCK), 0);
        errno(a, new Label(), -MapErrno.ENOSPC);
        errno(a, einval, -MapErrno.EINVAL);
        errno(a, efault, -14);
        errno(a, e2big, -MapErrno.E2BIG);
        errno(a, enoent, -MapErrno.ENOENT);
        errno(a, eopnotsupp, -95);
        return a.toByteArray();
    }

    private static void errno(X86Assembler a, Label at, long value) {
        a.bind(at);
        a.mov(64, RAX, value);
        a.ret();
    }
}
