package dev.prism.csd.image;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Little-endian writes for {@link FirmwareImage#bytes()}; the inverse of {@link ImageReader}. */
final class ImageWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    void u8(int v) {
        out.write(v);
    }

    void u16(int v) {
        if (v < 0 || v > 0xffff) {
            throw new IllegalArgumentException("does not fit a u16: " + v);
        }
        out.write(v);
        out.write(v >>> 8);
    }

    void u32(int v) {
        if (v < 0) {
            throw new IllegalArgumentException("a negative length or count: " + v);
        }
        for (int i = 0; i < 4; i++) {
            out.write(v >>> (8 * i));
        }
    }

    void bytes(byte[] b) {
        out.writeBytes(b);
    }

    void string(String s, int max) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > max) {
            throw new IllegalArgumentException("'" + s + "' is " + b.length + " bytes of UTF-8, at most " + max);
        }
        u16(b.length);
        out.writeBytes(b);
    }

    int size() {
        return out.size();
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }
}
