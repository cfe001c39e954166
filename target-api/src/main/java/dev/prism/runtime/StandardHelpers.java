package dev.prism.runtime;

import dev.prism.program.MapType;
import dev.prism.runtime.maps.BpfMap;
import dev.prism.runtime.maps.MapOfMaps;
import dev.prism.runtime.maps.PerfEventArrayMap;
import dev.prism.runtime.maps.RedirectMap;
import dev.prism.target.RunResult;
import dev.prism.runtime.maps.RingBufMap;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * Implementations of the Linux helpers a host can reproduce, with Linux's argument checks and
 * return values. tail_call and loop change control flow and live in the interpreter.
 */
final class StandardHelpers {
    private static final long EINVAL = -22;
    private static final long XDP_ABORTED = 0;
    private static final long XDP_REDIRECT = RedirectMap.XDP_REDIRECT;
    private static final long XDP_ACTION_MASK = RedirectMap.XDP_ACTION_MASK;
    private static final long BPF_F_BROADCAST = RedirectMap.BPF_F_BROADCAST;
    private static final long BPF_F_EXCLUDE_INGRESS = RedirectMap.BPF_F_EXCLUDE_INGRESS;
    private static final long EFAULT = -14;
    /** bpf_trace_printk's output limit (BPF_TRACE_PRINTK_SIZE... the kernel formats into 1 KiB). */
    private static final int TRACE_MAX = 1024;

    private StandardHelpers() {
    }

    static void bindAll(HelperTable t) {
        t.bind(Helpers.MAP_LOOKUP_ELEM, "map_lookup_elem", StandardHelpers::mapLookup);
        t.bind(Helpers.MAP_UPDATE_ELEM, "map_update_elem", StandardHelpers::mapUpdate);
        t.bind(Helpers.MAP_DELETE_ELEM, "map_delete_elem", StandardHelpers::mapDelete);
        t.bind(Helpers.KTIME_GET_NS, "ktime_get_ns", (c, a, b, d, e, f) -> c.env().monotonicNs().getAsLong());
        t.bind(Helpers.KTIME_GET_BOOT_NS, "ktime_get_boot_ns", (c, a, b, d, e, f) -> c.env().bootNs().getAsLong());
        t.bind(Helpers.JIFFIES64, "jiffies64", (c, a, b, d, e, f) -> c.env().jiffies().getAsLong());
        t.bind(Helpers.GET_PRANDOM_U32, "get_prandom_u32", (c, a, b, d, e, f) -> c.env().random().getAsInt() & 0xffff_ffffL);
        t.bind(Helpers.GET_SMP_PROCESSOR_ID, "get_smp_processor_id", (c, a, b, d, e, f) -> c.env().cpu());
        t.bind(Helpers.TRACE_PRINTK, "trace_printk", StandardHelpers::tracePrintk);
        t.bind(Helpers.CSUM_DIFF, "csum_diff", StandardHelpers::csumDiff);
        t.bind(Helpers.REDIRECT, "redirect", (c, ifindex, flags, d, e, f) -> c.skb() != null
                ? SkbHelpers.redirect(c, ifindex, flags) : redirect(c, ifindex, flags, d, e, f));
        t.bind(Helpers.PERF_EVENT_OUTPUT, "perf_event_output", StandardHelpers::perfEventOutput);
        t.bind(Helpers.REDIRECT_MAP, "redirect_map", StandardHelpers::redirectMap);
        t.bind(Helpers.XDP_ADJUST_HEAD, "xdp_adjust_head", (c, ctx, delta, d, e, f) -> xdp(c, "xdp_adjust_head").adjustHead((int) delta));
        t.bind(Helpers.XDP_ADJUST_META, "xdp_adjust_meta", (c, ctx, delta, d, e, f) -> xdp(c, "xdp_adjust_meta").adjustMeta((int) delta));
        t.bind(Helpers.XDP_ADJUST_TAIL, "xdp_adjust_tail", (c, ctx, delta, d, e, f) -> xdp(c, "xdp_adjust_tail").adjustTail((int) delta));
        XdpBytesHelpers.bind(t);
        CsdHelpers.bind(t);
        Kfuncs.bind(t);
        t.bind(Helpers.RINGBUF_OUTPUT, "ringbuf_output", StandardHelpers::ringbufOutput);
        t.bind(Helpers.RINGBUF_RESERVE, "ringbuf_reserve", StandardHelpers::ringbufReserve);
        t.bind(Helpers.RINGBUF_SUBMIT, "ringbuf_submit", (c, rec, flags, d, e, f) -> {
            ringbufOf(c, rec).submit(c.nativeAddress(rec));
            return 0;
        });
        t.bind(Helpers.RINGBUF_DISCARD, "ringbuf_discard", (c, rec, flags, d, e, f) -> {
            ringbufOf(c, rec).discard(c.nativeAddress(rec));
            return 0;
        });
        SkbHelpers.bindAll(t);
    }

