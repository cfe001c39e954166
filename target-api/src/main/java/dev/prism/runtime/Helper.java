package dev.prism.runtime;

/**
 * A helper function the program may call with {@code call imm}. Arguments arrive in r1-r5, the
 * result goes to r0. Helpers reach program memory only through {@link HelperContext}, which
 * checks every access like the interpreter does.
 */
@FunctionalInterface
public interface Helper {
    long call(HelperContext ctx, long r1, long r2, long r3, long r4, long r5);
}
