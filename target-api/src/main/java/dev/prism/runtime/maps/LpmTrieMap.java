package dev.prism.runtime.maps;

import static dev.prism.runtime.maps.BpfMaps.BPF_EXIST;
import static dev.prism.runtime.maps.BpfMaps.BPF_NOEXIST;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.runtime.Region;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.ReentrantLock;

/**
 * BPF_MAP_TYPE_LPM_TRIE (kernel/bpf/lpm_trie.c): longest-prefix match.
 *
 * <p>Key: {@code struct bpf_lpm_trie_key_u8 { u32 prefixlen; u8 data[key_size - 4]; }},
 * prefixlen in host byte order, data in network order (data[0] holds the most significant
 * bits). The longest prefix is {@code max_prefixlen = (key_size - 4) * 8}. A lookup returns the
 * value of the longest stored prefix that matches the key's data in its first
 * {@code min(prefixlen, max_prefixlen)} bits (so the key's prefixlen is the longest prefix
 * considered); update and delete act on the exact (prefixlen, first prefixlen bits) pair.
 *
 * <p>Linux requires BPF_F_NO_PREALLOC at creation; so does this class. Errors: update flags
 * above BPF_EXIST or a prefixlen above max_prefixlen -EINVAL; BPF_NOEXIST on an existing prefix
 * -EEXIST; BPF_EXIST on a missing one -ENOENT; a new prefix in a full trie -ENOSPC; delete of a
 * missing prefix -ENOENT. (These are the semantics since Linux 6.13; older kernels ignored
 * BPF_NOEXIST / BPF_EXIST and refused every update of a full trie, replacements included.)
 *
 * <h2>Layout</h2>
 * The index Java probes is Java objects (one hash table of masked prefixes, probed from the
 * longest length down). For data of at most 8 bytes (IPv4 prefixes, IPv4 and a port) the same
 * prefixes are also kept in a native index, so a JIT can look up without calling into Java:
 * <pre>
 *  handle ({@link #nativeAddress()}), 8 bytes         index block (8-byte aligned)
 *   0  u64 address of the current index block          0    u32 mask        capacity - 1 (a power of two &gt;= 4 * max_entries)
 *                                                      8    u64 slab        address of the value slab
 *                                                     16    u32 count[65]   stored prefixes per length 0..64
 *                                                     280   u64 lengths     bit L set when count[L] &gt; 0, for L 0..63
 *                                                     288   entry[capacity], 16 bytes each:
 *                                                            0  u64 bits   the prefix's data, data[0] in bits 63..56,
 *                                                                          every bit from the length on zero
 *                                                            8  u32 tag    0 empty, 0xffffffff deleted, else length + 1
 *                                                           12  u32 slot   the value slot
 *  hash(bits, length): x = bits ^ length; x ^= x &gt;&gt;&gt; 32; x *= K (HashTableMap.HASH_K); x ^= x &gt;&gt;&gt; 32;
 *  entry x &amp; mask (the first fold brings the data, which sits in the high bits, down to where the
 *  multiplication carries it into the bits the mask keeps: without it every IPv4 /24 starts at one entry),
 *  then linear probing until an empty entry (or capacity entries).
 *  lookup(key): limit = key.prefixlen; above max_prefixlen nothing matches; for length = limit
 *  down to 0 with count[length] &gt; 0: probe for (bits of the key's data masked to length,
 *  length); the first hit's value: slab + slot * stride.
 * </pre>
 * Writers (under the lock) fill bits and slot, then store the tag with release semantics, then
 * count the length; a delete stores the deleted tag. When deleted entries pass a quarter of the
 * capacity, a fresh block is filled with the live entries and published with a release store
 * of the handle's first word; the old block stays valid memory until the map's arena closes, so
 * a reader still walking it sees the prefixes as they were. A reader that reads an entry's tag
 * just before it is deleted and reused can pair the old tag with new bits (the window the hash
 * map has too). The values live off-heap, so lookup can return an address:
 * <pre>
 *  slab (8-byte aligned)
 *  +------------------+------------------+-----+------------------------------+
 *  | value slot 0     | value slot 1     | ... | value slot max_entries - 1   |   stride = round_up(value_size, 8)
 *  +------------------+------------------+-----+------------------------------+
 * </pre>
 * A prefix keeps its slot while it exists; a replaced value is copied into the slot in place
 * (a concurrent reader may see a torn value; Linux swaps in a new node instead). A deleted
 * prefix's slot is reused by a later insert.
 *
 * <h2>Concurrency</h2>
 * Lookups take no lock (the index is a {@link ConcurrentHashMap}); updates and deletes take a
 * {@link ReentrantLock} (Java only).
 */
