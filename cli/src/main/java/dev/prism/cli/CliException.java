package dev.prism.cli;

/**
 * A failure the command line reports as one line on stderr ({@code prism: MESSAGE}) with its
 * exit code: {@link Main#EXIT_USAGE} for bad input, {@link Main#EXIT_FAILED} when the input was
 * fine but the answer is no (a target refused or is unavailable).
 */
final class CliException extends RuntimeException {
    private final int exitCode;

    CliException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    CliException(String message, int exitCode, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    /** {@return bad input: exit 2} */
    static CliException usage(String message) {
        return new CliException(message, Main.EXIT_USAGE);
    }

    int exitCode() {
        return exitCode;
    }
}