    private static XdpBuffer xdp(HelperContext c, String helper) {
        XdpBuffer x = c.xdp();
        if (x == null) {
            throw new IllegalStateException("bpf_" + helper + " needs an XDP context");
        }
        return x;
    }

    private static long mapLookup(HelperContext c, long map, long key, long r3, long r4, long r5) {
        BpfMap m = c.map(map);
        MemorySegment k = c.memory(key, m.def().keySize(), false);
        if (m instanceof MapOfMaps outer) {
            return outer.lookup(k, c.env().cpu()); // the inner map's handle, as lddw map_idx gives it
        }
        return c.programAddress(m.lookup(k, c.env().cpu()));
    }

    private static long mapUpdate(HelperContext c, long map, long key, long value, long flags, long r5) {
        BpfMap m = c.map(map);
        MemorySegment k = c.memory(key, m.def().keySize(), false);
        MemorySegment v = c.memory(value, m.def().valueSize(), false);
        return m.update(k, v, flags, c.env().cpu());
    }

    private static long mapDelete(HelperContext c, long map, long key, long r3, long r4, long r5) {
        BpfMap m = c.map(map);
        return m.delete(c.memory(key, m.def().keySize(), false));
    }

    /** bpf_redirect in XDP (bpf_xdp_redirect): XDP_ABORTED for any flag, else XDP_REDIRECT to the u32 ifindex. */
    private static long redirect(HelperContext c, long ifindex, long flags, long r3, long r4, long r5) {
        if (flags != 0) {
            return XDP_ABORTED;
        }
        XdpBuffer x = c.xdp();
        if (x != null) {
            x.redirect(new RunResult.Redirect(RunResult.Redirect.Kind.IFINDEX, ifindex & 0xffff_ffffL, null));
        }
        return XDP_REDIRECT;
    }

    /**
     * bpf_redirect_map (XDP, __bpf_xdp_redirect_map): XDP_ABORTED for flag bits other than the
     * default action (and, for devmaps, BPF_F_BROADCAST / BPF_F_EXCLUDE_INGRESS, which Prism does
     * not support); the default action in the low bits when the u32 key has no target;
     * XDP_REDIRECT, the target recorded, when it has.
     */
    private static long redirectMap(HelperContext c, long map, long key, long flags, long r4, long r5) {
        BpfMap m = c.map(map);
        if ((flags & ~RedirectMap.allowedFlags(m.def().type())) != 0) {
            return XDP_ABORTED;
        }
        if ((flags & (BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS)) != 0) {
            throw new IllegalStateException("not supported: BPF_F_BROADCAST / BPF_F_EXCLUDE_INGRESS (flags 0x"
                    + Long.toHexString(flags) + ")");
        }
        if (m instanceof RedirectMap r) {
            Long target = r.target(key);
            if (target == null) {
                return flags & XDP_ACTION_MASK;
            }
            RunResult.Redirect.Kind kind = switch (m.def().type()) {
                case CPUMAP -> RunResult.Redirect.Kind.CPU;
                case XSKMAP -> RunResult.Redirect.Kind.QUEUE;
                default -> RunResult.Redirect.Kind.IFINDEX;
            };
            XdpBuffer x = c.xdp();
            if (x != null) {
                x.redirect(new RunResult.Redirect(kind, target, m.def().name()));
            }
            return XDP_REDIRECT;
        }
        // Prism's RFC 9669 profile also takes an ARRAY (a stand-in devmap): a non-zero u32 ifindex is a target.
        byte[] k = new byte[4];
        int index = (int) key;
        k[0] = (byte) index;
        k[1] = (byte) (index >>> 8);
        k[2] = (byte) (index >>> 16);
        k[3] = (byte) (index >>> 24);
        byte[] v = m.def().keySize() == 4 ? m.lookupUser(k) : null;
        boolean hasTarget = v != null && !allZero(v);
        return hasTarget ? XDP_REDIRECT : flags & XDP_ACTION_MASK;
    }

