package dev.prism.csd.image;

/**
 * A firmware image whose signature does not hold: it carries none, the signature does not
 * verify over the signed bytes (a tampered image), or the key that signed it is not trusted.
 * The device maps each {@link Kind} to its own completion status.
 */
public final class ImageSignatureException extends RuntimeException {
    /** Why the signature check refused the image. */
    public enum Kind {
        /** no signature block at all */
        UNSIGNED,
        /** a signature that does not verify over the signed bytes, or code that does not match its hash */
        TAMPERED,
        /** a well-formed signature by a key outside the trusted set */
        UNKNOWN_KEY
    }

    private final Kind kind;

    public ImageSignatureException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
