package dev.prism.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code prism} command (DESIGN.md, "Command line"). Build it with {@link #commandLine},
 * which installs the error handling every subcommand relies on: bad input is one line on
 * stderr and exit 2, never a stack trace.
 */
@Command(name = "prism", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Prism: one eBPF program, proven safe once, run anywhere.",
        subcommands = {TargetsCommand.class, AsmCommand.class, DisasmCommand.class, VerifyCommand.class, CompileCommand.class, RunCommand.class, PlanCommand.class,
                ConformanceCommand.class, PluginCommand.class, BenchCommand.class, CsdCommand.class, HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "0:success",
                "1:the answer is no: a trap, a failed conformance case, a target that refuses or is unavailable",
                "2:bad input: options, files, programs",
                "70:internal error (set PRISM_DEBUG=1 for the stack trace)"},
        footer = {"%nFILE is an ELF object (--section picks a program), assembler text (.s, .asm), "
                + "raw instructions (.bin) or hex text (--hex); 'prism help COMMAND' describes a command."})
public final class Main implements Callable<Integer> {
    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;
    /** EX_SOFTWARE from sysexits.h. */
    public static final int EXIT_INTERNAL = 70;

    @Spec
    CommandSpec spec;

    private final InputStream stdin;

    public Main() {
        this(System.in);
    }

    /** @param stdin what '-' and {@code prism plugin} read (tests pass their own) */
    public Main(InputStream stdin) {
        this.stdin = stdin;
    }

    InputStream stdin() {
        return stdin;
    }

    /** {@code prism} alone prints the usage. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return EXIT_OK;
    }

    /** {@return the command line over {@code main}, with Prism's error handling installed} */
    public static CommandLine commandLine(Main main) {
        ErrorHandler errors = new ErrorHandler();
        return new CommandLine(main)
                .setExecutionExceptionHandler(errors)
                .setParameterExceptionHandler(errors);
    }

    public static void main(String[] args) {
        CommandLine cl = commandLine(new Main());
        int exit = cl.execute(args);
        cl.getOut().flush();
        cl.getErr().flush();
        System.exit(exit);
    }

    /** The version from the jar's Maven metadata; "development build" when run from classes. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {
                    "prism " + projectVersion(),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
        }

        private static String projectVersion() {
            try (InputStream in = Main.class.getResourceAsStream("/META-INF/maven/dev.prism/cli/pom.properties")) {
                if (in != null) {
                    Properties p = new Properties();
                    p.load(in);
                    return p.getProperty("version", "(development build)");
                }
            } catch (IOException e) {
                // fall through: the version is a courtesy, not worth failing --version over
            }
            return "(development build)";
        }
    }
}
