package dev.prism.cli;

import dev.prism.error.TargetException;
import dev.prism.target.Availability;
import dev.prism.target.Target;
import dev.prism.target.Targets;
import java.util.ArrayList;
import java.util.List;

/** Targets named on the command line. */
final class TargetLookup {
    private TargetLookup() {
    }

    /** {@return the target called {@code id}} @throws CliException (exit 2) naming the known ids */
    static Target byId(String id) {
        try {
            return Targets.byId(id);
        } catch (TargetException e) {
            throw CliException.usage(e.getMessage());
        }
    }

    /** {@return the target called {@code id}} @throws CliException (exit 1) when this host cannot run it */
    static Target available(String id) {
        Target t = byId(id);
        Availability a = t.availability();
        if (!a.available()) {
            throw new CliException("target " + t.id() + " is unavailable: " + a.reason(), Main.EXIT_FAILED);
        }
        return t;
    }

    /** {@return the targets in a comma-separated list, or every target for "all"} */
    static List<Target> list(String ids) {
        if (ids.strip().equals("all")) {
            return Targets.all();
        }
        List<Target> out = new ArrayList<>();
        for (String id : ids.split(",")) {
            if (!id.isBlank()) {
                Target t = byId(id.strip());
                if (!out.contains(t)) {
                    out.add(t);
                }
            }
        }
        if (out.isEmpty()) {
            throw CliException.usage("no target named in '" + ids + "'");
        }
        return out;
    }
}
