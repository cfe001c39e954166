package dev.prism.cli;

import java.util.HexFormat;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Hex text as the command line reads and writes it: bytes as pairs of digits, whitespace allowed. */
final class Hex {
    private static final HexFormat HEX = HexFormat.of();
    private static final HexFormat SPACED = HexFormat.ofDelimiter(" ");

    private Hex() {
    }

    /** {@return the bytes {@code text} spells} @throws IllegalArgumentException naming the offending character */
    static byte[] parse(String text) {
        StringBuilder digits = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.digit(c, 16) >= 0) {
                digits.append(c);
            } else if (!Character.isWhitespace(c)) {
                throw new IllegalArgumentException("expected hex bytes (pairs of 0-9a-f, whitespace allowed), found '"
                        + c + "' at character " + (i + 1));
            }
        }
        if (digits.length() % 2 != 0) {
            throw new IllegalArgumentException("expected hex bytes (pairs of 0-9a-f, whitespace allowed), found an odd number of digits ("
                    + digits.length() + ")");
        }
        return HEX.parseHex(digits);
    }

    /** {@return the bytes as one run of lowercase digits} */
    static String compact(byte[] bytes) {
        return HEX.formatHex(bytes);
    }

    /** {@return the bytes of a program, one 8-byte instruction slot per line, bytes separated by spaces} */
    static String slots(byte[] code) {
        StringBuilder sb = new StringBuilder();
        for (int at = 0; at < code.length; at += 8) {
            sb.append(SPACED.formatHex(code, at, Math.min(code.length, at + 8))).append('\n');
        }
        return sb.toString();
    }

    /**
     * Bytes given as one hex option value. A record rather than {@code byte[]}, which picocli
     * would take for an option repeated once per byte.
     */
    record Bytes(byte[] value) {
        static final Bytes NONE = new Bytes(new byte[0]);
    }

    /** Reads option values such as {@code --mem 0102}. */
    static final class Converter implements ITypeConverter<Bytes> {
        @Override
        public Bytes convert(String value) {
            try {
                return new Bytes(parse(value));
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
