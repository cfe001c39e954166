package dev.prism.csd.image;

/**
 * A firmware image that does not parse: truncated, a bad magic, a length or count that points
 * past the end, a string that is not UTF-8. The message names the byte offset in the file where
 * the image went wrong ({@code "offset 42: ..."}), so a malformed image is diagnosed, never a crash.
 */
public final class ImageFormatException extends RuntimeException {
    private final long offset;

    public ImageFormatException(long offset, String what) {
        super("offset " + offset + ": " + what);
        this.offset = offset;
    }

    /** {@return the byte offset in the image where parsing failed} */
    public long offset() {
        return offset;
    }
}
