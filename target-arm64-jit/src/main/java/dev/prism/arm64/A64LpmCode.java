package dev.prism.arm64;

import static dev.prism.arm64.A64Reg.X0;
import static dev.prism.arm64.A64Reg.X1;
import static dev.prism.arm64.A64Reg.X10;
import static dev.prism.arm64.A64Reg.X11;
import static dev.prism.arm64.A64Reg.X12;
import static dev.prism.arm64.A64Reg.X13;
import static dev.prism.arm64.A64Reg.X2;
import static dev.prism.arm64.A64Reg.X3;
import static dev.prism.arm64.A64Reg.X4;
import static dev.prism.arm64.A64Reg.X5;
import static dev.prism.arm64.A64Reg.X6;
import static dev.prism.arm64.A64Reg.X8;
import static dev.prism.arm64.A64Reg.XZR;

import dev.prism.arm64.A64Assembler.Label;
import dev.prism.runtime.maps.HashTableMap;
import dev.prism.runtime.maps.LpmTrieMap;

/**
 * LPM_TRIE lookups as generated AArch64 code, over the native index {@link LpmTrieMap} keeps for
 * data of at most 8 bytes (its class comment has the layout and the algorithm): the arm64
 * counterpart of x86-64's {@code X86LpmCode}, the same algorithm instruction for instruction
 * where the two ISAs allow.
 *
 * <p>The function, AAPCS64: {@code u64 lookup(u64 handle, u64 key)}, handle in x0 and key in
 * x1 (where BPF r1 and r2 already are), the value's address or 0 in x0. It clobbers x0-x6, x8,
 * x10-x13 and the flags, as {@link A64MapCode}'s lookup may, preserves everything else (x7,
 * x9, x14 up, sp), uses no stack, does not change x30, and reads only the key's
 * 4 + data_size bytes. The handle word and each entry's tag are loaded with {@code ldar}
 * (acquire), pairing with Java's release stores of them, so the bits and slot read after a tag
 * are at least as new as it (AArch64 orders nothing by default, unlike x86-64).
 * Registers while it runs:
 * <pre>
 *   x2   the prefix length being tried: the stored lengths (the block's lengths word) from prefixlen down to 0
 *   x3   the key's data, data[0] in bits 63..56
 *   x4   the data masked to the length
 *   x5   the index block;  x6 its mask;  x8 the entry index;  x10 probes left
 *   x11  the entry's address;  x12, x13 scratch
 * </pre>
 */
public final class A64LpmCode {
    private A64LpmCode() {
    }

