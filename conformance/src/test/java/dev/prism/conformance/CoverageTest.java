package dev.prism.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.isa.Opcode;
import dev.prism.isa.Opcodes;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The suite covers every row of the RFC 9669 instruction registry: an opcode with no test fails the build. */
class CoverageTest {

    @Test
    void everyRegistryOpcodeHasATest() {
        List<ConformanceCase> cases = DataFileReader.readSuite(Suites.rfc9669());
        List<Opcode> missing = Coverage.missing(cases);
        assertTrue(missing.isEmpty(), () -> missing.size() + " registry rows have no conformance test:\n  "
                + missing.stream().map(Opcode::toString).collect(Collectors.joining("\n  ")));
        assertEquals(Opcodes.all().size(), Coverage.covered(cases).size());
    }

    @Test
    void coverageSeesAMissingOpcode() {
        ConformanceCase onlyMov = DataFileReader.parse(java.nio.file.Path.of("t.data"), "t.data",
                "-- asm\nmov %r0, 1\nexit\n-- result\n0x1\n");
        List<Opcode> missing = Coverage.missing(List.of(onlyMov));
        assertEquals(Opcodes.all().size() - 2, missing.size());
    }
}
