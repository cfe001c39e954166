package dev.prism.runtime;

/**
 * Linux's incremental Internet checksum updates (include/net/checksum.h, RFC 1624), bit for
 * bit, including which of the two zeros (0x0000 or 0xffff) comes out. Every value is a
 * checksum field or word as the little-endian host reads it from the packet; the one's
 * complement sum does not depend on the byte order.
 */
final class Checksum {
    private Checksum() {
    }

    /** csum_add on __wsum: a 32-bit add with the carry folded back. */
    static int add(int a, int b) {
        int res = a + b;
        return res + (Integer.compareUnsigned(res, b) < 0 ? 1 : 0);
    }

    static int sub(int a, int b) {
        return add(a, ~b);
    }

    /** csum_fold: the 32-bit sum folded to 16 bits and complemented. */
    static int fold(int sum) {
        long s = Integer.toUnsignedLong(sum);
        s = (s & 0xffff) + (s >>> 16);
        s = (s & 0xffff) + (s >>> 16);
        return (int) (~s & 0xffff);
    }

    /** csum16_add: a 16-bit add with the carry folded back. */
    static int add16(int csum, int addend) {
        int res = (csum + addend) & 0xffff;
        return (res + (res < (addend & 0xffff) ? 1 : 0)) & 0xffff;
    }

    /** csum_replace2: {@code ~csum16_add(csum16_sub(~sum, old), new)}. */
    static int replace2(int sum, int from, int to) {
        int t = add16(~sum & 0xffff, ~from & 0xffff);
        return ~add16(t, to) & 0xffff;
    }

    /** csum_replace4: {@code csum_fold(csum_add(csum_sub(~csum_unfold(sum), from), to))}. */
    static int replace4(int sum, int from, int to) {
        return fold(add(sub(~(sum & 0xffff), from), to));
    }

    /** csum_replace_by_diff: {@code csum_fold(csum_add(diff, ~csum_unfold(sum)))}. */
    static int replaceByDiff(int sum, int diff) {
        return fold(add(diff, ~(sum & 0xffff)));
    }
}
