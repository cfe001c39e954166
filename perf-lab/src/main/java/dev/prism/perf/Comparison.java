package dev.prism.perf;

import dev.prism.perf.BenchResult.Floor;
import dev.prism.perf.BenchResult.Geomean;
import dev.prism.perf.BenchResult.PacketInfo;
import dev.prism.perf.BenchResult.ProgramResult;
import dev.prism.perf.BenchResult.Run;
import dev.prism.perf.BenchResult.TargetInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Derives what a comparison claims from what it measured: each run's floor-corrected time, its
 * ratio against the baseline target (of the medians, and paired round by round), and per
 * target and packet the geometric mean of the median ratios over the programs (see
 * {@link Ratios} for why the floor is subtracted).
 */
public final class Comparison {
    private Comparison() {
    }

    /**
     * {@return {@code measured} with every run's floor, corrected time and ratios, and the
     * geometric means, filled in}; the measurements themselves are kept as they are
     */
    public static BenchResult derive(BenchResult measured) {
        String baseline = measured.settings().baseline();
        List<ProgramResult> programs = new ArrayList<>();
        for (ProgramResult p : measured.programs()) {
            List<Run> runs = new ArrayList<>();
            for (Run r : p.runs()) {
                runs.add(derive(measured, p, r, baseline));
            }
            programs.add(new ProgramResult(p.name(), p.instructions(), p.programs(), runs, p.compile()));
        }
        List<Geomean> geomeans = new ArrayList<>();
        for (TargetInfo t : measured.targets()) {
            for (PacketInfo packet : measured.packets()) {
                List<Double> ratios = programs.stream()
                        .map(p -> p.run(t.id(), packet.label()))
                        .flatMap(Optional::stream)
                        .map(Run::ratio)
                        .filter(r -> r != null)
                        .toList();
                geomeans.add(new Geomean(t.id(), packet.label(), ratios.isEmpty() ? null : Ratios.geomean(ratios),
                        ratios.size()));
            }
        }
        return new BenchResult(measured.host(), measured.settings(), measured.targets(), measured.packets(),
                measured.floors(), programs, geomeans, measured.conditions());
    }

    private static Run derive(BenchResult measured, ProgramResult p, Run r, String baseline) {
        if (!r.measurement().ok()) {
            return Run.of(r.target(), r.packet(), r.measurement());
        }
        double t = r.measurement().ns().median();
        Double floor = floorOf(measured, r.target(), r.packet());
        Double corrected = floor == null ? null : Ratios.corrected(t, floor);
        boolean atFloor = floor != null && Ratios.atFloor(t, floor);
        Double ratio = null;
        Double rawRatio = null;
        boolean baselineAtFloor = false;
        Double pairedRatio = null;
        Optional<Run> base = p.run(baseline, r.packet()).filter(b -> b.measurement().ok());
        if (base.isPresent()) {
            double b = base.get().measurement().ns().median();
            if (t > 0 && b > 0) {
                rawRatio = Ratios.ratio(t, b);
            }
            Double baseFloor = floorOf(measured, baseline, r.packet());
            if (corrected != null && baseFloor != null) {
                ratio = Ratios.ratio(corrected, Ratios.corrected(b, baseFloor));
                baselineAtFloor = Ratios.atFloor(b, baseFloor);
                pairedRatio = Ratios.pairedRatio(r.measurement().ns().samples(),
                        floorSamples(measured, r.target(), r.packet()), base.get().measurement().ns().samples(),
                        floorSamples(measured, baseline, r.packet()));
            }
        }
        return new Run(r.target(), r.packet(), r.measurement(), floor, corrected, atFloor, ratio, rawRatio,
                baselineAtFloor, pairedRatio);
    }

    /** {@return the floor's batches on {@code target} and {@code packet}, in round order; empty when not measured} */
    private static List<Double> floorSamples(BenchResult measured, String target, String packet) {
        return measured.floor(target, packet)
                .map(Floor::measurement)
                .filter(BenchResult.Measurement::ok)
                .map(m -> m.ns().samples())
                .orElse(List.of());
    }

    private static Double floorOf(BenchResult measured, String target, String packet) {
        return measured.floor(target, packet)
                .map(Floor::measurement)
                .filter(BenchResult.Measurement::ok)
                .map(m -> m.ns().median())
                .orElse(null);
    }
}