    /**
     * Emits the lookup for tries with {@code dataSize}-byte data (1..8) and values of
     * {@code stride} bytes per slot at the assembler's position. @return its offset
     */
    public static int emitLookup(A64Assembler a, int dataSize, int stride) {
        if (dataSize < 1 || dataSize > LpmTrieMap.NATIVE_MAX_DATA) {
            throw new IllegalArgumentException("data size " + dataSize + " has no native index (1.." + LpmTrieMap.NATIVE_MAX_DATA + ")");
        }
        if (stride <= 0 || stride % 8 != 0) {
            throw new IllegalArgumentException("value stride " + stride + " is not a positive multiple of 8");
        }
        int start = a.position();
        Label loop = new Label();
        Label hashed = new Label();
        Label probe = new Label();
        Label nextProbe = new Label();
        Label nextLength = new Label();
        Label notFound = new Label();

        if (LpmTrieMap.NX_BLOCK != 0) {
            throw new IllegalStateException("the handle's block word moved: ldar takes no offset");
        }
        a.ldar(64, X5, X0);
        a.ldr(32, X2, X1, 0);
        a.cmp(64, X2, dataSize * 8);
        a.b(A64Cond.HI, notFound); // a key longer than the trie's prefixes matches nothing
        a.mov(64, X3, XZR);
        for (int i = 0; i < dataSize; i++) {
            a.ldrb(X12, X1, 4 + i);
            a.orr(64, X3, X3, X12, A64Shift.LSL, 56 - 8 * i);
        }
        a.ldr(32, X6, X5, LpmTrieMap.IX_MASK);
        if (dataSize == 8) {
            // length 64 has no bit in the lengths word: its count decides
            Label below = new Label();
            a.cmp(64, X2, 64);
            a.b(A64Cond.NE, below);
            a.ldr(32, X12, X5, LpmTrieMap.IX_COUNTS + 4 * 64);
            a.cbnz(32, X12, loop);
            a.b(nextLength);
            a.bind(below);
        }
        a.add(64, X2, X2, 1);

        // the longest stored length below x2 (1..64): the lengths word shifted so that bit
        // x2 - 1 is bit 63, then its leading zeros
        a.bind(nextLength);
        a.cbz(64, X2, notFound);
        a.ldr(64, X12, X5, LpmTrieMap.IX_LENGTHS);
        a.movImm(64, X13, 64);
        a.sub(64, X13, X13, X2);
        a.lslv(64, X12, X12, X13);
        a.cbz(64, X12, notFound);
        a.clz(64, X12, X12);
        a.sub(64, X2, X2, 1);
        a.sub(64, X2, X2, X12);

        a.bind(loop);
        // the data's first `length` bits: 0 for length 0, else (-1 << (64 - length)) & data
        a.mov(64, X4, XZR);
        a.cbz(64, X2, hashed);
        a.movImm(64, X12, 64);
        a.sub(64, X12, X12, X2);
        a.movImm(64, X13, -1);
        a.lslv(64, X13, X13, X12);
        a.and(64, X4, X13, X3);
        a.bind(hashed);
        // hash: x = bits ^ length; x ^= x >>> 32; x *= K; x ^= x >>> 32; the first probe is x & mask
        a.eor(64, X8, X4, X2);
        a.eor(64, X8, X8, X8, A64Shift.LSR, 32);
        a.movImm(64, X12, HashTableMap.HASH_K);
        a.mul(64, X8, X8, X12);
        a.eor(64, X8, X8, X8, A64Shift.LSR, 32);
        a.and(64, X8, X8, X6);
        a.mov(64, X10, X6);

        a.bind(probe);
        a.add(64, X11, X5, X8, A64Shift.LSL, 4);
        a.add(64, X12, X11, LpmTrieMap.IX_ENTRIES + LpmTrieMap.IX_TAG);
        a.ldar(32, X12, X12);
        a.cbz(32, X12, nextLength); // an empty entry ends the chain
        a.sub(32, X12, X12, 1);     // tag - 1: the length (deleted: 0xfffffffe, no length)
        a.cmp(64, X12, X2);
        a.b(A64Cond.NE, nextProbe);
        a.ldr(64, X12, X11, LpmTrieMap.IX_ENTRIES + LpmTrieMap.IX_BITS);
        a.cmp(64, X12, X4);
        a.b(A64Cond.NE, nextProbe);
        // found: slab + slot * stride
        a.ldr(32, X0, X11, LpmTrieMap.IX_ENTRIES + LpmTrieMap.IX_SLOT);
        if (Integer.bitCount(stride) == 1) {
            a.lsl(64, X0, X0, Integer.numberOfTrailingZeros(stride));
        } else {
            a.movImm(64, X12, stride);
            a.mul(64, X0, X0, X12);
        }
        a.ldr(64, X12, X5, LpmTrieMap.IX_SLAB);
        a.add(64, X0, X0, X12);
        a.ret();
        a.bind(nextProbe);
        a.add(64, X8, X8, 1);
        a.and(64, X8, X8, X6);
        a.subs(64, X10, X10, 1, false);
        a.b(A64Cond.PL, probe);
        a.b(nextLength);
        a.bind(notFound);
        a.mov(64, X0, XZR);
        a.ret();
        return start;
    }
}
