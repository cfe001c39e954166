package dev.prism.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class StatsTest {
    @Test
    void medianOfAnOddCountIsTheMiddleOne() {
        Stats s = Stats.of(5.0, 1.0, 3.0, 100.0, 4.0);
        assertEquals(4.0, s.median());
        assertEquals(3.0, s.q1());
        assertEquals(5.0, s.q3());
        assertEquals(1.0, s.min());
        assertEquals(100.0, s.max());
        assertEquals(List.of(5.0, 1.0, 3.0, 100.0, 4.0), s.samples(), "samples keep the order measured");
    }

    @Test
    void medianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
        Stats s = Stats.of(4L, 1L, 2L, 3L);
        assertEquals(2.5, s.median());
        assertEquals(1.75, s.q1(), 1e-12, "interpolated between ranks 0 and 1");
        assertEquals(3.25, s.q3(), 1e-12);
    }

    @Test
    void oneSampleIsItsOwnEverything() {
        Stats s = Stats.of(7.0);
        assertEquals(7.0, s.median());
        assertEquals(7.0, s.q1());
        assertEquals(0.0, s.spreadPercent());
    }

    @Test
    void spreadIsHalfTheInterquartileRangeOverTheMedianAndIgnoresOneOutlier() {
        // q1 = 95, q3 = 105: +-5% around 100, whatever the one slow batch took
        assertEquals(5.0, Stats.of(90.0, 95.0, 100.0, 105.0, 10_000.0).spreadPercent(), 1e-9);
        assertEquals(0.0, Stats.of(0.0, 0.0).spreadPercent());
    }

    @Test
    void noSamplesIsAnError() {
        assertThrows(IllegalArgumentException.class, () -> Stats.of(new double[0]));
    }
}
