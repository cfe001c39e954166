package dev.prism.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.perf.BenchResult.Conditions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the reports say about the machine: parsed from /sys and /proc layouts built here. */
class BenchConditionsTest {
    @Test
    void governorsAreCountedPerKind(@TempDir Path cpus) throws IOException {
        for (String[] cpu : List.of(new String[] {"cpu0", "performance"}, new String[] {"cpu1", "powersave"},
                new String[] {"cpu2", "performance"})) {
            Path f = Files.createDirectories(cpus.resolve(cpu[0]).resolve("cpufreq")).resolve("scaling_governor");
            Files.writeString(f, cpu[1] + "\n");
        }
        Files.createDirectories(cpus.resolve("cpufreq")); // not a CPU
        assertEquals("performance (2 CPUs), powersave (1 CPU)", BenchConditions.governors(cpus));
    }

    @Test
    void noCpufreqSaysSo(@TempDir Path cpus) throws IOException {
        Files.createDirectories(cpus.resolve("cpu0"));
        assertTrue(BenchConditions.governors(cpus).startsWith("unknown (no cpufreq"), BenchConditions.governors(cpus));
        assertTrue(BenchConditions.governors(cpus.resolve("missing")).startsWith("unknown ("));
    }

    @Test
    void pinnedMeansOneCpu() {
        assertTrue(BenchConditions.isSingleCpu("3"));
        assertTrue(BenchConditions.isSingleCpu("5-5"));
        assertFalse(BenchConditions.isSingleCpu("0-1"));
        assertFalse(BenchConditions.isSingleCpu("0,2"));
        assertFalse(BenchConditions.isSingleCpu("unknown"));
    }

    @Test
    void readsThisMachine() {
        Conditions c = BenchConditions.read(null, List.of("t"));
        assertFalse(c.cpusAllowed().isEmpty());
        assertFalse(c.loadBefore().isEmpty());
        assertEquals(List.of("t"), c.timing());
        assertEquals("1.00 2.00 3.00", c.withLoadAfter("1.00 2.00 3.00").loadAfter());
    }
}