    /**
     * bpf_perf_event_output for XDP (bpf_xdp_event_output): -EINVAL for flag bits outside the
     * slot index and the packet length, -EFAULT when that length exceeds the packet; the record
     * is the program's bytes followed by that many packet bytes from data.
     */
    private static long perfEventOutput(HelperContext c, long ctx, long map, long flags, long data, long size) {
        if ((flags & ~(PerfEventArrayMap.BPF_F_CTXLEN_MASK | PerfEventArrayMap.BPF_F_INDEX_MASK)) != 0) {
            return EINVAL;
        }
        if (!(c.map(map) instanceof PerfEventArrayMap m)) {
            throw new IllegalStateException("map is not a perf_event_array");
        }
        int ctxLen = (int) ((flags & PerfEventArrayMap.BPF_F_CTXLEN_MASK) >>> 32);
        XdpBuffer x = c.xdp();
        int packetLen = x == null ? 0 : x.dataEnd() - x.data();
        if (ctxLen > packetLen) {
            return EFAULT;
        }
        byte[] bytes = c.read(data, (int) size);
        byte[] record = java.util.Arrays.copyOf(bytes, bytes.length + ctxLen);
        if (ctxLen > 0) {
            MemorySegment.copy(x.frame(), java.lang.foreign.ValueLayout.JAVA_BYTE, x.data(), record, bytes.length, ctxLen);
        }
        return m.output(flags & PerfEventArrayMap.BPF_F_INDEX_MASK, c.env().cpu(), record);
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    private static RingBufMap ringbuf(HelperContext c, long map) {
        if (c.map(map) instanceof RingBufMap r) {
            return r;
        }
        throw new IllegalStateException("map is not a ring buffer");
    }

    private static RingBufMap ringbufOf(HelperContext c, long record) {
        if (c.mapOwning(record) instanceof RingBufMap r) {
            return r;
        }
        throw new IllegalStateException("not a ring buffer record");
    }

    private static long ringbufReserve(HelperContext c, long map, long size, long flags, long r4, long r5) {
        return c.programAddress(ringbuf(c, map).reserve(size, flags));
    }

    private static long ringbufOutput(HelperContext c, long map, long data, long size, long flags, long r5) {
        return ringbuf(c, map).output(c.memory(data, (int) size, false), flags);
    }

    /**
     * {@code s64 bpf_csum_diff(__be32 *from, u32 from_size, __be32 *to, u32 to_size, __wsum seed)}
     * (helper 28). Linux: both sizes must be multiples of 4 and together at most 512 bytes, else
     * -EINVAL. The result is the one's-complement sum of seed, the "to" words and the complemented
     * "from" words, folded to 16 bits and not complemented: what x86-64's csum_partial returns on
     * Linux 6.18. Measured against the kernel here (seed 0x12345778 alone gives 0x69ac; 0x11223344
     * + 0x55667788 gives 0x1155), not the 32-bit {@code __wsum} the prototype's type suggests.
     */
    static long csumDiff(HelperContext ctx, long from, long fromSize, long to, long toSize, long seed) {
        long fs = fromSize & 0xffff_ffffL;
        long ts = toSize & 0xffff_ffffL;
        if (((fs | ts) & 3) != 0 || fs + ts > 512) {
            return EINVAL;
        }
        long sum = seed & 0xffff_ffffL;
        if (fs > 0) {
            byte[] b = ctx.read(from, (int) fs);
            for (int i = 0; i < b.length; i += 4) {
                sum += ~word(b, i) & 0xffff_ffffL;
            }
        }
        if (ts > 0) {
            byte[] b = ctx.read(to, (int) ts);
            for (int i = 0; i < b.length; i += 4) {
                sum += word(b, i);
            }
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return sum;
    }

    /** The 32-bit word at i as the host (little-endian) reads it. */
    private static long word(byte[] b, int i) {
        return (b[i] & 0xffL) | (b[i + 1] & 0xffL) << 8 | (b[i + 2] & 0xffL) << 16 | (b[i + 3] & 0xffL) << 24;
    }

    /**
     * bpf_trace_printk(fmt, fmt_size, arg1, arg2, arg3): the format must be NUL-terminated within
     * fmt_size; conversions %d %i %u %x %X %c %%, with l/ll length modifiers, consume r3..r5
     * (at most three). Returns the formatted length, or -EINVAL for a bad format, as Linux does.
     */
    private static long tracePrintk(HelperContext c, long fmt, long fmtSize, long a1, long a2, long a3) {
        int size = (int) fmtSize;
        if (size <= 0 || size > TRACE_MAX) {
            return EINVAL;
        }
        byte[] raw = c.read(fmt, size);
        int nul = -1;
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == 0) {
                nul = i;
                break;
            }
        }
        if (nul < 0) {
            return EINVAL;
        }
        String f = new String(raw, 0, nul, StandardCharsets.ISO_8859_1);
        long[] args = {a1, a2, a3};
        int used = 0;
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < f.length(); i++) {
            char ch = f.charAt(i);
            if (ch != '%') {
                out.append(ch);
                continue;
            }
            if (++i >= f.length()) {
                return EINVAL;
            }
            if (f.charAt(i) == '%') {
                out.append('%');
                continue;
            }
            int longs = 0;
            while (i < f.length() && f.charAt(i) == 'l') {
                longs++;
                i++;
            }
            if (i >= f.length() || longs > 2 || used >= args.length) {
                return EINVAL;
            }
            long v = args[used++];
            switch (f.charAt(i)) {
                case 'd', 'i' -> out.append(longs == 0 ? Integer.toString((int) v) : Long.toString(v));
                case 'u' -> out.append(longs == 0 ? Integer.toUnsignedString((int) v) : Long.toUnsignedString(v));
                case 'x' -> out.append(longs == 0 ? Integer.toHexString((int) v) : Long.toHexString(v));
                case 'X' -> out.append((longs == 0 ? Integer.toHexString((int) v) : Long.toHexString(v)).toUpperCase(java.util.Locale.ROOT));
                case 'c' -> out.append((char) (v & 0xff));
                default -> {
                    return EINVAL;
                }
            }
        }
        c.env().trace().accept(out.toString());
        return out.length();
    }
}
