package dev.prism.cli;

import dev.prism.error.PrismException;
import dev.prism.error.TargetException;
import dev.prism.error.TrapException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Turns every failure into one line on stderr and an exit code (DESIGN.md, "Command line":
 * never a stack trace for bad input). Only an exception nobody anticipated is an internal error,
 * and only {@code PRISM_DEBUG=1} shows its stack trace.
 */
final class ErrorHandler implements IExecutionExceptionHandler, IParameterExceptionHandler {
    /** A failure as the user sees it. */
    private record Failure(String message, int exitCode) {
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
        PrintWriter err = cmd.getErr();
        Failure f = classify(ex);
        if (f != null) {
            err.println("prism: " + f.message());
        } else if ("1".equals(System.getenv("PRISM_DEBUG"))) {
            ex.printStackTrace(err);
        } else {
            err.println("prism: internal error: " + ex + "; set PRISM_DEBUG=1 for the stack trace");
        }
        err.flush();
        return f != null ? f.exitCode() : Main.EXIT_INTERNAL;
    }

    /** {@return how a failure reads to the user, or null when it is a defect in Prism} */
    private static Failure classify(Throwable ex) {
        return switch (ex) {
            case CliException e -> new Failure(e.getMessage(), e.exitCode());
            case TrapException e -> new Failure("trap: " + e.getMessage(), Main.EXIT_FAILED);
            case TargetException e -> new Failure(e.getMessage(), Main.EXIT_FAILED);
            // MalformedProgramException, AssemblerException: the input is wrong
            case PrismException e -> new Failure(e.getMessage(), Main.EXIT_USAGE);
            case NoSuchFileException e -> new Failure("cannot read " + e.getFile() + ": no such file", Main.EXIT_USAGE);
            case AccessDeniedException e -> new Failure("cannot read " + e.getFile() + ": permission denied", Main.EXIT_USAGE);
            case IOException e -> new Failure("i/o error: " + messageOf(e), Main.EXIT_USAGE);
            case UncheckedIOException e -> classify(e.getCause());
            // SuiteFormatException, unknown cpu versions, groups and program types, bad paths
            case IllegalArgumentException e -> new Failure(messageOf(e), Main.EXIT_USAGE);
            default -> null;
        };
    }

    private static String messageOf(Throwable e) {
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    /** Bad options and arguments: the message, suggestions for a misspelling, where to find help. */
    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("prism: " + ex.getMessage());
        UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return Main.EXIT_USAGE;
    }
}
