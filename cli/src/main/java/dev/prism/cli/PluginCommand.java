package dev.prism.cli;

import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.Target;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code prism plugin}: the bpf_conformance plugin protocol, so that suite's own runner can drive
 * any Prism target ({@code bpf_conformance_runner --plugin_path prism --plugin_options
 * "plugin --target x86-64"}). The protocol: the program arrives on stdin as hex bytes, the input
 * memory as the first argument in hex; the answer is r0 in lowercase hex without a prefix and
 * exit 0, or a message on stderr and exit 1 for any failure (the suite's error cases expect one).
 */
@Command(name = "plugin", mixinStandardHelpOptions = true,
        description = {"Act as a bpf_conformance plugin: read the program as hex from stdin, run it with "
                + "MEMORY_HEX as input memory, print r0 in hex (no 0x).",
                "Any failure prints a message on stderr and exits 1."})
final class PluginCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ParentCommand
    Main main;

    @Option(names = {"-t", "--target"}, paramLabel = "T", defaultValue = "interpreter",
            description = "The target to run on (default: ${DEFAULT-VALUE}).")
    String targetId;

    @Parameters(index = "0", arity = "0..1", paramLabel = "MEMORY_HEX", defaultValue = "",
            description = "Input memory as hex bytes (none when absent).")
    String memoryHex;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        long r0;
        try {
            byte[] mem = Hex.parse(memoryHex);
            byte[] code = Hex.parse(new String(main.stdin().readAllBytes(), StandardCharsets.US_ASCII));
            Program program = Program.decode("plugin", ProgramType.RAW, code);
            Target target = TargetLookup.available(targetId);
            try (Executable exe = target.load(java.util.List.of(program))) {
                r0 = exe.run(RunInput.ofMem(mem)).r0();
            }
        } catch (IOException | RuntimeException e) {
            // The protocol has one failure answer; the message is what the suite matches "-- error" against.
            err.println(e.getMessage() == null ? e.toString() : e.getMessage());
            err.flush();
            return Main.EXIT_FAILED;
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(Long.toHexString(r0) + "\n");
        out.flush();
        return Main.EXIT_OK;
    }
}
