package dev.prism.nfp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.elf.ElfObject;
import dev.prism.error.TargetException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link NfpElf}'s two forms read back by Prism's ELF loader with the maps they were given (the
 * BTF form through {@code .BTF}, the legacy one through {@code bpf_map_def}), and the BTF form
 * refusing map flags it cannot carry. That {@code ip} takes the BTF form is NfpObjectIpTest's
 * (conformance).
 */
class NfpElfTest {
    private static final String ASM = """
            mov %r6, 0
            stxw [%r10-4], %r6
            lddw %r1, map_idx 0
            mov %r2, %r10
            add %r2, -4
            call 1
            lddw %r1, map_idx 1
            mov %r2, %r10
            add %r2, -4
            call 1
            mov %r0, 2
            exit
            """;

    private static Program program(List<MapDef> maps) {
        return Assembler.assemble("two", ProgramType.XDP, ASM).toBuilder().maps(maps).build();
    }

    @Test
    void bothFormsReadBackWithTheirMaps() {
        List<MapDef> maps = List.of(MapDef.of("counts", MapType.ARRAY, 4, 8, 64, 0),
                MapDef.of("flows-2", MapType.HASH, 16, 12, 1000, 0));
        Program p = program(maps);
        for (NfpElf.Form form : NfpElf.Form.values()) {
            byte[] bytes = NfpElf.write(p, form);
            String text = new String(bytes, StandardCharsets.ISO_8859_1);
            assertEquals(form == NfpElf.Form.BTF_MAPS, text.contains("\0.BTF\0"), form + ": .BTF");
            assertEquals(form == NfpElf.Form.BTF_MAPS, text.contains("\0.maps\0"), form + ": .maps");
            Program back = ElfObject.parse("two.o", bytes).program("xdp");
            assertEquals(p.length(), back.length(), form.toString());
            assertEquals(2, back.maps().size(), form.toString());
            List<Object> expected = List.of("counts", MapType.ARRAY, 4, 8, 64, 0, "flows_2", MapType.HASH, 16, 12, 1000, 0);
            List<Object> got = new java.util.ArrayList<>();
            for (MapDef m : back.maps()) {
                got.addAll(List.of(m.name(), m.type(), m.keySize(), m.valueSize(), m.maxEntries(), m.flags()));
            }
            assertEquals(expected, got, form.toString());
        }
    }

    @Test
    void theDefaultIsBtf() {
        Program p = program(List.of(MapDef.of("a", MapType.ARRAY, 4, 4, 1, 0), MapDef.of("b", MapType.ARRAY, 4, 4, 1, 0)));
        assertArrayEquals(NfpElf.write(p, NfpElf.Form.BTF_MAPS), NfpElf.write(p));
    }

    @Test
    void mapFlagsAreRefusedInTheBtfForm() {
        Program p = program(List.of(MapDef.of("a", MapType.HASH, 4, 4, 8, 1), MapDef.of("b", MapType.ARRAY, 4, 4, 1, 0)));
        TargetException e = assertThrows(TargetException.class, () -> NfpElf.write(p));
        assertTrue(e.getMessage().contains("not supported: map flags 0x1"), e.getMessage());
        assertEquals(1, ElfObject.parse("a.o", NfpElf.write(p, NfpElf.Form.LEGACY_MAPS)).program("xdp").maps().get(0).flags(),
                "the legacy form carries them");
    }
}
