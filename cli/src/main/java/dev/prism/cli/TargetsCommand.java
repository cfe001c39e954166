package dev.prism.cli;

import dev.prism.target.Availability;
import dev.prism.target.Target;
import dev.prism.target.Targets;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code prism targets}: what exists, what runs on this host, and why not. */
@Command(name = "targets", mixinStandardHelpOptions = true,
        description = "List the targets, whether each runs on this host (and why not), and what each is.")
final class TargetsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print one JSON document instead of the table.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<Target> targets = Targets.all();
        List<Availability> availability = targets.stream().map(Target::availability).toList();
        if (json) {
            List<Object> rows = new ArrayList<>();
            for (int i = 0; i < targets.size(); i++) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("id", targets.get(i).id());
                row.put("available", availability.get(i).available());
                row.put("reason", availability.get(i).reason());
                row.put("description", targets.get(i).description());
                rows.add(row);
            }
            out.print(Json.write(Map.of("targets", rows)));
        } else {
            int idWidth = Math.max("target".length(), targets.stream().mapToInt(t -> t.id().length()).max().orElse(0));
            int statusWidth = Math.max("status".length(), availability.stream().mapToInt(a -> a.toString().length()).max().orElse(0));
            String row = "%-" + idWidth + "s  %-" + statusWidth + "s  %s%n";
            out.printf(row, "target", "status", "description");
            for (int i = 0; i < targets.size(); i++) {
                out.printf(row, targets.get(i).id(), availability.get(i), targets.get(i).description());
            }
        }
        out.flush();
        return Main.EXIT_OK;
    }
}
