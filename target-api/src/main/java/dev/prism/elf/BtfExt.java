package dev.prism.elf;

import static dev.prism.elf.ElfFile.fits;
import static dev.prism.elf.ElfFile.u16;
import static dev.prism.elf.ElfFile.u32;
import static dev.prism.elf.ElfFile.u8;

import dev.prism.error.ElfException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code .BTF.ext}: per-section function info and line info (Linux Documentation/bpf/btf.rst,
 * section 4.2). CO-RE relocations, which may follow, are not read.
 *
 * <pre>
 *   header      u16 magic 0xeb9f | u8 version 1 | u8 flags | u32 hdr_len
 *               u32 func_info_off | u32 func_info_len | u32 line_info_off | u32 line_info_len
 *               (offsets count from the end of the header)
 *   subsection  u32 rec_size, then per section:
 *               u32 sec_name_off (a .BTF string) | u32 num_info | num_info records of rec_size bytes
 *   func_info   u32 insn_off (bytes) | u32 type_id
 *   line_info   u32 insn_off (bytes) | u32 file_name_off | u32 line_off | u32 line_col (line:22, col:10)
 * </pre>
 *
 * In an object file {@code insn_off} is a byte offset in the named section (libbpf divides it by
 * 8 when it loads the program); {@code .rel.BTF.ext} carries R_BPF_64_NODYLD32 relocations
 * against the section symbols for these fields, which add 0 because section symbols have value 0.
 */
final class BtfExt {
    /** One line_info record, its strings resolved; {@code at} is where it lies in .BTF.ext. */
    record Line(long at, long insnOff, String file, String text, int line, int column) {
    }

    /** One func_info record. */
    record Func(long at, long insnOff, int typeId) {
    }

    private static final int HEADER_MIN = 24;
    private static final int FUNC_REC_MIN = 8;
    private static final int LINE_REC_MIN = 16;

    private final Map<String, List<Line>> lines = new LinkedHashMap<>();
    private final Map<String, List<Func>> funcs = new LinkedHashMap<>();

    private BtfExt() {
    }

    /** {@return the parsed .BTF.ext, its strings resolved through {@code btf}} @throws ElfException */
    static BtfExt parse(ElfFile.Section section, byte[] data, Btf btf) {
        BtfExt ext = new BtfExt();
        if (data.length < HEADER_MIN) {
            throw ElfFile.error(section.where(), ".BTF.ext header needs 24 bytes, section has " + data.length);
        }
        int magic = u16(data, 0);
        if (magic != Btf.MAGIC) {
            throw ElfFile.error(section.where(), String.format("bad .BTF.ext magic 0x%04x (want 0xeb9f)", magic));
        }
        if (u8(data, 2) != 1) {
            throw ElfFile.error(section.where(2), ".BTF.ext version " + u8(data, 2) + ", only 1 is known");
        }
        long hdrLen = u32(data, 4);
        if (hdrLen < HEADER_MIN || hdrLen > data.length) {
            throw ElfFile.error(section.where(4), ".BTF.ext hdr_len " + hdrLen + " is outside 24.." + data.length);
        }
        if (btf == null) {
            throw ElfFile.error(section.where(), ".BTF.ext needs a .BTF section for its strings, and there is none");
        }
        long body = data.length - hdrLen;
        ext.subsection(section, data, hdrLen, body, u32(data, 8), u32(data, 12), 8, FUNC_REC_MIN, "func_info", btf);
        ext.subsection(section, data, hdrLen, body, u32(data, 16), u32(data, 20), 16, LINE_REC_MIN, "line_info", btf);
        return ext;
    }

    /** {@return line records by section name, in file order} */
    List<Line> lines(String sectionName) {
        return lines.getOrDefault(sectionName, List.of());
    }

    /** {@return func_info records by section name, in file order} */
    List<Func> funcs(String sectionName) {
        return funcs.getOrDefault(sectionName, List.of());
    }

    private static String string(Btf btf, long off, String where, String what) {
        try {
            return btf.string(off);
        } catch (ElfException e) {
            throw ElfFile.error(where, what + ": " + e.getMessage());
        }
    }

    private void subsection(ElfFile.Section section, byte[] data, long hdrLen, long body, long off, long len,
                            int headerField, int minRecord, String what, Btf btf) {
        if (len == 0) {
            return;
        }
        if (!fits(off, len, body)) {
            throw ElfFile.error(section.where(headerField), String.format(
                    "%s at 0x%x (0x%x bytes) is outside the 0x%x bytes after the header", what, off, len, body));
        }
        long p = hdrLen + off;
        long end = p + len;
        if (len < 4) {
            throw ElfFile.error(section.where(p), what + " is " + len + " bytes, too short for its record size");
        }
        long recSize = u32(data, p);
        if (recSize < minRecord || recSize > len || (recSize & 3) != 0) {
            throw ElfFile.error(section.where(p), what + " record size " + recSize + " (must be a multiple of 4, at least "
                    + minRecord + ")");
        }
        p += 4;
        while (p < end) {
            if (end - p < 8) {
                throw ElfFile.error(section.where(p), what + ": truncated section header (" + (end - p) + " bytes left)");
            }
            String secName = string(btf, u32(data, p), section.where(p), what + " section name");
            long n = u32(data, p + 4);
            p += 8;
            if (n == 0 || n > (end - p) / recSize) {
                throw ElfFile.error(section.where(p - 4), String.format("%s for section '%s': %d records of %d bytes "
                        + "do not fit in the 0x%x bytes left", what, secName, n, recSize, end - p));
            }
            for (long i = 0; i < n; i++, p += recSize) {
                long insnOff = u32(data, p);
                if (minRecord == LINE_REC_MIN) {
                    String file = string(btf, u32(data, p + 4), section.where(p + 4), what + " file name");
                    String text = string(btf, u32(data, p + 8), section.where(p + 8), what + " line text");
                    long lineCol = u32(data, p + 12);
                    lines.computeIfAbsent(secName, k -> new ArrayList<>())
                            .add(new Line(section.offset() + p, insnOff, file, text, (int) (lineCol >>> 10),
                                    (int) (lineCol & 0x3ff)));
                } else {
                    funcs.computeIfAbsent(secName, k -> new ArrayList<>())
                            .add(new Func(section.offset() + p, insnOff, (int) u32(data, p + 4)));
                }
            }
        }
    }
}
