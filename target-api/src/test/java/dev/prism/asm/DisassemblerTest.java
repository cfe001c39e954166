package dev.prism.asm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.prism.program.Function;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.program.SourceLine;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DisassemblerTest {
    private static final String TEXT = """
            lddw %r1, map_idx 0
            lddw %r2, map_value_idx 1, 16
            lddw %r3, map_value_idx 1, 0
            call local +2
            jeq %r0, 0, +0
            exit
            mov %r0, 1
            lddw %r4, code +1
            exit
            """;

    private static Program plain() {
        return Assembler.assemble("p", ProgramType.XDP, TEXT);
    }

    @Test
    void aProgramWithoutMapsOrFunctionsIsListedAsBefore() {
        assertEquals("""
                 0: lddw %r1, map_idx 0
                 2: lddw %r2, map_value_idx 1, 16
                 4: lddw %r3, map_value_idx 1, 0
                 6: call local +2  # -> 9
                 7: jeq %r0, 0, +0  # -> 8
                 8: exit
                 9: mov %r0, 1
                10: lddw %r4, code +1  # -> 12
                12: exit
                """, Disassembler.listing(plain()));
        assertEquals(Disassembler.listing(plain()), Disassembler.listing(plain(), true), "no line info: nothing added");
    }

    @Test
    void mapsFunctionsAndSourceLinesAreNamed() {
        Program p = plain().toBuilder()
                .maps(List.of(MapDef.of("flows", MapType.HASH, 4, 8, 16, 0),
                        new MapDef(".rodata", MapType.ARRAY, 4, 32, 1, 0, new byte[32], true)))
                .functions(List.of(new Function("entry", 0), new Function("helper", 9), new Function("callback", 12)))
                .lines(Map.of(0, new SourceLine("p.c", 3, 5, "  int x = f();  "), 4, new SourceLine("p.c", 3, 9, ""),
                        6, new SourceLine("p.c", 4, 1, ""), 9, new SourceLine("p.c", 10, 1, "return 1;")))
                .build();
        String withoutSource = """
                entry:
                 0: lddw %r1, map_idx 0  # map flows
                 2: lddw %r2, map_value_idx 1, 16  # map .rodata + 16
                 4: lddw %r3, map_value_idx 1, 0  # map .rodata
                 6: call local +2  # -> 9 <helper>
                 7: jeq %r0, 0, +0  # -> 8
                 8: exit
                helper:
                 9: mov %r0, 1
                10: lddw %r4, code +1  # -> 12 <callback>
                callback:
                12: exit
                """;
        assertEquals(withoutSource, Disassembler.listing(p));
        assertEquals("""
                entry:
                ; p.c:3: int x = f();
                 0: lddw %r1, map_idx 0  # map flows
                 2: lddw %r2, map_value_idx 1, 16  # map .rodata + 16
                 4: lddw %r3, map_value_idx 1, 0  # map .rodata
                ; p.c:4
                 6: call local +2  # -> 9 <helper>
                 7: jeq %r0, 0, +0  # -> 8
                 8: exit
                helper:
                ; p.c:10: return 1;
                 9: mov %r0, 1
                10: lddw %r4, code +1  # -> 12 <callback>
                callback:
                ; p.c:10: return 1;
                12: exit
                """, Disassembler.listing(p, true));
    }
}
