package dev.prism.perf;

import dev.prism.perf.BenchResult.Conditions;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads what the machine is doing while {@code prism bench} measures (Linux /proc and /sys):
 * the CPU frequency governors, the measuring thread's CPU affinity, kernel.bpf_stats_enabled
 * and the load average. Every file may be missing (another OS, a VM without cpufreq, a
 * container): each field then says why it is unknown instead of failing.
 */
public final class BenchConditions {
    private static final Path CPUS = Path.of("/sys/devices/system/cpu");
    private static final Path THREAD_STATUS = Path.of("/proc/thread-self/status");
    private static final Path SELF_STATUS = Path.of("/proc/self/status");
    private static final Path BPF_STATS = Path.of("/proc/sys/kernel/bpf_stats_enabled");
    private static final Path LOADAVG = Path.of("/proc/loadavg");

    private BenchConditions() {
    }

    /**
     * {@return the conditions now, read from the calling thread} (call it from the thread that
     * measures, after any pinning)
     *
     * @param pin    the CPU asked for, or null
     * @param timing how each kind of target is timed
     */
    public static Conditions read(Integer pin, List<String> timing) {
        String allowed = cpusAllowed();
        String[] load = loadavg();
        return new Conditions(governors(CPUS), allowed, isSingleCpu(allowed), pin, bpfStats(), load[0], null, load[1],
                timing);
    }

    /** {@return the 1, 5 and 15 minute load averages now, or why unknown} */
    public static String loadNow() {
        return loadavg()[0];
    }

    /** {@return "performance (2 CPUs)", "powersave (4 CPUs), performance (4 CPUs)", or why unknown} */
    static String governors(Path cpus) {
        Map<String, Integer> counts = new TreeMap<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(cpus, "cpu[0-9]*")) {
            for (Path cpu : dirs) {
                Path g = cpu.resolve("cpufreq/scaling_governor");
                if (Files.isReadable(g)) {
                    counts.merge(Files.readString(g).strip(), 1, Integer::sum);
                }
            }
        } catch (IOException | RuntimeException e) {
            return "unknown (" + cpus + " unreadable)";
        }
        if (counts.isEmpty()) {
            return "unknown (no cpufreq/scaling_governor: no frequency scaling exposed, e.g. a VM)";
        }
        StringBuilder sb = new StringBuilder();
        counts.forEach((g, n) -> sb.append(sb.isEmpty() ? "" : ", ").append(g).append(" (").append(n)
                .append(n == 1 ? " CPU)" : " CPUs)"));
        return sb.toString();
    }

    /** {@return the calling thread's Cpus_allowed_list, or why unknown} */
    static String cpusAllowed() {
        for (Path status : List.of(THREAD_STATUS, SELF_STATUS)) {
            try {
                for (String line : Files.readAllLines(status)) {
                    if (line.startsWith("Cpus_allowed_list:")) {
                        return line.substring(line.indexOf(':') + 1).strip();
                    }
                }
            } catch (IOException | RuntimeException e) {
                // the next, or unknown
            }
        }
        return "unknown";
    }

    /** {@return whether a Cpus_allowed_list names exactly one CPU ("3", not "0-1" nor "0,2")} */
    static boolean isSingleCpu(String list) {
        return list.matches("\\d+") || list.matches("(\\d+)-\\1");
    }

    private static String bpfStats() {
        try {
            return Files.readString(BPF_STATS).strip();
        } catch (IOException | RuntimeException e) {
            return "unknown (" + BPF_STATS + " unreadable)";
        }
    }

    /** {@return the load averages and the runnable/total field of /proc/loadavg, or why unknown} */
    private static String[] loadavg() {
        try {
            String[] f = Files.readString(LOADAVG).strip().split("\\s+");
            return new String[] {f[0] + " " + f[1] + " " + f[2], f.length > 3 ? f[3] : "unknown"};
        } catch (IOException | RuntimeException e) {
            return new String[] {"unknown (" + LOADAVG + " unreadable)", "unknown"};
        }
    }
}
