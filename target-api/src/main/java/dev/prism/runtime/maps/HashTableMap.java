package dev.prism.runtime.maps;

import static dev.prism.runtime.maps.BpfMaps.BPF_EXIST;
import static dev.prism.runtime.maps.BpfMaps.BPF_NOEXIST;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.runtime.Region;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_HASH and BPF_MAP_TYPE_LRU_HASH (kernel/bpf/hashtab.c):
 * a fixed-capacity, preallocated, chained hash table in one off-heap block, laid out so that
 * native code can probe it without calling into Java.
 *
 * <h2>Layout</h2>
 * All integers are u32 in host byte order, all offsets from the start of the block, which is
 * 8-byte aligned. Entries are numbered 1..max_entries; a link holds an entry number, 0 for none.
 * <pre>
 *  0                 64                                entriesOffset (= round_up(64 + 4 * buckets, 8))
 *  +-----------------+---------------------------------+----------+----------+-----+--------------------+
 *  | header          | bucket[0] ... bucket[mask]      | entry 1  | entry 2  | ... | entry max_entries  |
 *  +-----------------+---------------------------------+----------+----------+-----+--------------------+
 *                      u32 each: first entry of the      entry n at entriesOffset + (n - 1) * entry_size
 *                      chain, 0 = empty;
 *                      buckets = the power of two >= max_entries, mask = buckets - 1
 *
 *  header                                  entry (entry_size = 16 + round8(key_size) + cpus * round8(value_size))
 *   0  lock        0 free, 1 held           0  next       next entry in the bucket chain, 0 = end
 *   4  count       linked entries           4  hash       hash(key); the bucket is hash &amp; mask
 *   8  free        first free entry, 0=none 8  ref        LRU_HASH: 1 when used since the clock hand
 *  12  mask        buckets - 1                            last passed (0 otherwise)
 *  16  entry_size                          12  free_next  next entry in the free list
 *  20  key_size                            16  key        key_size bytes, zero padding to 8
 *  24  value_size                          16 + round8(key_size)
 *  28  value_stride round8(value_size)         value      CPU 0's value, zero padding to 8
 *  32  cpus        1 unless PERCPU_HASH        (PERCPU_HASH: CPU c's at + c * value_stride)
 *  36  max_entries
 *  40  clock       LRU clock hand (entry number - 1)
 *  44  map type    BPF_MAP_TYPE_* number
 *  48  reserved (0) up to 64
 * </pre>
 *
 * <h2>Hash</h2>
 * {@link #hash(MemorySegment, int)}: the key read as 8-byte little-endian words, the last one
 * zero-padded; per word {@code h = (h ^ w) * K; h ^= h >>> 29} from {@code h = K},
 * {@code K = 0x9E3779B97F4A7C15}; then {@code h ^= h >>> 32}; the low 32 bits. The seed is
 * fixed (Linux picks a random one unless BPF_F_ZERO_SEED; nothing may depend on its value).
 *
 * <h2>Lookup (no lock), as native code does it</h2>
 * <pre>
 *  restart:
 *    h = hash(key); b = h &amp; mask
 *    n = load_acquire(bucket[b])
 *    while (n != 0):
 *      e = entries + (n - 1) * entry_size
 *      next = load_acquire(e.next)          ; x86: plain loads already have acquire order
 *      if ((e.hash &amp; mask) != b) goto restart   ; e was deleted and reused while we walked
 *      if (e.hash == h &amp;&amp; memcmp(e.key, key, key_size) == 0) return e + 16 + round8(key_size) (+ cpu * stride)
 *      n = next
 *    return 0
 * </pre>
 * Why a reader never sees a half-written entry: writers fill an entry completely (hash, key,
 * value), then store its {@code next} with release semantics, then link it with a release store
 * to the bucket head. A deleted entry keeps its {@code next} (the free list uses
 * {@code free_next}), so a reader standing on it continues along its old chain; if the entry is
 * reused meanwhile, its new {@code next} is released after its new hash, so the reader sees a
 * hash of another bucket and restarts. This is what Linux's hlist_nulls markers achieve. The
 * Java walk also restarts after more than max_entries steps, and after 8 restarts it takes the
 * lock. A key compared while its entry is being reused can in principle match a torn key;
 * Linux has the same window.
 *
 * <h2>Updates and deletes</h2>
 * Under the spin lock in the header ({@link SpinLock}; native code may take it too). Replacing
 * the value of an existing key copies it in place with plain stores: a concurrent reader may see
 * a torn value when it is larger than 8 bytes, as in Linux. Deleted entries go to the free list.
 * A pointer returned by lookup stays valid memory forever (entries are preallocated) but may
 * come to hold another key's value once its entry is deleted and reused, as with Linux's
 * preallocated maps.
 *
 * <h2>LRU_HASH</h2>
 * Approximate LRU, like Linux's (whose lists are approximate too): a lookup from a program sets
 * the entry's ref word; inserting into a full map runs a clock hand over the entries, clearing
 * ref words, and evicts the first entry whose ref is 0 (second chance). New entries start with
 * ref 0; replacing a value sets it. Syscall lookups do not set it (as Linux). Differences: Linux
 * takes a node from the LRU before checking the flags, so a failing update of a full Linux map
 * can still evict; here a failed update changes nothing. BPF_F_NO_COMMON_LRU is accepted and
 * ignored.
 */
public final class HashTableMap implements BpfMap {
    /** Header field offsets. */
    public static final int HDR_LOCK = 0;
    public static final int HDR_COUNT = 4;
    public static final int HDR_FREE = 8;
    public static final int HDR_MASK = 12;
    public static final int HDR_ENTRY_SIZE = 16;
    public static final int HDR_KEY_SIZE = 20;
    public static final int HDR_VALUE_SIZE = 24;
    public static final int HDR_VALUE_STRIDE = 28;
    public static final int HDR_CPUS = 32;
    public static final int HDR_MAX_ENTRIES = 36;
    public static final int HDR_CLOCK = 40;
    public static final int HDR_MAP_TYPE = 44;
    public static final int HEADER_SIZE = 64;

    /** Entry field offsets. */
    public static final int ENT_NEXT = 0;
    public static final int ENT_HASH = 4;
    public static final int ENT_REF = 8;
    public static final int ENT_FREE_NEXT = 12;
    public static final int ENT_KEY = 16;

    /** The hash's multiplier and seed: 2^64 / golden ratio. */
    public static final long HASH_K = 0x9E3779B97F4A7C15L;

    /** hash-map key_size limit (MAX_BPF_STACK). */
    static final int MAX_KEY_SIZE = 512;

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final ValueLayout.OfLong WORD_LE =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long NOT_FOUND = -1;
    private static final long RESTART = -2;
    private static final int RESTARTS_BEFORE_LOCKING = 8;

    private final MapDef def;
    private final boolean perCpu;
    private final boolean lru;
    private final int cpus;
    private final int keySize;
    private final int valueSize;
    private final int stride;
    private final int maxEntries;
    private final int buckets;
    private final int mask;
    private final int valueOffset;
    private final int entrySize;
    private final long entriesOffset;
    private final MemorySegment block;
    private final MemorySegment entries;

    HashTableMap(MapDef def, int cpus, Arena arena) {
        MapType t = def.type();
        if (t != MapType.HASH && t != MapType.PERCPU_HASH && t != MapType.LRU_HASH) {
            throw new IllegalArgumentException("map " + def.name() + ": not a hash map: " + t.id());
        }
        this.def = def;
        this.perCpu = t == MapType.PERCPU_HASH;
        this.lru = t == MapType.LRU_HASH;
        // htab_map_alloc_check
        BpfMaps.requireFlags(def, BpfMaps.BPF_F_NO_PREALLOC | BpfMaps.BPF_F_NUMA_NODE | BpfMaps.BPF_F_ACCESS_MASK
                | BpfMaps.BPF_F_ZERO_SEED | (lru ? BpfMaps.BPF_F_NO_COMMON_LRU : 0));
        BpfMaps.require(def, !lru || (def.flags() & BpfMaps.BPF_F_NO_PREALLOC) == 0,
                "lru_hash cannot have BPF_F_NO_PREALLOC (Linux: ENOTSUPP)");
        BpfMaps.require(def, def.keySize() > 0 && def.valueSize() > 0, "key and value sizes must be positive");
        BpfMaps.require(def, def.keySize() <= MAX_KEY_SIZE,
                "key size " + def.keySize() + " exceeds " + MAX_KEY_SIZE);
        BpfMaps.require(def, !perCpu || def.valueSize() <= ArrayMap.MAX_PERCPU_VALUE,
                "per-CPU value size " + def.valueSize() + " exceeds " + ArrayMap.MAX_PERCPU_VALUE);
        BpfMaps.require(def, def.maxEntries() <= 1 << 30, "max_entries " + def.maxEntries() + " exceeds 2^30");
        this.cpus = perCpu ? cpus : 1;
        this.keySize = def.keySize();
        this.valueSize = def.valueSize();
        this.stride = BpfMaps.round8(valueSize);
        this.maxEntries = def.maxEntries();
        this.buckets = Integer.highestOneBit(maxEntries) == maxEntries ? maxEntries : Integer.highestOneBit(maxEntries) << 1;
        this.mask = buckets - 1;
        this.valueOffset = ENT_KEY + BpfMaps.round8(keySize);
        long size = valueOffset + (long) this.cpus * stride;
        BpfMaps.require(def, size < Integer.MAX_VALUE, "entry of " + size + " bytes is too large");
        this.entrySize = (int) size;
        this.entriesOffset = BpfMaps.round8(HEADER_SIZE + 4L * buckets);
        long bytes = entriesOffset + (long) maxEntries * entrySize;
        BpfMaps.requireBytes(def, bytes);
        this.block = arena.allocate(bytes, 8);
        this.entries = block.asSlice(entriesOffset, (long) maxEntries * entrySize);
        putInt(HDR_MASK, mask);
        putInt(HDR_ENTRY_SIZE, entrySize);
        putInt(HDR_KEY_SIZE, keySize);
        putInt(HDR_VALUE_SIZE, valueSize);
        putInt(HDR_VALUE_STRIDE, stride);
        putInt(HDR_CPUS, this.cpus);
        putInt(HDR_MAX_ENTRIES, maxEntries);
        putInt(HDR_MAP_TYPE, t.code());
        // Free list 1 -> 2 -> ... -> max_entries.
        for (int n = 1; n < maxEntries; n++) {
            putInt(entry(n) + ENT_FREE_NEXT, n + 1);
        }
        putInt(HDR_FREE, 1);
    }

    /**
     * {@return the map's hash of the first {@code keySize} bytes of {@code key}}: 8-byte
     * little-endian words, the last zero-padded; {@code h = K}; per word
     * {@code h = (h ^ w) * K; h ^= h >>> 29}; finally {@code h ^= h >>> 32}; the low 32 bits.
     */
    public static int hash(MemorySegment key, int keySize) {
        long h = HASH_K;
        int whole = keySize & ~7;
        for (int off = 0; off < whole; off += 8) {
            h = mix(h, key.get(WORD_LE, off));
        }
        if (whole < keySize) {
            long w = 0;
            for (int i = whole; i < keySize; i++) {
                w |= (key.get(ValueLayout.JAVA_BYTE, i) & 0xffL) << (8 * (i - whole));
            }
            h = mix(h, w);
        }
        h ^= h >>> 32;
        return (int) h;
    }

    private static long mix(long h, long w) {
        h = (h ^ w) * HASH_K;
        return h ^ (h >>> 29);
    }

    @Override
    public MapDef def() {
        return def;
    }

    /** {@return the native address of the header (offset 0 of the layout)} */
    public long address() {
        return block.address();
    }

    /** {@return the native address of bucket 0} */
    public long bucketsAddress() {
        return block.address() + HEADER_SIZE;
    }

    /** {@return the native address of entry 1} */
    public long entriesAddress() {
        return entries.address();
    }

    /** {@return buckets - 1} */
    public int bucketMask() {
        return mask;
    }

    /** {@return bytes per entry} */
    public int entrySize() {
        return entrySize;
    }

    /** {@return the offset of the value (CPU 0's) inside an entry: 16 + round8(key_size)} */
    public int valueOffset() {
        return valueOffset;
    }

    /** {@return the distance between CPUs' values in an entry: round_up(value_size, 8)} */
    public int stride() {
        return stride;
    }

    /** {@return the number of keys in the map} */
    public int count() {
        return (int) INT.getVolatile(block, (long) HDR_COUNT);
    }

    @Override
    public long lookup(MemorySegment key, int cpu) {
        BpfMaps.checkKey(def, key);
        int c = perCpu ? BpfMaps.checkCpu(def, cpu, cpus) : 0;
        long e = find(key, hash(key, keySize));
        if (e < 0) {
            return 0;
        }
        if (lru && getInt(e + ENT_REF) == 0) {
            putInt(e + ENT_REF, 1);
        }
        return block.address() + e + valueOffset + (long) c * stride;
    }

    /**
     * htab_map_update_elem and its PERCPU / LRU variants: flags above BPF_EXIST (BPF_F_LOCK
     * included: no value has a spin lock) -EINVAL; BPF_NOEXIST on an existing key -EEXIST;
     * BPF_EXIST on a missing one -ENOENT; a new key in a full map -E2BIG (LRU_HASH evicts
     * instead). PERCPU_HASH writes {@code cpu}'s copy; a new entry's other copies are zero.
     */
    @Override
    public int update(MemorySegment key, MemorySegment value, long flags, int cpu) {
        BpfMaps.checkKey(def, key);
        BpfMaps.checkValue(def, value);
        int c = perCpu ? BpfMaps.checkCpu(def, cpu, cpus) : 0;
        return put(key, value, flags, c, false);
    }

    /** {@return 0, or -ENOENT when the key is absent} */
    @Override
    public int delete(MemorySegment key) {
        BpfMaps.checkKey(def, key);
        int h = hash(key, keySize);
        lock();
        try {
            long link = bucket(h & mask);
            for (int n = getInt(link); n != 0; n = getInt(link)) {
                long e = entry(n);
                if (getInt(e + ENT_HASH) == h && keyEquals(e, key)) {
                    INT.setRelease(block, link, getInt(e + ENT_NEXT));
                    pushFree(n);
                    return 0;
                }
                link = e + ENT_NEXT;
            }
            return -MapErrno.ENOENT;
        } finally {
            unlock();
        }
    }

    @Override
    public byte[] lookupUser(byte[] key) {
        BpfMaps.checkUserKey(def, key);
        MemorySegment k = MemorySegment.ofArray(key);
        long e = find(k, hash(k, keySize));
        if (e < 0) {
            return null;
        }
        byte[] out = new byte[userValueSize()];
        MemorySegment.copy(block, ValueLayout.JAVA_BYTE, e + valueOffset, out, 0, out.length);
        return out;
    }

    /** As {@link #update}; for PERCPU_HASH {@code value} holds every CPU's copy. */
    @Override
    public int updateUser(byte[] key, byte[] value, long flags) {
        BpfMaps.checkUserKey(def, key);
        BpfMaps.checkUserValue(def, value, userValueSize());
        return put(MemorySegment.ofArray(key), MemorySegment.ofArray(value), flags, 0, perCpu);
    }

    /** {@return the keys, bucket by bucket, each chain from its head} */
    @Override
    public List<byte[]> keys() {
        List<byte[]> keys = new ArrayList<>();
        lock();
        try {
            for (int b = 0; b < buckets; b++) {
                for (int n = getInt(bucket(b)); n != 0; n = getInt(entry(n) + ENT_NEXT)) {
                    byte[] k = new byte[keySize];
                    MemorySegment.copy(block, ValueLayout.JAVA_BYTE, entry(n) + ENT_KEY, k, 0, keySize);
                    keys.add(k);
                }
            }
        } finally {
            unlock();
        }
        return keys;
    }

    /**
     * {@return the entry pool: the values lie inside it at valueOffset() + (n - 1) * entrySize();
     * the verifier keeps programs inside a value, not the rest of the entry}
     */
    @Override
    public List<Region> regions() {
        return BpfMaps.valueRegions(def, entries);
    }

    @Override
    public int userValueSize() {
        return perCpu ? cpus * stride : valueSize;
    }

    @Override
    public void close() {
        // The arena owns the memory; nothing lives on the Java heap.
    }

    private int put(MemorySegment key, MemorySegment value, long flags, int cpu, boolean allCpus) {
        if (BpfMaps.above(flags, BPF_EXIST)) {
            return -MapErrno.EINVAL;
        }
        int h = hash(key, keySize);
        lock();
        try {
            long e = walk(key, h);
            if (e >= 0) {
                if (flags == BPF_NOEXIST) {
                    return -MapErrno.EEXIST;
                }
                writeValue(e, value, cpu, allCpus);
                if (lru) {
                    putInt(e + ENT_REF, 1);
                }
                return 0;
            }
            if (flags == BPF_EXIST) {
                return -MapErrno.ENOENT;
            }
            int n = popFree();
            if (n == 0) {
                if (!lru) {
                    return -MapErrno.E2BIG;
                }
                n = evict();
            }
            e = entry(n);
            putInt(e + ENT_HASH, h);
            putInt(e + ENT_REF, 0);
            putInt(e + ENT_FREE_NEXT, 0);
            block.asSlice(e + ENT_KEY, entrySize - ENT_KEY).fill((byte) 0);
            MemorySegment.copy(key, 0, block, e + ENT_KEY, keySize);
            writeValue(e, value, cpu, allCpus);
            long head = bucket(h & mask);
            INT.setRelease(block, e + ENT_NEXT, getInt(head));
            INT.setRelease(block, head, n);
            putInt(HDR_COUNT, getInt(HDR_COUNT) + 1);
            return 0;
        } finally {
            unlock();
        }
    }

    private void writeValue(long e, MemorySegment value, int cpu, boolean allCpus) {
        long v = e + valueOffset;
        if (allCpus) {
            MemorySegment.copy(value, 0, block, v, (long) cpus * stride);
        } else {
            MemorySegment.copy(value, 0, block, v + (long) cpu * stride, valueSize);
        }
    }

    /** {@return the offset of key's entry, or NOT_FOUND}: lock-free, restarting as documented. */
    private long find(MemorySegment key, int h) {
        for (int i = 0; i < RESTARTS_BEFORE_LOCKING; i++) {
            long e = walk(key, h);
            if (e != RESTART) {
                return e;
            }
        }
        lock();
        try {
            return walk(key, h);
        } finally {
            unlock();
        }
    }

    /** One walk of key's bucket chain: the entry offset, NOT_FOUND or RESTART. */
    private long walk(MemorySegment key, int h) {
        int b = h & mask;
        int n = (int) INT.getAcquire(block, bucket(b));
        for (int steps = 0; n != 0; steps++) {
            if (steps > maxEntries) {
                return RESTART;
            }
            long e = entry(n);
            int next = (int) INT.getAcquire(block, e + ENT_NEXT);
            int eh = getInt(e + ENT_HASH);
            if ((eh & mask) != b) {
                return RESTART;
            }
            if (eh == h && keyEquals(e, key)) {
                return e;
            }
            n = next;
        }
        return NOT_FOUND;
    }

    private boolean keyEquals(long e, MemorySegment key) {
        return MemorySegment.mismatch(block, e + ENT_KEY, e + ENT_KEY + keySize, key, 0, keySize) == -1;
    }

    private int popFree() {
        int n = getInt(HDR_FREE);
        if (n != 0) {
            putInt(HDR_FREE, getInt(entry(n) + ENT_FREE_NEXT));
        }
        return n;
    }

    /** Puts entry n, already unlinked, on the free list. Its next word stays for readers on it. */
    private void pushFree(int n) {
        putInt(entry(n) + ENT_FREE_NEXT, getInt(HDR_FREE));
        putInt(entry(n) + ENT_REF, 0);
        putInt(HDR_FREE, n);
        putInt(HDR_COUNT, getInt(HDR_COUNT) - 1);
    }

    /**
     * Clock: from the hand, clear set ref words and take the first entry whose ref is 0; unlink
     * it and return its number. Called with the lock held and the free list empty, so every
     * entry is linked; two turns of the hand always find one.
     */
    private int evict() {
        int hand = getInt(HDR_CLOCK);
        for (int step = 0; step <= 2 * maxEntries; step++) {
            int n = hand + 1;
            hand = hand + 1 == maxEntries ? 0 : hand + 1;
            long e = entry(n);
            if (getInt(e + ENT_REF) != 0) {
                putInt(e + ENT_REF, 0);
                continue;
            }
            putInt(HDR_CLOCK, hand);
            unlink(n);
            putInt(HDR_COUNT, getInt(HDR_COUNT) - 1);
            return n;
        }
        throw new IllegalStateException("map " + def.name() + ": lru clock found no entry to evict");
    }

    private void unlink(int target) {
        long e = entry(target);
        long link = bucket(getInt(e + ENT_HASH) & mask);
        for (int n = getInt(link); n != target; n = getInt(link)) {
            if (n == 0) {
                throw new IllegalStateException("map " + def.name() + ": entry " + target + " is not in its bucket");
            }
            link = entry(n) + ENT_NEXT;
        }
        INT.setRelease(block, link, getInt(e + ENT_NEXT));
    }

    private long entry(int n) {
        return entriesOffset + (long) (n - 1) * entrySize;
    }

    private static long bucket(int b) {
        return HEADER_SIZE + 4L * b;
    }

    private int getInt(long offset) {
        return (int) INT.get(block, offset);
    }

    private void putInt(long offset, int v) {
        INT.set(block, offset, v);
    }

    private void lock() {
        SpinLock.lock(block, HDR_LOCK);
    }

    private void unlock() {
        SpinLock.unlock(block, HDR_LOCK);
    }

    @Override
    public String toString() {
        return def.toString();
    }
}