public final class LpmTrieMap implements BpfMap {
    /** LPM_DATA_SIZE_MAX: the longest data, 256 bytes (prefixes up to 2048 bits). */
    static final int MAX_DATA_SIZE = 256;

    private final MapDef def;
    private final int dataSize;
    private final int maxPrefixLen;
    private final int stride;
    private final MemorySegment slab;
    private final Map<Prefix, Entry> index = new ConcurrentHashMap<>();
    private final AtomicIntegerArray perLength;
    private final ReentrantLock lock = new ReentrantLock();
    private final int[] freeSlots;
    private int freeCount;
    /** The native index's handle and block (data of at most 8 bytes), or null. */
    private final MemorySegment nativeHandle;
    private final Arena arena;
    private MemorySegment nativeBlock;
    private int tombstones;

    /** Native index layout (see the class comment). */
    public static final int NX_BLOCK = 0;
    public static final int IX_MASK = 0;
    public static final int IX_SLAB = 8;
    public static final int IX_COUNTS = 16;
    /** A u64 of the lengths 0..63 with stored prefixes, so a lookup skips the empty ones at once. */
    public static final int IX_LENGTHS = 280;
    public static final int IX_ENTRIES = 288;
    public static final int IX_ENTRY_SIZE = 16;
    public static final int IX_BITS = 0;
    public static final int IX_TAG = 8;
    public static final int IX_SLOT = 12;
    public static final int TAG_EMPTY = 0;
    public static final int TAG_DELETED = -1;
    /** The longest data the native index holds. */
    public static final int NATIVE_MAX_DATA = 8;
    /** Tries with more entries keep no native index (it takes 64 bytes per entry). */
    public static final int NATIVE_MAX_ENTRIES = 1 << 20;
    private static final java.lang.invoke.VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final java.lang.invoke.VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    /** A prefix: its length and its data with every bit past the length cleared. */
    private record Prefix(int length, byte[] bits) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Prefix p && p.length == length && Arrays.equals(p.bits, bits);
        }

        @Override
        public int hashCode() {
            return 31 * length + Arrays.hashCode(bits);
        }
    }

    /** A stored prefix: its value slot and the key as last written (data unmasked, as Linux keeps it). */
    private record Entry(int slot, byte[] key) {
    }

    LpmTrieMap(MapDef def, Arena arena) {
        if (def.type() != MapType.LPM_TRIE) {
            throw new IllegalArgumentException("map " + def.name() + ": not an lpm_trie: " + def.type().id());
        }
        this.def = def;
        BpfMaps.require(def, (def.flags() & BpfMaps.BPF_F_NO_PREALLOC) != 0,
                String.format("lpm_trie requires BPF_F_NO_PREALLOC in map_flags (flags 0x%x)", def.flags()));
        BpfMaps.requireFlags(def, BpfMaps.BPF_F_NO_PREALLOC | BpfMaps.BPF_F_NUMA_NODE | BpfMaps.BPF_F_ACCESS_MASK);
        BpfMaps.require(def, def.keySize() >= 5 && def.keySize() <= 4 + MAX_DATA_SIZE,
                "lpm_trie key size must be 5.." + (4 + MAX_DATA_SIZE) + " (u32 prefixlen + data), was " + def.keySize());
        BpfMaps.require(def, def.valueSize() >= 1, "value size must be positive");
        this.dataSize = def.keySize() - 4;
        this.maxPrefixLen = dataSize * 8;
        this.stride = BpfMaps.round8(def.valueSize());
        long bytes = (long) def.maxEntries() * stride;
        BpfMaps.requireBytes(def, bytes);
        this.slab = arena.allocate(bytes, 8);
        this.arena = arena;
        if (dataSize <= NATIVE_MAX_DATA && def.maxEntries() <= NATIVE_MAX_ENTRIES) {
            this.nativeHandle = arena.allocate(8, 8);
            this.nativeBlock = newBlock();
            LONG.setRelease(nativeHandle, (long) NX_BLOCK, nativeBlock.address());
        } else {
            this.nativeHandle = null;
        }
        this.perLength = new AtomicIntegerArray(maxPrefixLen + 1);
        this.freeSlots = new int[def.maxEntries()];
        for (int i = 0; i < freeSlots.length; i++) {
            freeSlots[i] = freeSlots.length - 1 - i;
        }
        this.freeCount = freeSlots.length;
    }

    @Override
    public MapDef def() {
        return def;
    }

    /** {@return the longest prefix: (key_size - 4) * 8} */
    public int maxPrefixLen() {
        return maxPrefixLen;
    }

    /** {@return the address of the native index's handle (see the class comment), 0 when the data is longer than 8 bytes} */
    public long nativeAddress() {
        return nativeHandle == null ? 0 : nativeHandle.address();
    }

    /** {@return the bytes of one value slot: round_up(value_size, 8)} */
    public int stride() {
        return stride;
    }

    /** {@return the hash of the native index (see the class comment)} */
    public static long nativeHash(long bits, int length) {
        long x = bits ^ length;
        x = (x ^ (x >>> 32)) * HashTableMap.HASH_K;
        return x ^ (x >>> 32);
    }

    /**
     * {@return the native index block the handle points at now, or null when there is no native
     * index} A rebuild publishes another block; the old ones stay valid memory until the map closes.
     */
    public MemorySegment nativeIndex() {
        if (nativeHandle == null) {
            return null;
        }
        long block = (long) LONG.getAcquire(nativeHandle, (long) NX_BLOCK);
        return MemorySegment.ofAddress(block).reinterpret(IX_ENTRIES + nativeCapacity() * IX_ENTRY_SIZE);
    }

    /** Entries of a native index block: a power of two of at least 4 * max_entries (and 16). */
    private long nativeCapacity() {
        return Long.highestOneBit(Math.max(16L, 4L * def.maxEntries()) - 1) << 1;
    }

    private MemorySegment newBlock() {
        long capacity = nativeCapacity();
        MemorySegment b = arena.allocate(IX_ENTRIES + capacity * IX_ENTRY_SIZE, 8);
        b.set(ValueLayout.JAVA_INT, IX_MASK, (int) (capacity - 1));
        b.set(ValueLayout.JAVA_LONG, IX_SLAB, slab.address());
        return b;
    }

    /** {@return the prefix's data as the native index keeps it: data[0] in bits 63..56} */
    private static long packed(byte[] bits) {
        long v = 0;
        for (int i = 0; i < bits.length; i++) {
            v |= (bits[i] & 0xffL) << (56 - 8 * i);
        }
        return v;
    }

    /** Adds a prefix to the native index (under the lock). */
    private void nativeInsert(MemorySegment block, Prefix p, int slot) {
        long bits = packed(p.bits);
        int mask = block.get(ValueLayout.JAVA_INT, IX_MASK);
        for (long i = nativeHash(bits, p.length) & mask; ; i = (i + 1) & mask) {
            long e = IX_ENTRIES + i * IX_ENTRY_SIZE;
            int tag = block.get(ValueLayout.JAVA_INT, e + IX_TAG);
            if (tag == TAG_EMPTY || tag == TAG_DELETED) {
                if (tag == TAG_DELETED && block == nativeBlock) {
                    tombstones--;
                }
                block.set(ValueLayout.JAVA_LONG, e + IX_BITS, bits);
                block.set(ValueLayout.JAVA_INT, e + IX_SLOT, slot);
                INT.setRelease(block, e + IX_TAG, p.length + 1);
                long count = IX_COUNTS + 4L * p.length;
                INT.setRelease(block, count, block.get(ValueLayout.JAVA_INT, count) + 1);
                markLength(block, p.length, true);
                return;
            }
        }
    }

    /** Keeps the lengths word in step with count[length] (under the lock); length 64 has no bit. */
    private static void markLength(MemorySegment block, int length, boolean present) {
        if (length < 64) {
            long word = block.get(ValueLayout.JAVA_LONG, IX_LENGTHS);
            LONG.setRelease(block, (long) IX_LENGTHS, present ? word | 1L << length : word & ~(1L << length));
        }
    }

    /** Removes a prefix from the native index (under the lock); rebuilds when deleted entries pile up. */
    private void nativeDelete(Prefix p) {
        long bits = packed(p.bits);
        MemorySegment block = nativeBlock;
        int mask = block.get(ValueLayout.JAVA_INT, IX_MASK);
        for (long i = nativeHash(bits, p.length) & mask, n = 0; n <= mask; i = (i + 1) & mask, n++) {
            long e = IX_ENTRIES + i * IX_ENTRY_SIZE;
            int tag = block.get(ValueLayout.JAVA_INT, e + IX_TAG);
            if (tag == TAG_EMPTY) {
                break;
            }
            if (tag == p.length + 1 && block.get(ValueLayout.JAVA_LONG, e + IX_BITS) == bits) {
                INT.setRelease(block, e + IX_TAG, TAG_DELETED);
                long count = IX_COUNTS + 4L * p.length;
                int left = block.get(ValueLayout.JAVA_INT, count) - 1;
                INT.setRelease(block, count, left);
                markLength(block, p.length, left > 0);
                if (++tombstones > (mask + 1) / 4) {
                    MemorySegment fresh = newBlock();
                    index.forEach((prefix, entry) -> nativeInsert(fresh, prefix, entry.slot));
                    nativeBlock = fresh;
                    tombstones = 0;
                    LONG.setRelease(nativeHandle, (long) NX_BLOCK, fresh.address());
                }
                return;
            }
        }
        throw new IllegalStateException("lpm_trie " + def.name() + ": native index lacks a stored prefix");
    }

    /** {@return the number of stored prefixes} */
    public int count() {
        return index.size();
    }

    @Override
    public long lookup(MemorySegment key, int cpu) {
        BpfMaps.checkKey(def, key);
        Entry e = longestMatch(key);
        return e == null ? 0 : slab.address() + (long) e.slot * stride;
    }

    @Override
    public int update(MemorySegment key, MemorySegment value, long flags, int cpu) {
        BpfMaps.checkKey(def, key);
        BpfMaps.checkValue(def, value);
        if (BpfMaps.above(flags, BPF_EXIST)) {
            return -MapErrno.EINVAL;
        }
        long prefixLen = prefixLen(key);
        if (prefixLen > maxPrefixLen) {
            return -MapErrno.EINVAL;
        }
        Prefix p = prefix(key, (int) prefixLen);
        byte[] keyCopy = key.asSlice(0, def.keySize()).toArray(ValueLayout.JAVA_BYTE);
        lock.lock();
        try {
            Entry old = index.get(p);
            if (old != null) {
                if (flags == BPF_NOEXIST) {
                    return -MapErrno.EEXIST;
                }
                MemorySegment.copy(value, 0, slab, (long) old.slot * stride, def.valueSize());
                index.put(p, new Entry(old.slot, keyCopy));
                return 0;
            }
            if (flags == BPF_EXIST) {
                return -MapErrno.ENOENT;
            }
            if (freeCount == 0) {
                return -MapErrno.ENOSPC;
            }
            int slot = freeSlots[--freeCount];
            MemorySegment s = slab.asSlice((long) slot * stride, stride);
            s.fill((byte) 0);
            MemorySegment.copy(value, 0, s, 0, def.valueSize());
            perLength.incrementAndGet(p.length);
            index.put(p, new Entry(slot, keyCopy));
            if (nativeHandle != null) {
                nativeInsert(nativeBlock, p, slot);
            }
            return 0;
        } finally {
            lock.unlock();
        }
    }

    /** {@return 0; -EINVAL for a prefixlen above max_prefixlen; -ENOENT when that exact prefix is absent} */
    @Override
    public int delete(MemorySegment key) {
        BpfMaps.checkKey(def, key);
        long prefixLen = prefixLen(key);
        if (prefixLen > maxPrefixLen) {
            return -MapErrno.EINVAL;
        }
        Prefix p = prefix(key, (int) prefixLen);
        lock.lock();
        try {
            Entry e = index.remove(p);
            if (e == null) {
                return -MapErrno.ENOENT;
            }
            perLength.decrementAndGet(p.length);
            freeSlots[freeCount++] = e.slot;
            if (nativeHandle != null) {
                nativeDelete(p);
            }
            return 0;
        } finally {
            lock.unlock();
        }
    }

    /** The syscall's lookup is the same longest-prefix match as a program's. */
    @Override
    public byte[] lookupUser(byte[] key) {
        BpfMaps.checkUserKey(def, key);
        Entry e = longestMatch(MemorySegment.ofArray(key));
        if (e == null) {
            return null;
        }
        byte[] out = new byte[def.valueSize()];
        MemorySegment.copy(slab, ValueLayout.JAVA_BYTE, (long) e.slot * stride, out, 0, out.length);
        return out;
    }

    @Override
    public int updateUser(byte[] key, byte[] value, long flags) {
        BpfMaps.checkUserKey(def, key);
        BpfMaps.checkUserValue(def, value, def.valueSize());
        return update(MemorySegment.ofArray(key), MemorySegment.ofArray(value), flags, 0);
    }

    /**
     * {@return the stored keys in Linux's trie_get_next_key order: post-order over the trie, so
     * more specific prefixes come before the prefixes that contain them, and a 0 bit before a 1}
     */
    @Override
    public List<byte[]> keys() {
        List<Map.Entry<Prefix, Entry>> all;
        lock.lock();
        try {
            all = new ArrayList<>(index.entrySet());
        } finally {
            lock.unlock();
        }
        all.sort(Comparator.comparing(Map.Entry::getKey, LpmTrieMap::postOrder));
        List<byte[]> keys = new ArrayList<>(all.size());
        for (Map.Entry<Prefix, Entry> e : all) {
            keys.add(e.getValue().key.clone());
        }
        return keys;
    }

    @Override
    public List<Region> regions() {
        return BpfMaps.valueRegions(def, slab);
    }

    @Override
    public void close() {
        lock.lock();
        try {
            index.clear();
        } finally {
            lock.unlock();
        }
    }

    private Entry longestMatch(MemorySegment key) {
        if (prefixLen(key) > maxPrefixLen) {
            return null; // trie_lookup_elem: a key longer than the trie's prefixes matches nothing
        }
        int limit = (int) prefixLen(key);
        Prefix probe = prefix(key, limit);
        byte[] bits = probe.bits;
        for (int len = limit; len >= 0; len--) {
            if (len < limit) {
                clearBit(bits, len);
            }
            if (perLength.get(len) == 0) {
                continue; // no prefix of this length: no probe to build and hash
            }
            Entry e = index.get(len == limit ? probe : new Prefix(len, bits));
            if (e != null) {
                return e;
            }
        }
        return null;
    }

    /** Post-order of the binary trie over the bits: compare the common bits, then longer first. */
    private static int postOrder(Prefix a, Prefix b) {
        int common = Math.min(a.length, b.length);
        int whole = common / 8;
        for (int i = 0; i < whole; i++) {
            if (a.bits[i] != b.bits[i]) {
                return Integer.compare(a.bits[i] & 0xff, b.bits[i] & 0xff);
            }
        }
        int rest = common % 8;
        if (rest != 0) {
            int m = (0xff << (8 - rest)) & 0xff;
            int x = a.bits[whole] & m;
            int y = b.bits[whole] & m;
            if (x != y) {
                return Integer.compare(x, y);
            }
        }
        return Integer.compare(b.length, a.length);
    }

    private static long prefixLen(MemorySegment key) {
        return Integer.toUnsignedLong(key.get(ValueLayout.JAVA_INT_UNALIGNED, 0));
    }

    /** {@return the key's data with every bit from {@code length} on cleared} */
    private Prefix prefix(MemorySegment key, int length) {
        byte[] bits = key.asSlice(4, dataSize).toArray(ValueLayout.JAVA_BYTE);
        for (int i = 0; i < dataSize; i++) {
            int keep = Math.clamp(length - 8L * i, 0, 8);
            bits[i] &= (byte) ((0xff << (8 - keep)) & 0xff);
        }
        return new Prefix(length, bits);
    }

    /** Clears bit {@code bit} (0 = the most significant bit of data[0]). */
    private static void clearBit(byte[] bits, int bit) {
        bits[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
    }

    @Override
    public String toString() {
        return def.toString();
    }
}
