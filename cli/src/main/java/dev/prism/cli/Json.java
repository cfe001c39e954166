package dev.prism.cli;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Writes the command line's own small JSON documents ({@code run --json}, {@code targets --json}).
 * Values are strings, numbers, booleans, lists and maps; maps keep their insertion order. Reports
 * come from {@code dev.prism.conformance.Report}, which has its own writer.
 */
final class Json {
    private Json() {
    }

    /** {@return the value as indented JSON text, with a final newline} */
    static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, "");
        return sb.append('\n').toString();
    }

    /** A number written as its text, such as an unsigned 64-bit value that a {@code long} cannot hold. */
    record Raw(String text) {
    }

    private static void write(StringBuilder sb, Object value, String indent) {
        switch (value) {
            case null -> sb.append("null");
            case String s -> string(sb, s);
            case Raw r -> sb.append(r.text());
            case Number n -> sb.append(n);
            case Boolean b -> sb.append(b);
            case Map<?, ?> m -> container(sb, '{', '}', m.entrySet().iterator(), indent, (e, in) -> {
                Map.Entry<?, ?> entry = (Map.Entry<?, ?>) e;
                string(sb, entry.getKey().toString());
                sb.append(": ");
                write(sb, entry.getValue(), in);
            });
            case List<?> l -> container(sb, '[', ']', l.iterator(), indent, (e, in) -> write(sb, e, in));
            default -> throw new IllegalStateException("no JSON form for " + value.getClass());
        }
    }

    private interface Element {
        void write(Object element, String indent);
    }

    private static void container(StringBuilder sb, char open, char close, Iterator<?> it, String indent, Element element) {
        sb.append(open);
        if (!it.hasNext()) {
            sb.append(close);
            return;
        }
        String inner = indent + "  ";
        while (it.hasNext()) {
            sb.append('\n').append(inner);
            element.write(it.next(), inner);
            if (it.hasNext()) {
                sb.append(',');
            }
        }
        sb.append('\n').append(indent).append(close);
    }

    private static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
