package dev.prism.program;

import java.util.Locale;

/**
 * BPF map types, with the kernel's {@code enum bpf_map_type} numbers (include/uapi/linux/bpf.h).
 * Prism implements the ones listed; an object asking for another type is refused by name.
 */
public enum MapType {
    HASH(1),
    ARRAY(2),
    PROG_ARRAY(3),
    PERF_EVENT_ARRAY(4),
    PERCPU_HASH(5),
    PERCPU_ARRAY(6),
    LRU_HASH(9),
    LPM_TRIE(11),
    ARRAY_OF_MAPS(12),
    HASH_OF_MAPS(13),
    DEVMAP(14),
    CPUMAP(16),
    XSKMAP(17),
    DEVMAP_HASH(25),
    RINGBUF(27);

    private final int code;

    MapType(int code) {
        this.code = code;
    }

    /** {@return BPF_MAP_TYPE_* as the kernel numbers it} */
    public int code() {
        return code;
    }

    /** {@return the type with this kernel number, or null when Prism does not implement it} */
    public static MapType ofCode(int code) {
        for (MapType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }

    /** {@return true for the per-CPU types, whose user-space value is one value per CPU} */
    public boolean perCpu() {
        return this == PERCPU_HASH || this == PERCPU_ARRAY;
    }

    /** {@return true for ARRAY_OF_MAPS and HASH_OF_MAPS, whose values are maps} */
    public boolean ofMaps() {
        return this == ARRAY_OF_MAPS || this == HASH_OF_MAPS;
    }

    /** {@return true for the maps bpf_redirect_map takes: DEVMAP, DEVMAP_HASH, CPUMAP, XSKMAP} */
    public boolean redirect() {
        return this == DEVMAP || this == DEVMAP_HASH || this == CPUMAP || this == XSKMAP;
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
