package dev.prism.runtime.maps;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Byte helpers for the map tests, and models computed from first principles. */
final class MapTesting {
    private static final BigInteger MOD64 = BigInteger.ONE.shiftLeft(64);
    private static final BigInteger K = new BigInteger("9E3779B97F4A7C15", 16);

    private MapTesting() {
    }

    /** {@return v as 4 little-endian bytes, as an x86-64 / arm64 host stores a u32} */
    static byte[] u32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    static byte[] u64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    static int readIntLe(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
    }

    static long u64(byte[] b, int offset) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(offset);
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    /** {@return native memory holding b, as a program's stack or packet would} */
    static MemorySegment mem(Arena arena, byte[] b) {
        MemorySegment s = arena.allocate(Math.max(1, b.length), 8);
        MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, 0, b.length);
        return s.asSlice(0, b.length);
    }

    /** {@return the native memory at address: what a program's pointer reaches} */
    @SuppressWarnings("restricted")
    static MemorySegment at(long address, long size) {
        return MemorySegment.ofAddress(address).reinterpret(size);
    }

    static byte[] read(long address, int size) {
        return at(address, size).toArray(ValueLayout.JAVA_BYTE);
    }

    static long readLong(long address) {
        return at(address, 8).get(ValueLayout.JAVA_LONG, 0);
    }

    static int readInt(long address) {
        return at(address, 4).get(ValueLayout.JAVA_INT, 0);
    }

    /**
     * The documented hash, with unbounded integers reduced mod 2^64 instead of Java's wrapping
     * long arithmetic: h = K; per zero-padded little-endian 8-byte word w: h = (h ^ w) * K mod 2^64,
     * h ^= h >> 29; then h ^= h >> 32; the low 32 bits.
     */
    static int referenceHash(byte[] key) {
        BigInteger h = K;
        for (int i = 0; i < key.length; i += 8) {
            BigInteger w = BigInteger.ZERO;
            for (int j = 0; j < 8 && i + j < key.length; j++) {
                w = w.or(BigInteger.valueOf(key[i + j] & 0xff).shiftLeft(8 * j));
            }
            h = h.xor(w).multiply(K).mod(MOD64);
            h = h.xor(h.shiftRight(29));
        }
        h = h.xor(h.shiftRight(32));
        return h.intValue();
    }

    /**
     * A lookup that knows only the documented layout of {@link HashTableMap} (header fields,
     * buckets, entries) and reads raw memory, as native code would: the value address or 0.
     */
    static long layoutLookup(HashTableMap map, byte[] key) {
        long base = map.address();
        int mask = readInt(base + 12);
        int entrySize = readInt(base + 16);
        int keySize = readInt(base + 20);
        long entries = base + ((64 + 4L * (mask + 1) + 7) & ~7L);
        int h = referenceHash(key);
        int n = readInt(base + 64 + 4L * (h & mask));
        while (n != 0) {
            long e = entries + (long) (n - 1) * entrySize;
            if (readInt(e + 4) == h && java.util.Arrays.equals(read(e + 16, keySize), key)) {
                return e + 16 + ((keySize + 7) & ~7);
            }
            n = readInt(e);
        }
        return 0;
    }
}
