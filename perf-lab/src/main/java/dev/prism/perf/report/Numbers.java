package dev.prism.perf.report;

import java.util.Locale;

/** How the reports write numbers: enough digits to compare, no more. */
final class Numbers {
    private Numbers() {
    }

    /** {@return nanoseconds: "3.25", "41.7", "1,234"} */
    static String ns(double ns) {
        double a = Math.abs(ns);
        if (a < 10) {
            return String.format(Locale.ROOT, "%.2f", ns);
        }
        if (a < 100) {
            return String.format(Locale.ROOT, "%.1f", ns);
        }
        return String.format(Locale.ROOT, "%,.0f", ns);
    }

    /** {@return a duration in the unit that suits it: "850 ns", "12.3 µs", "4.56 ms"} */
    static String duration(double ns) {
        if (ns < 1_000) {
            return ns(ns) + " ns";
        }
        if (ns < 1_000_000) {
            return significant(ns / 1_000) + " µs";
        }
        if (ns < 1_000_000_000) {
            return significant(ns / 1_000_000) + " ms";
        }
        return significant(ns / 1_000_000_000) + " s";
    }

    /** {@return a ratio: "0.84×", "12.3×", "140×"} */
    static String ratio(double r) {
        return significant(r) + "×";
    }

    /** {@return "±1.2%"} */
    static String spread(double percent) {
        return String.format(Locale.ROOT, "±%.1f%%", percent);
    }

    /** Three significant digits for values from 0.01 up, whole numbers above 100. */
    private static String significant(double v) {
        double a = Math.abs(v);
        if (a < 10) {
            return String.format(Locale.ROOT, "%.2f", v);
        }
        if (a < 100) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%,.0f", v);
    }
}
