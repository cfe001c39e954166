package dev.prism.arm64;

import static dev.prism.arm64.A64Reg.X0;
import static dev.prism.arm64.A64Reg.X1;
import static dev.prism.arm64.A64Reg.X10;
import static dev.prism.arm64.A64Reg.X11;
import static dev.prism.arm64.A64Reg.X12;
import static dev.prism.arm64.A64Reg.X13;
import static dev.prism.arm64.A64Reg.X14;
import static dev.prism.arm64.A64Reg.X15;
import static dev.prism.arm64.A64Reg.X16;
import static dev.prism.arm64.A64Reg.X2;
import static dev.prism.arm64.A64Reg.X3;
import static dev.prism.arm64.A64Reg.X4;
import static dev.prism.arm64.A64Reg.X5;
import static dev.prism.arm64.A64Reg.X6;
import static dev.prism.arm64.A64Reg.X7;
import static dev.prism.arm64.A64Reg.X8;
import static dev.prism.arm64.A64Reg.X9;
import static dev.prism.arm64.A64Reg.XZR;

import dev.prism.arm64.A64Assembler.Label;
import dev.prism.program.ProgramType;
import dev.prism.program.XdpContext;
import dev.prism.runtime.Environment;
import dev.prism.runtime.Helpers;
import dev.prism.runtime.XdpBuffer;
import dev.prism.runtime.jit.NativeInstance;
import dev.prism.runtime.jit.RunContext;
import dev.prism.runtime.maps.BpfMaps;
import dev.prism.runtime.maps.MapErrno;
import dev.prism.runtime.maps.RingBufMap;

/**
 * Helpers implemented as AArch64 code, bound into a run context's helper table in place of an
 * upcall into Java, so that code calling them stays native and runs as a critical function:
 * x86-64's X86NativeHelpers for AAPCS64. Each does exactly what its Java implementation does,
 * on the same memory:
 * <ul>
 *   <li>{@code bpf_ktime_get_ns} when the instance's environment reads the host's clock
 *       ({@link Environment#HOST_CLOCK}): a call of libc's {@code clock_gettime(CLOCK_MONOTONIC)};</li>
 *   <li>{@code bpf_xdp_adjust_head/meta/tail} for XDP programs: the limits of {@link XdpBuffer},
 *       on the pointers of the host-layout context, checked against the frame's start the runtime
 *       leaves at {@link XdpContext#HOST_FRAME}; the runtime reads the pointers back before any
 *       Java helper and at the end of the run;</li>
 *   <li>{@code bpf_ringbuf_reserve/submit/discard/output}: {@link RingBufMap}'s protocol on its
 *       header (the map's handle), under the same spin lock Java takes (SpinLock: a CAS 0 -> 1
 *       with acquire order, here {@code ldaxr/stxr}; a release store of 0, here {@code stlr}).
 *       Only ARMv8.0 instructions (load/store exclusive, no LSE), so they run on every core.</li>
 * </ul>
 * Arguments arrive as A64Jit passes them to any helper: BPF r1-r5 in x0-x4, the run context in
 * x5. Only x0-x17 (not x18, the platform register) and the flags change; the stack is not used.
 *
 * <p>Who uses them: {@link NativeInstance} on an aarch64 host ({@link A64Target}, through
 * {@link #HELPERS}: ktime too). On any other host the arm64 code runs in the emulator
 * ({@link EmulatedInstance}), which copies {@link #code} into the machine for the same helper
 * slots (ktime, a call into the host's libc, stays a trap to Java there), so the emulated
 * suites run this code as well. A64NativeHelpersTest compares it with the Java implementations
 * in the emulator.
 */
final class A64NativeHelpers {
    static final NativeInstance.NativeHelpers HELPERS = NativeInstance.NativeHelpers.ktime(A64NativeHelpers::ktimeCode)
            .or(NativeInstance.NativeHelpers.generated((id, type, cpu) -> code(id, type)));

    private static final int DATA = 0;
    private static final int DATA_END = 8;
    private static final int DATA_META = 16;
    private static final long BUSY = 0x8000_0000L;
    private static final long DISCARD = 0x4000_0000L;
    /** round_up(len + BPF_RINGBUF_HDR_SZ, 8) is (len + 15) & -8. */
    private static final int ROUND = RingBufMap.RECORD_HEADER + 7;
    private static final int EACCES = 13;

