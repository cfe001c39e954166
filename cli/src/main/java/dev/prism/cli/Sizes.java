package dev.prism.cli;

import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Byte counts and numbers as the csd commands take them: decimal or 0x hex, with K, M or G (powers of 1024). */
final class Sizes {
    private Sizes() {
    }

    /** {@return the number {@code text} spells} @throws IllegalArgumentException saying why not */
    static long parse(String text) {
        String t = text.strip().toUpperCase(Locale.ROOT);
        int shift = 0;
        if (!t.startsWith("0X") && !t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'K' -> shift = 10;
                case 'M' -> shift = 20;
                case 'G' -> shift = 30;
                default -> {
                }
            }
        }
        if (shift != 0) {
            t = t.substring(0, t.length() - 1);
        }
        long v;
        try {
            v = t.startsWith("0X") ? Long.parseUnsignedLong(t.substring(2), 16) : Long.parseLong(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a number: '" + text + "'");
        }
        if (shift != 0 && (v < 0 || v > (Long.MAX_VALUE >> shift))) {
            throw new IllegalArgumentException("too large: '" + text + "'");
        }
        return v << shift;
    }

    static final class Converter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
