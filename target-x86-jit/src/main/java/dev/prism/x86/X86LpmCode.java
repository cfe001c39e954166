package dev.prism.x86;

import dev.prism.runtime.maps.HashTableMap;
import dev.prism.runtime.maps.LpmTrieMap;

/**
 * LPM_TRIE lookups as generated code, over the native index {@link LpmTrieMap} keeps for data of
 * at most 8 bytes (its class comment has the layout and the algorithm).
 *
 * <p>The function: {@code u64 lookup(u64 handle, u64 key)}, handle in rdi and key in rsi (where
 * BPF r1 and r2 already are), the value's address or 0 in rax. It clobbers rcx, rdx, rsi, rdi,
 * r8-r11 and the flags, uses no stack, and reads only the key's 4 + data_size bytes.
 * Registers while it runs:
 * <pre>
 *   rax  the prefix length being tried: the stored lengths (the block's lengths word) from
 *        min(prefixlen, ...) down to 0, longest first
 *   r10  the key's data, data[0] in bits 63..56
 *   r8   the data masked to the length
 *   r9   the index block;  rdx its mask;  r11 the entry index;  rsi probes left
 *   rcx  the entry's address;  rdi its tag, then its bits
 * </pre>
 */
public final class X86LpmCode {
    private X86LpmCode() {
    }

    /**
     * Emits the lookup for tries with {@code dataSize}-byte data (1..8) and values of
     * {@code stride} bytes per slot at the assembler's position. @return its offset
     */
    public static int emitLookup(X86Assembler a, int dataSize, int stride) {
        if (dataSize < 1 || dataSize > LpmTrieMap.NATIVE_MAX_DATA) {
            throw new IllegalArgumentException("data size " + dataSize + " has no native index (1.." + LpmTrieMap.NATIVE_MAX_DATA + ")");
        }
        int start = a.position();
        X86Reg len = X86Reg.RAX;
        X86Reg data = X86Reg.R10;
        X86Reg masked = X86Reg.R8;
        X86Reg block = X86Reg.R9;
        X86Reg mask = X86Reg.RDX;
        X86Reg idx = X86Reg.R11;
        X86Reg left = X86Reg.RSI;
        X86Reg entry = X86Reg.RCX;
        X86Reg tmp = X86Reg.RDI;
        Label loop = new Label();
        Label nonZero = new Label();
        Label hashed = new Label();
        Label probe = new Label();
        Label nextProbe = new Label();
        Label nextLength = new Label();
        Label notFound = new Label();

        a.mov(64, block, X86Address.of(X86Reg.RDI, LpmTrieMap.NX_BLOCK));
        a.mov(32, len, X86Address.of(X86Reg.RSI));
        a.cmp(64, len, dataSize * 8L);
        a.jcc(Condition.A, notFound); // a key longer than the trie's prefixes matches nothing
        a.xor(32, data, data);
        for (int i = 0; i < dataSize; i++) {
            a.movzx(8, entry, X86Address.of(X86Reg.RSI, 4 + i));
            if (56 - 8 * i > 0) {
                a.shl(64, entry, 56 - 8 * i);
            }
            a.or(64, data, entry);
        }
        a.mov(32, mask, X86Address.of(block, LpmTrieMap.IX_MASK));
        if (dataSize == 8) {
            // length 64 has no bit in the lengths word: its count decides
            Label below = new Label();
            a.cmp(64, len, 64);
            a.jccShort(Condition.NE, below);
            a.cmp(32, X86Address.of(block, LpmTrieMap.IX_COUNTS + 4 * 64), 0);
            a.jcc(Condition.NE, loop);
            a.jmp(nextLength);
            a.bind(below);
        }
        a.add(64, len, 1);

        // the longest stored length below len (1..64): the lengths word shifted so that bit
        // len - 1 is bit 63, then its highest set bit
        a.bind(nextLength);
        a.test(64, len, len);
        a.jcc(Condition.E, notFound);
        a.mov(64, tmp, X86Address.of(block, LpmTrieMap.IX_LENGTHS));
        a.mov(32, entry, 64);
        a.sub(32, entry, len);
        a.shl(64, tmp); // by cl: 64 - len, in 0..63
        a.test(64, tmp, tmp);
        a.jcc(Condition.E, notFound);
        a.bsr(64, tmp, tmp);
        a.add(64, len, tmp);
        a.sub(64, len, 64);

        a.bind(loop);
        a.test(64, len, len);
        a.jccShort(Condition.NE, nonZero);
        a.xor(32, masked, masked);
        a.jmpShort(hashed);
        a.bind(nonZero);
        a.mov(32, entry, 64);
        a.sub(32, entry, len);
        a.mov(64, masked, -1);
        a.shl(64, masked); // by cl: 64 - length, in 0..63
        a.and(64, masked, data);
        a.bind(hashed);
        // hash: x = bits ^ length; x ^= x >>> 32; x *= K; x ^= x >>> 32
        a.mov(64, idx, masked);
        a.xor(64, idx, len);
        a.mov(64, tmp, idx);
        a.shr(64, tmp, 32);
        a.xor(64, idx, tmp);
        a.movabs(tmp, HashTableMap.HASH_K);
        a.imul(64, idx, tmp);
        a.mov(64, tmp, idx);
        a.shr(64, tmp, 32);
        a.xor(64, idx, tmp);
        a.and(64, idx, mask);
        a.mov(64, left, mask);

        a.bind(probe);
        a.mov(64, entry, idx);
        a.shl(64, entry, 4);
        a.add(64, entry, block);
        a.mov(32, tmp, X86Address.of(entry, LpmTrieMap.IX_ENTRIES + LpmTrieMap.IX_TAG));
        a.test(32, tmp, tmp);
        a.jcc(Condition.E, nextLength); // an empty entry ends the chain
        a.sub(32, tmp, 1);              // tag - 1: the length (deleted: 0xfffffffe, no length)
        a.cmp(64, tmp, len);
        a.jccShort(Condition.NE, nextProbe);
        a.mov(64, tmp, X86Address.of(entry, LpmTrieMap.IX_ENTRIES + LpmTrieMap.IX_BITS));
        a.cmp(64, tmp, masked);
        a.jccShort(Condition.NE, nextProbe);
        // found: slab + slot * stride
        a.mov(32, X86Reg.RAX, X86Address.of(entry, LpmTrieMap.IX_ENTRIES + LpmTrieMap.IX_SLOT));
        if (Integer.bitCount(stride) == 1) {
            a.shl(64, X86Reg.RAX, Integer.numberOfTrailingZeros(stride));
        } else {
            a.mov(64, tmp, stride);
            a.imul(64, X86Reg.RAX, tmp);
        }
        a.mov(64, tmp, X86Address.of(block, LpmTrieMap.IX_SLAB));
        a.add(64, X86Reg.RAX, tmp);
        a.ret();
        a.bind(nextProbe);
        a.add(64, idx, 1);
        a.and(64, idx, mask);
        a.sub(64, left, 1);
        a.jcc(Condition.NS, probe);

        a.jmp(nextLength);
        a.bind(notFound);
        a.xor(32, X86Reg.RAX, X86Reg.RAX);
        a.ret();
        return start;
    }
}
