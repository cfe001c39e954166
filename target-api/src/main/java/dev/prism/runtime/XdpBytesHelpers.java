package dev.prism.runtime;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * bpf_xdp_load_bytes (189) and bpf_xdp_store_bytes (190): copies between the packet at
 * {@code offset} and a buffer, with Linux's checks (net/core/filter.c, bpf_xdp_pointer): an
 * offset or length above 0xffff is -EFAULT, a range past the end of the packet -EINVAL, and
 * then nothing is copied. The packet is [data, data_end): a linear frame, as Prism's XDP
 * buffers are (Linux would go on into the fragments of a multi-buffer frame).
 *
 * <p>One deliberate difference: when load_bytes fails, Prism fills the buffer with zeros
 * where Linux leaves it as it was. The verifier counts the buffer as written after the call
 * (as Linux's does), so without the zeros a program could read stack bytes nothing wrote.
 */
final class XdpBytesHelpers {
    private static final long EFAULT = -14;
    private static final long EINVAL = -22;
    private static final long MAX = 0xffff;

    private XdpBytesHelpers() {
    }

    static void bind(HelperTable t) {
        t.bind(Helpers.XDP_LOAD_BYTES, "xdp_load_bytes", XdpBytesHelpers::load);
        t.bind(Helpers.XDP_STORE_BYTES, "xdp_store_bytes", XdpBytesHelpers::store);
    }

    /** {@return 0 when [offset, offset + len) lies in the packet, else Linux's error} */
    private static long check(XdpBuffer x, long offset, long len) {
        if (offset > MAX || len > MAX) {
            return EFAULT;
        }
        return offset + len > x.dataEnd() - x.data() ? EINVAL : 0;
    }

    private static XdpBuffer xdp(HelperContext c, String helper) {
        XdpBuffer x = c.xdp();
        if (x == null) {
            throw new IllegalStateException("bpf_" + helper + " needs an XDP context");
        }
        return x;
    }

    static long load(HelperContext c, long ctx, long offset, long buf, long len, long r5) {
        XdpBuffer x = xdp(c, "xdp_load_bytes");
        long off = offset & 0xffff_ffffL;
        long n = len & 0xffff_ffffL;
        long err = check(x, off, n);
        if (n == 0) {
            return err;
        }
        MemorySegment to = c.memory(buf, (int) Math.min(n, Integer.MAX_VALUE), true);
        if (err != 0) {
            to.fill((byte) 0);
            return err;
        }
        MemorySegment.copy(x.frame(), ValueLayout.JAVA_BYTE, x.data() + off, to, ValueLayout.JAVA_BYTE, 0, n);
        return 0;
    }

    static long store(HelperContext c, long ctx, long offset, long buf, long len, long r5) {
        XdpBuffer x = xdp(c, "xdp_store_bytes");
        long off = offset & 0xffff_ffffL;
        long n = len & 0xffff_ffffL;
        long err = check(x, off, n);
        if (err != 0 || n == 0) {
            return err;
        }
        MemorySegment from = c.memory(buf, (int) n, false);
        MemorySegment.copy(from, ValueLayout.JAVA_BYTE, 0, x.frame(), ValueLayout.JAVA_BYTE, x.data() + off, n);
        return 0;
    }
}
