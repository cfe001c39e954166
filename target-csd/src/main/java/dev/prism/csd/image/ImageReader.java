package dev.prism.csd.image;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Bounds-checked little-endian reads over untrusted image bytes. Every failure is an
 * {@link ImageFormatException} naming the offset of the field that did not fit.
 */
final class ImageReader {
    private final byte[] b;
    private final int limit;
    private int pos;

    ImageReader(byte[] b, int limit) {
        this.b = b;
        this.limit = limit;
    }

    int pos() {
        return pos;
    }

    private void need(int n, String what) {
        if (n < 0 || limit - pos < n) {
            throw new ImageFormatException(pos, what + ": needs " + Integer.toUnsignedString(n) + " bytes, "
                    + (limit - pos) + " left");
        }
    }

    int u8(String what) {
        need(1, what);
        return b[pos++] & 0xff;
    }

    int u16(String what) {
        need(2, what);
        int v = (b[pos] & 0xff) | (b[pos + 1] & 0xff) << 8;
        pos += 2;
        return v;
    }

    /** A u32 that must fit a non-negative int (lengths, counts, sizes). */
    int u32(String what) {
        need(4, what);
        long v = (b[pos] & 0xffL) | (b[pos + 1] & 0xffL) << 8 | (b[pos + 2] & 0xffL) << 16 | (b[pos + 3] & 0xffL) << 24;
        if (v > Integer.MAX_VALUE) {
            throw new ImageFormatException(pos, what + " " + v + " is larger than " + Integer.MAX_VALUE);
        }
        pos += 4;
        return (int) v;
    }

    byte[] bytes(int n, String what) {
        need(n, what);
        byte[] out = new byte[n];
        System.arraycopy(b, pos, out, 0, n);
        pos += n;
        return out;
    }

    /** A u16 length then that many bytes of UTF-8 (at most {@code max} bytes). */
    String string(String what, int max) {
        int at = pos;
        int n = u16(what + " length");
        if (n > max) {
            throw new ImageFormatException(at, what + " is " + n + " bytes, at most " + max);
        }
        int start = pos;
        byte[] raw = bytes(n, what);
        try {
            CharBuffer cs = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw));
            return cs.toString();
        } catch (CharacterCodingException e) {
            throw new ImageFormatException(start, what + " is not UTF-8");
        }
    }

    /** A u16 count, checked against the bytes left at {@code minBytesEach} per element. */
    int count(String what, int minBytesEach, int max) {
        int at = pos;
        int n = u16(what);
        if (n > max) {
            throw new ImageFormatException(at, what + " " + n + " is more than " + max);
        }
        if ((long) n * minBytesEach > limit - pos) {
            throw new ImageFormatException(at, what + " " + n + " does not fit in the " + (limit - pos) + " bytes left");
        }
        return n;
    }
}
