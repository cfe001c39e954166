package dev.prism.program;

import java.util.Objects;

/**
 * A map a program uses, as its object file defines it (BTF-defined {@code .maps}, the legacy
 * {@code maps} section, or a global-data section turned into a one-entry array).
 *
 * @param name        the map's symbol name ("flows"), or the section for global data (".bss")
 * @param type        the map type
 * @param keySize     key bytes (4 for arrays)
 * @param valueSize   value bytes
 * @param maxEntries  capacity (for RINGBUF: the buffer size in bytes)
 * @param flags       map_flags (BPF_F_NO_PREALLOC, BPF_F_RDONLY_PROG, ...)
 * @param initialData the initial value of entry 0 for global data ({@code .data}, {@code .rodata});
 *                    empty for ordinary maps and {@code .bss} (zeroed)
 * @param readOnly    whether the program may not write the values ({@code .rodata})
 * @param inner       ARRAY_OF_MAPS and HASH_OF_MAPS: the inner maps' template and the slots the
 *                    object initializes; null for every other type
 */
public record MapDef(String name, MapType type, int keySize, int valueSize, int maxEntries, int flags,
                     byte[] initialData, boolean readOnly, Inner inner) {
    /**
     * What a map-in-map holds (libbpf's {@code __array(values, struct inner)}): the definition
     * every inner map must match (Linux's {@code inner_map_fd} at BPF_MAP_CREATE) and the inner
     * maps the object puts in it ({@code .values = { [i] = &map }}), by the u32 key (the slot
     * index) and the name of a map of the same object. The runtime fills those slots when it
     * creates the maps, as libbpf does at load time.
     *
     * @param template the inner map definition (its name is "OUTER.inner")
     * @param slots    key -> inner map name
     */
    public record Inner(MapDef template, java.util.SortedMap<Integer, String> slots) {
        public Inner {
            Objects.requireNonNull(template);
            if (template.type().ofMaps()) {
                throw new IllegalArgumentException("map " + template.name() + ": not supported: a map-in-map inside a map-in-map");
            }
            slots = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(slots));
        }

        /**
         * {@return null when {@code map} may be an inner map of this template, else why not}:
         * Linux's bpf_map_meta_equal (type, key size, value size and map_flags equal) and, for
         * arrays created without BPF_F_INNER_MAP (1 << 12), array_map_meta_equal's equal max_entries
         */
        public String mismatch(MapDef map) {
            if (map.type() != template.type() || map.keySize() != template.keySize()
                    || map.valueSize() != template.valueSize() || map.flags() != template.flags()) {
                return "map " + map.name() + " (" + map + ") does not match the inner map template (" + template + ")";
            }
            boolean array = map.type() == MapType.ARRAY || map.type() == MapType.PERCPU_ARRAY;
            if (array && (template.flags() & (1 << 12)) == 0 && map.maxEntries() != template.maxEntries()) {
                return "array " + map.name() + " has max_entries " + map.maxEntries() + ", the inner map template "
                        + template.maxEntries() + " (and no BPF_F_INNER_MAP)";
            }
            return null;
        }
    }

    /** A definition without a map-in-map part. */
    public MapDef(String name, MapType type, int keySize, int valueSize, int maxEntries, int flags,
                  byte[] initialData, boolean readOnly) {
        this(name, type, keySize, valueSize, maxEntries, flags, initialData, readOnly, null);
    }

    public MapDef {
        Objects.requireNonNull(name);
        Objects.requireNonNull(type);
        if ((inner != null) != type.ofMaps()) {
            throw new IllegalArgumentException("map " + name + ": " + (inner == null
                    ? type.id() + " needs an inner map template" : type.id() + " holds no inner maps"));
        }
        initialData = initialData == null ? new byte[0] : initialData.clone();
        if (keySize < 0 || valueSize < 0 || maxEntries <= 0) {
            throw new IllegalArgumentException("map " + name + ": key size " + keySize + ", value size " + valueSize
                    + ", max_entries " + maxEntries);
        }
        if (initialData.length > valueSize) {
            throw new IllegalArgumentException("map " + name + ": initial data " + initialData.length
                    + " bytes exceeds value size " + valueSize);
        }
    }

    @Override
    public byte[] initialData() {
        return initialData.clone();
    }

    /** {@return a map-in-map of {@code type} (ARRAY_OF_MAPS, HASH_OF_MAPS): values are 4-byte map references} */
    public static MapDef ofMaps(String name, MapType type, int keySize, int maxEntries, int flags, Inner inner) {
        return new MapDef(name, type, keySize, 4, maxEntries, flags, null, false, inner);
    }

    /** {@return this definition with another name} */
    public MapDef withName(String newName) {
        return new MapDef(newName, type, keySize, valueSize, maxEntries, flags, initialData, readOnly, inner);
    }

    /** {@return an ordinary map} */
    public static MapDef of(String name, MapType type, int keySize, int valueSize, int maxEntries, int flags) {
        return new MapDef(name, type, keySize, valueSize, maxEntries, flags, null, false);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MapDef m && m.name.equals(name) && m.type == type && m.keySize == keySize
                && m.valueSize == valueSize && m.maxEntries == maxEntries && m.flags == flags
                && java.util.Arrays.equals(m.initialData, initialData) && m.readOnly == readOnly
                && Objects.equals(m.inner, inner);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, keySize, valueSize, maxEntries, flags, readOnly);
    }

    @Override
    public String toString() {
        return String.format("%s: %s key %d value %d max_entries %d%s", name, type.id(), keySize, valueSize, maxEntries,
                flags == 0 ? "" : String.format(" flags 0x%x", flags))
                + (inner == null ? "" : " of (" + inner.template() + ")" + (inner.slots().isEmpty() ? "" : " slots " + inner.slots()));
    }
}
