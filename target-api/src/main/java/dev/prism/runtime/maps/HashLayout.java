package dev.prism.runtime.maps;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import java.util.Objects;

/**
 * The parameters of one {@link HashTableMap} layout, and the sizes and offsets derived from them
 * exactly as {@code HashTableMap} derives them: what a JIT needs to emit a lookup for it, and the sizes and offsets
 * derived from them exactly as {@code HashTableMap} derives them.
 *
 * @param type       HASH, PERCPU_HASH or LRU_HASH
 * @param keySize    key bytes, 1..512
 * @param valueSize  value bytes, at least 1
 * @param maxEntries capacity, 1..2^30
 * @param cpus       values per entry: the map's CPU count for PERCPU_HASH, else 1
 */
public record HashLayout(MapType type, int keySize, int valueSize, int maxEntries, int cpus) {
    public HashLayout {
        Objects.requireNonNull(type, "type");
        if (type != MapType.HASH && type != MapType.PERCPU_HASH && type != MapType.LRU_HASH) {
            throw new IllegalArgumentException("not a hash map type: " + type.id());
        }
        if (keySize < 1 || keySize > 512) {
            throw new IllegalArgumentException("key size " + keySize + " outside 1..512");
        }
        if (valueSize < 1) {
            throw new IllegalArgumentException("value size " + valueSize + " is not positive");
        }
        if (maxEntries < 1 || maxEntries > 1 << 30) {
            throw new IllegalArgumentException("max_entries " + maxEntries + " outside 1..2^30");
        }
        if (cpus < 1 || (type != MapType.PERCPU_HASH && cpus != 1)) {
            throw new IllegalArgumentException("cpus " + cpus + " for " + type.id()
                    + " (must be 1 unless percpu_hash, at least 1)");
        }
        long entry = HashTableMap.ENT_KEY + round8(keySize) + (long) cpus * round8(valueSize);
        long entries = round8(HashTableMap.HEADER_SIZE + 4L * buckets(maxEntries));
        // Entry fields are addressed as [entry - entry_size + entriesOffset + field].
        if (entry + entries >= Integer.MAX_VALUE) {
            throw new IllegalArgumentException("entries offset " + entries + " plus entry size " + entry
                    + " does not fit an int");
        }
    }

    /** {@return the layout of the map {@code def} creates with {@code cpus} simulated CPUs} */
    public static HashLayout of(MapDef def, int cpus) {
        return new HashLayout(def.type(), def.keySize(), def.valueSize(), def.maxEntries(),
                def.type() == MapType.PERCPU_HASH ? cpus : 1);
    }

    /** {@return the layout of an existing map} */
    public static HashLayout of(HashTableMap map) {
        MapDef def = map.def();
        int cpus = def.type() == MapType.PERCPU_HASH ? map.userValueSize() / map.stride() : 1;
        return new HashLayout(def.type(), def.keySize(), def.valueSize(), def.maxEntries(), cpus);
    }

    public boolean perCpu() {
        return type == MapType.PERCPU_HASH;
    }

    public boolean lru() {
        return type == MapType.LRU_HASH;
    }

    /** {@return the power of two >= max_entries} */
    public int buckets() {
        return buckets(maxEntries);
    }

    /** {@return buckets - 1} */
    public int mask() {
        return buckets() - 1;
    }

    /** {@return round8(value_size)} */
    public int stride() {
        return round8(valueSize);
    }

    /** {@return 16 + round8(key_size)} */
    public int valueOffset() {
        return HashTableMap.ENT_KEY + round8(keySize);
    }

    /** {@return 16 + round8(key_size) + cpus * round8(value_size)} */
    public int entrySize() {
        return valueOffset() + cpus * stride();
    }

    /** {@return round8(64 + 4 * buckets): entry 1's offset from the table} */
    public int entriesOffset() {
        return (int) round8(HashTableMap.HEADER_SIZE + 4L * buckets());
    }

    private static int buckets(int maxEntries) {
        int high = Integer.highestOneBit(maxEntries);
        return high == maxEntries ? maxEntries : high << 1;
    }

    private static int round8(int n) {
        return (n + 7) & ~7;
    }

    private static long round8(long n) {
        return (n + 7) & ~7L;
    }
}
