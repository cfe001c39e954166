package dev.prism.cli;

import dev.prism.error.TargetException;
import dev.prism.program.Program;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code prism run}: one program on one target. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run a program on a target and print r0 (and the memory, when the program changed it).",
                "A trap (an access outside every region, a call too deep, the instruction budget spent) "
                        + "ends the run with exit 1."})
final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ParentCommand
    Main main;

    @Mixin
    ProgramFile input;

    @Option(names = {"-t", "--target"}, paramLabel = "T", defaultValue = "interpreter",
            description = "The target to run on (default: ${DEFAULT-VALUE}; 'prism targets' lists them).")
    String targetId;

    @Option(names = "--mem", paramLabel = "HEX", converter = Hex.Converter.class,
            description = "Memory r1 points to (r2 holds its length), as hex bytes, for example 0102ff.")
    Hex.Bytes memOption = Hex.Bytes.NONE;

    @Option(names = "--repeat", paramLabel = "N",
            description = "After one warm-up run, run N more times and print the mean time per run.")
    Integer repeat;

    @Option(names = "--json", description = "Print one JSON document: r0, r0_hex, mem_after, ns_per_run.")
    boolean json;

    @Override
    public Integer call() {
        if (repeat != null && repeat < 1) {
            throw CliException.usage("--repeat must be at least 1, not " + repeat);
        }
        byte[] mem = memOption.value();
        Program program = input.load(main.stdin());
        Target target = TargetLookup.available(targetId);
        RunInput runInput = RunInput.ofMem(mem);
        RunResult result;
        Double nsPerRun = null;
        try (Executable exe = target.compile(program).load()) {
            result = exe.run(runInput);
            if (repeat != null) {
                long start = System.nanoTime();
                for (int i = 0; i < repeat; i++) {
                    exe.run(runInput);
                }
                nsPerRun = (System.nanoTime() - start) / (double) repeat;
            }
        } catch (TargetException e) {
            throw new CliException(target.id() + ": " + e.getMessage(), Main.EXIT_FAILED, e);
        }
        print(mem, result, nsPerRun);
        return Main.EXIT_OK;
    }

    private void print(byte[] mem, RunResult result, Double nsPerRun) {
        PrintWriter out = spec.commandLine().getOut();
        long r0 = result.r0();
        byte[] after = result.memAfter();
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("r0", new Json.Raw(Long.toUnsignedString(r0)));
            doc.put("r0_hex", "0x" + Long.toHexString(r0));
            if (mem.length > 0) {
                doc.put("mem_after", Hex.compact(after));
            }
            if (nsPerRun != null) {
                doc.put("ns_per_run", Math.round(nsPerRun * 10) / 10.0);
            }
            out.print(Json.write(doc));
        } else {
            out.println("r0 = 0x" + Long.toHexString(r0) + " (" + Long.toUnsignedString(r0)
                    + (r0 < 0 ? ", signed " + r0 : "") + ")");
            if (!Arrays.equals(after, mem)) {
                out.println("mem after: " + Hex.compact(after));
            }
            if (nsPerRun != null) {
                out.printf("ns per run: %.1f (%d runs after 1 warm-up)%n", nsPerRun, repeat);
            }
        }
        out.flush();
    }
}
