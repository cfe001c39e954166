package dev.prism.arm64;

import java.util.ArrayList;
import java.util.List;

/**
 * The test-side model of logical immediates: DecodeBitMasks written forwards from the
 * pseudocode, so that the encoder (which inverts it) is checked against an independent path.
 */
final class LogicalImmediates {
    private LogicalImmediates() {
    }

    /** {@return the value of N:immr:imms at {@code size} bits, or null when the fields are reserved} */
    static Long decode(int size, int n, int immr, int imms) {
        int combined = (n << 6) | (~imms & 0x3F);
        if (combined == 0) {
            return null;
        }
        int len = 31 - Integer.numberOfLeadingZeros(combined);
        if (len < 1 || (size == 32 && n == 1)) {
            return null;
        }
        int e = 1 << len;
        int levels = e - 1;
        int s = imms & levels;
        int r = immr & levels;
        if (s == levels) {
            return null;
        }
        long emask = e == 64 ? -1L : (1L << e) - 1;
        long welem = (1L << (s + 1)) - 1;
        long rotated = r == 0 ? welem : ((welem >>> r) | (welem << (e - r))) & emask;
        long v = 0;
        for (int i = 0; i < 64; i += e) {
            v |= rotated << i;
        }
        return size == 32 ? v & 0xFFFFFFFFL : v;
    }

    /**
     * {@return every encodable logical immediate of {@code size} bits, once each} (5334 for 64,
     * 1302 for 32); immr values at or above the element size alias smaller ones and are dropped
     * by the distinct step.
     */
    static List<Long> all(int size) {
        List<Long> out = new ArrayList<>();
        for (int n = 0; n <= (size == 64 ? 1 : 0); n++) {
            for (int immr = 0; immr < size; immr++) {
                for (int imms = 0; imms < 64; imms++) {
                    Long v = decode(size, n, immr, imms);
                    if (v != null) {
                        out.add(v);
                    }
                }
            }
        }
        return out.stream().distinct().toList();
    }
}