    private A64NativeHelpers() {
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
     * {@code u64 ktime(void)}: a frame record and a struct timespec (32 bytes: sp stays 16-byte
     * aligned), clock_gettime(CLOCK_MONOTONIC, &ts), then tv_sec * 10^9 + tv_nsec. Only
     * caller-saved registers change (x0-x2, x16, and what libc clobbers), as AAPCS64 allows.
     */
    static byte[] ktimeCode(long clockGettime) {
        A64Assembler a = new A64Assembler();
        a.stp(64, A64Reg.FP, A64Reg.LR, A64Reg.SP, -32, A64Index.PRE);
        a.mov(64, A64Reg.FP, A64Reg.SP);
        a.movImm(32, A64Reg.X0, NativeInstance.CLOCK_MONOTONIC);
        a.add(64, A64Reg.X1, A64Reg.SP, 16);
        a.movImm(64, A64Reg.X16, clockGettime);
        a.blr(A64Reg.X16);
        a.ldp(64, A64Reg.X0, A64Reg.X1, A64Reg.SP, 16, A64Index.OFFSET);
        a.movImm(64, A64Reg.X2, 1_000_000_000L);
        a.madd(64, A64Reg.X0, A64Reg.X0, A64Reg.X2, A64Reg.X1);
        a.ldp(64, A64Reg.FP, A64Reg.LR, A64Reg.SP, 32, A64Index.POST);
        a.ret();
        return a.bytes();
    }

    /**
     * {@code adjust_meta(ctx, int delta)}: meta' = meta + delta; -EINVAL below the xdp_frame
     * area or past data; -EACCES when data - meta' is not a multiple of 4 or exceeds 255.
     * x1 delta, x2 meta', x3 the lowest meta', x4 data, then the metadata length.
     */
    private static byte[] adjustMeta() {
        A64Assembler a = new A64Assembler();
        Label einval = new Label();
        Label eacces = new Label();
        a.sxtw(X1, X1);
        a.ldr(64, X2, X0, DATA_META);
        a.add(64, X2, X2, X1);
        a.ldr(64, X3, X0, XdpContext.HOST_FRAME);
        a.add(64, X3, X3, XdpBuffer.XDP_FRAME_SIZE);
        a.cmp(64, X2, X3);
        a.b(A64Cond.LO, einval);
        a.ldr(64, X4, X0, DATA);
        a.cmp(64, X2, X4);
        a.b(A64Cond.HI, einval);
        a.sub(64, X4, X4, X2);
        a.tst(64, X4, 3);
        a.b(A64Cond.NE, eacces);
        a.cmp(64, X4, XdpBuffer.META_MAX);
        a.b(A64Cond.HI, eacces);
        a.str(64, X2, X0, DATA_META);
        a.mov(64, X0, XZR);
        a.ret();
        errno(a, einval, -MapErrno.EINVAL);
        errno(a, eacces, -EACCES);
        return a.bytes();
    }

    /**
     * {@code adjust_head(ctx, int delta)}: data' = data + delta, -EINVAL when it would enter
     * the xdp_frame area with the metadata in front of it, or leave less than an Ethernet
     * header; the metadata moves along (a byte-wise memmove, from the last byte down when it
     * moves up). x1 delta, x6 meta, x7 data, x8 metadata length, x9 data', x10 a limit, x11
     * the metadata's new place, x12 the index, w13 the byte.
     */
    private static byte[] adjustHead() {
        A64Assembler a = new A64Assembler();
        Label einval = new Label();
        Label up = new Label();
        Label down = new Label();
        Label moved = new Label();
        a.sxtw(X1, X1);
        a.ldr(64, X6, X0, DATA_META);
        a.ldr(64, X7, X0, DATA);
        a.sub(64, X8, X7, X6);
        a.add(64, X9, X7, X1);
        a.ldr(64, X10, X0, XdpContext.HOST_FRAME);
        a.add(64, X10, X10, XdpBuffer.XDP_FRAME_SIZE);
        a.add(64, X10, X10, X8);
        a.cmp(64, X9, X10);
        a.b(A64Cond.LO, einval);
        a.ldr(64, X10, X0, DATA_END);
        a.sub(64, X10, X10, XdpBuffer.ETH_HLEN);
        a.cmp(64, X9, X10);
        a.b(A64Cond.HI, einval);
        a.cbz(64, X8, moved);
        a.add(64, X11, X6, X1);
        a.cmp(64, X1, 0);
        a.b(A64Cond.GT, up);
        a.mov(64, X12, XZR);
        a.bind(down); // moving down (or not at all): from the first byte up
        a.ldrb(X13, X6, X12);
        a.strb(X13, X11, X12);
        a.add(64, X12, X12, 1);
        a.cmp(64, X12, X8);
        a.b(A64Cond.LO, down);
        a.b(moved);
        a.bind(up); // overlapping upwards: from the last byte down
        a.sub(64, X8, X8, 1);
        a.ldrb(X13, X6, X8);
        a.strb(X13, X11, X8);
        a.cbnz(64, X8, up);
        a.bind(moved);
        a.add(64, X6, X6, X1);
        a.str(64, X6, X0, DATA_META);
        a.str(64, X9, X0, DATA);
        a.str(64, X9, X5, RunContext.PKT_START);
        a.mov(64, X0, XZR);
        a.ret();
        errno(a, einval, -MapErrno.EINVAL);
        return a.bytes();
    }

    /**
     * {@code adjust_tail(ctx, int delta)}: data_end' = data_end + delta, -EINVAL past the frame
     * less its shared info or below data + an Ethernet header; grown bytes are zeroed (a byte
     * loop). x1 delta, x2 data_end, x3 data_end', x4 a limit, x6 the index.
     */
    private static byte[] adjustTail() {
        A64Assembler a = new A64Assembler();
        Label einval = new Label();
        Label zero = new Label();
        Label zeroed = new Label();
        a.sxtw(X1, X1);
        a.ldr(64, X2, X0, DATA_END);
        a.add(64, X3, X2, X1);
        a.ldr(64, X4, X0, XdpContext.HOST_FRAME);
        a.add(64, X4, X4, XdpBuffer.FRAME_SIZE - XdpBuffer.TAILROOM);
        a.cmp(64, X3, X4);
        a.b(A64Cond.HI, einval);
        a.ldr(64, X4, X0, DATA);
        a.add(64, X4, X4, XdpBuffer.ETH_HLEN);
        a.cmp(64, X3, X4);
        a.b(A64Cond.LO, einval);
        a.cmp(64, X1, 0);
        a.b(A64Cond.LE, zeroed);
        a.mov(64, X6, XZR);
        a.bind(zero);
        a.strb(XZR, X2, X6);
        a.add(64, X6, X6, 1);
        a.cmp(64, X6, X1);
        a.b(A64Cond.LO, zero);
        a.bind(zeroed);
        a.str(64, X3, X0, DATA_END);
        a.str(64, X3, X5, RunContext.PKT_END);
        a.mov(64, X0, XZR);
        a.ret();
        errno(a, einval, -MapErrno.EINVAL);
        return a.bytes();
    }

    /** {@code ringbuf_reserve(ring, size, flags)}: the record's payload, or 0 (flags other than 0 included). */
    private static byte[] ringbufReserve() {
        A64Assembler a = new A64Assembler();
        Label none = new Label();
        a.cbnz(64, X2, none);
        reserve(a);
        a.ret();
        a.bind(none);
        a.mov(64, X0, XZR);
        a.ret();
        return a.bytes();
    }

    /**
     * The body of {@link RingBufMap#reserve(long)}, ring in x0, size in x1 (kept), payload
     * address or 0 in x0; clobbers x6-x15:
     * <pre>
     *   x7 = round_up(size + 8, 8); none when size > RINGBUF_MAX_RECORD_SZ or x7 > ring size
     *   x8 = mask; x9 = consumer_pos (ldar); lock x10 = &amp;lock (ldaxr/stxr 0 -> 1)
     *   x11 = producer_pos; x12 = pending_pos, moved past committed records (ldar of each
     *   header); store it; x14 = x11 + x7; none (unlock) when x14 - x9 or x14 - x12 exceeds the mask
     *   header at x13 = data + (x11 &amp; mask) = size | BUSY, 0; producer_pos = x14 (stlr); unlock (stlr)
     * </pre>
     */
    private static void reserve(A64Assembler a) {
        Label none = new Label();
        Label unlockNone = new Label();
        Label spin = new Label();
        Label walk = new Label();
        Label walked = new Label();
        Label done = new Label();
        a.movImm(64, X6, RingBufMap.MAX_RECORD);
        a.cmp(64, X1, X6);
        a.b(A64Cond.HI, none);
        a.add(64, X7, X1, ROUND);
        a.and(64, X7, X7, -8L);
        a.ldr(64, X8, X0, RingBufMap.MASK);
        a.add(64, X6, X8, 1);
        a.cmp(64, X7, X6);
        a.b(A64Cond.HI, none);
        a.add(64, X9, X0, RingBufMap.CONSUMER_POS);
        a.ldar(64, X9, X9);
        a.add(64, X10, X0, RingBufMap.LOCK);
        a.movImm(32, X15, 1);
        a.bind(spin); // SpinLock.lock: CAS 0 -> 1, acquire
        a.ldaxr(32, X11, X10);
        a.cbnz(32, X11, spin);
        a.stxr(32, X12, X15, X10);
        a.cbnz(32, X12, spin);
        a.ldr(64, X11, X0, RingBufMap.PRODUCER_POS);
        a.ldr(64, X12, X0, RingBufMap.PENDING_POS);
        a.add(64, X13, X0, RingBufMap.HEADER_SIZE);
        a.bind(walk);
        a.cmp(64, X12, X11);
        a.b(A64Cond.HS, walked);
        a.and(64, X14, X12, X8);
        a.add(64, X14, X13, X14);
        a.ldar(32, X14, X14);
        a.tbnz(X14, 31, walked);
        a.and(32, X14, X14, ~(BUSY | DISCARD) & 0xffff_ffffL);
        a.add(64, X14, X14, ROUND);
        a.and(64, X14, X14, -8L);
        a.add(64, X12, X12, X14);
        a.b(walk);
        a.bind(walked);
        a.str(64, X12, X0, RingBufMap.PENDING_POS);
        a.add(64, X14, X11, X7);
        a.sub(64, X6, X14, X9);
        a.cmp(64, X6, X8);
        a.b(A64Cond.HI, unlockNone);
        a.sub(64, X6, X14, X12);
        a.cmp(64, X6, X8);
        a.b(A64Cond.HI, unlockNone);
        a.and(64, X11, X11, X8);
        a.add(64, X11, X13, X11); // the record
        a.orr(32, X6, X1, BUSY);
        a.str(32, X6, X11, 0);
        a.str(32, XZR, X11, 4);
        a.add(64, X6, X0, RingBufMap.PRODUCER_POS);
        a.stlr(64, X14, X6); // LONG.setRelease, as RingBufMap publishes it
        a.stlr(32, XZR, X10); // SpinLock.unlock
        a.add(64, X0, X11, RingBufMap.RECORD_HEADER);
        a.b(done);
        a.bind(unlockNone);
        a.stlr(32, XZR, X10);
        a.bind(none);
        a.mov(64, X0, XZR);
        a.bind(done);
    }

    /**
     * {@code ringbuf_submit/discard(record, flags)}: the header's BUSY bit cleared (DISCARD set)
     * with an atomic exchange (ldaxr/stlxr). The verifier's reference tracking guarantees a
     * reserved record, which {@link RingBufMap#submit} checks again in Java.
     */
    private static byte[] ringbufCommit(boolean discard) {
        A64Assembler a = new A64Assembler();
        commit(a, X0, discard);
        a.mov(64, X0, XZR);
        a.ret();
        return a.bytes();
    }

    /** Commits the record whose payload {@code payload} points at; clobbers x6-x8. */
    private static void commit(A64Assembler a, A64Reg payload, boolean discard) {
        Label retry = new Label();
        a.sub(64, X6, payload, RingBufMap.RECORD_HEADER);
        a.bind(retry);
        a.ldaxr(32, X7, X6);
        a.eor(32, X7, X7, BUSY);
        if (discard) {
            a.orr(32, X7, X7, DISCARD);
        }
        a.stlxr(32, X8, X7, X6);
        a.cbnz(32, X8, retry);
    }

    /**
     * {@code ringbuf_output(ring, data, size, flags)}: -EINVAL for flags other than the wakeup
     * bits, -EAGAIN when the ring has no room, else the bytes copied into a reserved record (8
     * at a time, then a byte tail) and submitted, 0. x16 data, x1 size, x6 the index.
     */
    private static byte[] ringbufOutput() {
        A64Assembler a = new A64Assembler();
        Label einval = new Label();
        Label eagain = new Label();
        Label words = new Label();
        Label bytes = new Label();
        Label copied = new Label();
        a.tst(64, X3, ~(BpfMaps.BPF_RB_NO_WAKEUP | BpfMaps.BPF_RB_FORCE_WAKEUP));
        a.b(A64Cond.NE, einval);
        a.mov(64, X16, X1);
        a.mov(64, X1, X2);
        reserve(a);
        a.cbz(64, X0, eagain);
        a.mov(64, X6, XZR);
        a.bind(words);
        a.add(64, X7, X6, 8);
        a.cmp(64, X7, X1);
        a.b(A64Cond.HI, bytes);
        a.ldr(64, X8, X16, X6, false);
        a.str(64, X8, X0, X6, false);
        a.mov(64, X6, X7);
        a.b(words);
        a.bind(bytes);
        a.cmp(64, X6, X1);
        a.b(A64Cond.HS, copied);
        a.ldrb(X8, X16, X6);
        a.strb(X8, X0, X6);
        a.add(64, X6, X6, 1);
        a.b(bytes);
        a.bind(copied);
        commit(a, X0, false);
        a.mov(64, X0, XZR);
        a.ret();
        errno(a, einval, -MapErrno.EINVAL);
        errno(a, eagain, -MapErrno.EAGAIN);
        return a.bytes();
    }

    private static void errno(A64Assembler a, Label at, long value) {
        a.bind(at);
        a.movImm(64, X0, value);
        a.ret();
    }
}
