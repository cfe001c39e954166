package dev.prism.sys;

/**
 * The {@code enum bpf_map_type} values Prism creates (include/uapi/linux/bpf.h). Per-CPU maps
 * are left out on purpose: from user space their value is {@code round_up(value_size, 8)} bytes
 * per possible CPU, a layout {@link LinuxBpf#mapLookup} and {@link LinuxBpf#mapUpdate} do not
 * speak.
 */
public enum MapType {
    HASH(1),
    ARRAY(2),
    LRU_HASH(9);

    private final int code;

    MapType(int code) {
        this.code = code;
    }

    /** {@return the kernel's numeric value, BPF_MAP_TYPE_*} */
    public int code() {
        return code;
    }
}
