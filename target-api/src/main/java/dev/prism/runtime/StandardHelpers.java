package dev.prism.runtime;

/** Implementations of Linux helpers whose behaviour a host can reproduce exactly. */
final class StandardHelpers {
    private StandardHelpers() {
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
        final long einval = -22;
        long fs = fromSize & 0xffff_ffffL;
        long ts = toSize & 0xffff_ffffL;
        if (((fs | ts) & 3) != 0 || fs + ts > 512) {
            return einval;
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
}
