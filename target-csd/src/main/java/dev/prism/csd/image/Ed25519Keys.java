package dev.prism.csd.image;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Ed25519 keys through the JDK's own EdDSA provider (no extra library), and the PEM files
 * {@code prism csd keygen} writes: a key file holds a "PRIVATE KEY" block (PKCS#8) followed by
 * a "PUBLIC KEY" block (X.509 SubjectPublicKeyInfo), because the JDK cannot derive an Ed25519
 * public key from the private one; a {@code .pub} file holds the public block only.
 */
public final class Ed25519Keys {
    /** The X.509 SubjectPublicKeyInfo prefix of an Ed25519 key (RFC 8410): SEQUENCE, id-Ed25519, BIT STRING. */
    private static final byte[] SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    private Ed25519Keys() {
    }

    /** {@return a fresh key pair} */
    public static KeyPair generate() {
        try {
            return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK lacks Ed25519: " + e.getMessage(), e);
        }
    }

    /** {@return the raw 32-byte encoding of an Ed25519 public key} */
    public static byte[] raw(PublicKey key) {
        byte[] spki = key.getEncoded();
        if (spki.length != SPKI_PREFIX.length + 32 || !Arrays.equals(spki, 0, SPKI_PREFIX.length, SPKI_PREFIX, 0, SPKI_PREFIX.length)) {
            throw new IllegalArgumentException("not an Ed25519 public key (" + key.getAlgorithm() + ")");
        }
        return Arrays.copyOfRange(spki, SPKI_PREFIX.length, spki.length);
    }

    /** {@return the public key whose raw encoding is {@code raw}} @throws IllegalArgumentException when it is not one */
    public static PublicKey publicKey(byte[] raw) {
        if (raw.length != 32) {
            throw new IllegalArgumentException("an Ed25519 public key is 32 bytes, not " + raw.length);
        }
        byte[] spki = Arrays.copyOf(SPKI_PREFIX, SPKI_PREFIX.length + 32);
        System.arraycopy(raw, 0, spki, SPKI_PREFIX.length, 32);
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not an Ed25519 public key: " + e.getMessage(), e);
        }
    }

    /** {@return the first 8 bytes of the raw key's SHA-256, in hex} */
    public static String keyId(byte[] raw) {
        return HexFormat.of().formatHex(FirmwareImage.sha256(raw), 0, 8);
    }

    /** {@return the key file text for {@code pair}: private block, then public block} */
    public static String privatePem(KeyPair pair) {
        return pem("PRIVATE KEY", pair.getPrivate().getEncoded()) + pem("PUBLIC KEY", pair.getPublic().getEncoded());
    }

    /** {@return the .pub file text for {@code key}} */
    public static String publicPem(PublicKey key) {
        return pem("PUBLIC KEY", key.getEncoded());
    }

    private static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }

    /**
     * {@return the key pair a key file holds} (its public block is required)
     *
     * @throws IllegalArgumentException saying what the text lacks
     */
    public static KeyPair readPrivate(String text) {
        byte[] priv = block(text, "PRIVATE KEY");
        if (priv == null) {
            throw new IllegalArgumentException("no -----BEGIN PRIVATE KEY----- block (a key file from 'prism csd keygen')");
        }
        PublicKey pub = readPublic(text);
        try {
            PrivateKey key = KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(priv));
            return new KeyPair(pub, key);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the PRIVATE KEY block is not an Ed25519 key: " + e.getMessage(), e);
        }
    }

    /** {@return the public key of a .pub file or of a key file} @throws IllegalArgumentException */
    public static PublicKey readPublic(String text) {
        byte[] der = block(text, "PUBLIC KEY");
        if (der == null) {
            throw new IllegalArgumentException("no -----BEGIN PUBLIC KEY----- block");
        }
        if (der.length != SPKI_PREFIX.length + 32 || !Arrays.equals(der, 0, SPKI_PREFIX.length, SPKI_PREFIX, 0, SPKI_PREFIX.length)) {
            throw new IllegalArgumentException("the PUBLIC KEY block is not an Ed25519 key");
        }
        return publicKey(Arrays.copyOfRange(der, SPKI_PREFIX.length, der.length));
    }

    private static byte[] block(String text, String label) {
        String begin = "-----BEGIN " + label + "-----";
        String end = "-----END " + label + "-----";
        int b = text.indexOf(begin);
        if (b < 0) {
            return null;
        }
        int e = text.indexOf(end, b);
        if (e < 0) {
            throw new IllegalArgumentException("the " + label + " block has no END line");
        }
        try {
            return Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException("the " + label + " block is not base64: " + ex.getMessage(), ex);
        }
    }
}
