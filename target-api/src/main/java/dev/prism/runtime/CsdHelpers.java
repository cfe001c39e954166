package dev.prism.runtime;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Prism's own helpers for {@code csd} programs ({@link Helpers#CSD_READ}). The reference
 * semantics every firmware build reproduces (target-csd's runtime in C).
 */
final class CsdHelpers {
    private static final long EINVAL = -22;

    private CsdHelpers() {
    }

    static void bind(HelperTable t) {
        t.bind(Helpers.CSD_READ, "csd_read", (c, off, dst, len, d, e) -> read(c, off, dst, len));
    }

    /**
     * {@code prism_csd_read(ns_offset, dst, len)}: {@code len} (a u32) bytes of the namespace at
     * {@code ns_offset} into {@code dst}; 0, or -EINVAL with {@code dst} zeroed when they are not
     * all inside the namespace (so {@code dst} is always written, as the verifier assumes).
     */
    static long read(HelperContext c, long off, long dst, long len) {
        MemorySegment ns = c.csdNamespace();
        if (ns == null) {
            throw new IllegalStateException("prism_csd_read needs a csd program's namespace");
        }
        long n = len & 0xffff_ffffL;
        if (n == 0) {
            return 0;
        }
        MemorySegment to = c.memory(dst, (int) Math.min(n, Integer.MAX_VALUE), true);
        if (Long.compareUnsigned(off, ns.byteSize()) > 0 || n > ns.byteSize() - off) {
            to.fill((byte) 0);
            return EINVAL;
        }
        MemorySegment.copy(ns, ValueLayout.JAVA_BYTE, off, to, ValueLayout.JAVA_BYTE, 0, n);
        return 0;
    }
}
