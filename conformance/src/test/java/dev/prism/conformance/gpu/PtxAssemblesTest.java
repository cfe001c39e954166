package dev.prism.conformance.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.conformance.ConformanceCase;
import dev.prism.conformance.DataFileReader;
import dev.prism.conformance.Suites;
import dev.prism.gpu.PtxTarget;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.Verdict;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every RFC 9669 suite case the ptx target's check accepts, lowered to PTX and assembled by
 * {@code ptxas -arch=sm_90} (CUDA 13; requirement {@code ptxas}); every case it refuses has a
 * reason. Nothing runs: no GPU here (the CUDA executor is not written).
 */
class PtxAssemblesTest {
    private static final List<ConformanceCase> CASES = DataFileReader.readSuite(Suites.rfc9669());
    private static final PtxTarget PTX = new PtxTarget();

    @TestFactory
    Stream<DynamicTest> everyAcceptedCaseAssembles() {
        return CASES.stream().filter(c -> !c.isElf()).map(c -> DynamicTest.dynamicTest(c.name() + " [ptx]", () -> check(c)));
    }

    private static void check(ConformanceCase c) throws IOException, InterruptedException {
        Host.require("ptxas", Host.onPath("ptxas"), "ptxas (CUDA 13) is not on PATH");
        VerifiedProgram v;
        try {
            Program p = c.program();
            v = Verifier.verify(p, Profile.RFC9669, p.type() == ProgramType.RAW ? c.mem().length : -1, null);
        } catch (dev.prism.error.PrismException e) {
            Assumptions.abort("not verified: " + e.getMessage());
            return;
        }
        Verdict verdict = PTX.check(v);
        if (!verdict.ok()) {
            assertFalse(verdict.reasons().isEmpty());
            verdict.reasons().forEach(r -> assertFalse(r.sentence().isBlank(), "a refusal without a sentence"));
            Assumptions.abort("refused by ptx's check: " + verdict.message());
        }
        String ptx = PTX.compile(v).listing();
        assertTrue(ptx.contains(".target sm_90") && ptx.contains(".address_size 64"));
        Path dir = Files.createTempDirectory("prism-ptx");
        try {
            Path src = dir.resolve("k.ptx");
            Files.writeString(src, ptx, StandardCharsets.US_ASCII);
            Process proc = new ProcessBuilder("ptxas", "-arch=sm_90", "-o", dir.resolve("k.cubin").toString(), src.toString())
                    .redirectErrorStream(true).start();
            String log = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(proc.waitFor(60, TimeUnit.SECONDS), "ptxas timed out");
            assertEquals(0, proc.exitValue(), "ptxas refused the PTX of " + c.name() + ":\n" + log + "\n" + ptx);
        } finally {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }
}
