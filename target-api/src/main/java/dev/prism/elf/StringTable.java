package dev.prism.elf;

import dev.prism.error.ElfException;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;

/**
 * A table of NUL-terminated strings inside a byte array (an ELF string table, the BTF string
 * section). Lookups cost at most {@link #MAX_LENGTH} / 64 word steps, however the table is
 * laid out: the NUL positions are indexed once, so a hostile table of one long unterminated run
 * and many names pointing into it is not scanned again for every name.
 */
final class StringTable {
    /** Longest string accepted; names and BTF source lines are far shorter in practice. */
    static final int MAX_LENGTH = 1 << 16;

    private final byte[] data;
    private final int start;
    private final int size;
    private final String label;
    private final BitSet nuls;

    /**
     * @param data  the array holding the table
     * @param start where the table starts in {@code data}
     * @param size  its length in bytes; [start, start + size) must lie in {@code data}
     * @param label what to call the table in messages ("string table .strtab")
     */
    StringTable(byte[] data, long start, long size, String label) {
        this.data = data;
        this.start = (int) start;
        this.size = (int) size;
        this.label = label;
        this.nuls = new BitSet(this.size);
        for (int i = 0; i < this.size; i++) {
            if (data[this.start + i] == 0) {
                nuls.set(i);
            }
        }
    }

    long size() {
        return size;
    }

    /**
     * {@return the string at {@code off}}
     *
     * @param where the message prefix naming the referring field ("section header 3 @0x1140")
     * @throws ElfException when {@code off} is outside the table or the string has no NUL
     */
    String get(long off, String where) {
        if (off < 0 || off >= size) {
            throw ElfFile.error(where, String.format("name offset 0x%x is outside the %s (0x%x bytes)", off, label,
                    size));
        }
        int nul = nuls.nextSetBit((int) off);
        if (nul < 0) {
            throw ElfFile.error(where, String.format("name at offset 0x%x of the %s is not NUL-terminated", off, label));
        }
        if (nul - off > MAX_LENGTH) {
            throw ElfFile.error(where, String.format("name at offset 0x%x of the %s is longer than %d bytes", off, label,
                    MAX_LENGTH));
        }
        return new String(data, start + (int) off, nul - (int) off, StandardCharsets.UTF_8);
    }
}
