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
 */
public record MapDef(String name, MapType type, int keySize, int valueSize, int maxEntries, int flags,
                     byte[] initialData, boolean readOnly) {
    public MapDef {
        Objects.requireNonNull(name);
        Objects.requireNonNull(type);
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

    /** {@return an ordinary map} */
    public static MapDef of(String name, MapType type, int keySize, int valueSize, int maxEntries, int flags) {
        return new MapDef(name, type, keySize, valueSize, maxEntries, flags, null, false);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MapDef m && m.name.equals(name) && m.type == type && m.keySize == keySize
                && m.valueSize == valueSize && m.maxEntries == maxEntries && m.flags == flags
                && java.util.Arrays.equals(m.initialData, initialData) && m.readOnly == readOnly;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, keySize, valueSize, maxEntries, flags, readOnly);
    }

    @Override
    public String toString() {
        return String.format("%s: %s key %d value %d max_entries %d%s", name, type.id(), keySize, valueSize, maxEntries,
                flags == 0 ? "" : String.format(" flags 0x%x", flags));
    }
}
