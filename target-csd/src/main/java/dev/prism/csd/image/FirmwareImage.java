package dev.prism.csd.image;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A signed {@code csd} firmware image: a {@link Manifest}, one code section per architecture and
 * an optional Ed25519 signature over everything before it (the JDK's own EdDSA, RFC 8032).
 *
 * <h2>Container layout (version 1, all integers little-endian)</h2>
 * <pre>
 * offset  size  field
 *   0       8   magic "PRISMCSD"
 *   8       2   format version, 1
 *  10       2   reserved, 0
 *  12       4   body length B: the signed bytes are [0, B)
 *  16           manifest:
 *                 str   program type            (str = u16 length + UTF-8, at most 255 bytes)
 *                 str   entry function
 *                 u16   map count, then per map:
 *                         str name; u32 type (BPF_MAP_TYPE_*), key size, value size, max entries, flags;
 *                         u8 read-only (0/1); u32 initial data length + the bytes
 *                 u16   function count, then per function: str name; u32 first slot
 *                 u16   helper count, then u32 helper id each
 *                 u16   feature count, then str each
 *                 u16   code section count, then per section: str arch; 32 bytes SHA-256; u32 length
 *               code sections: each section's bytes, in the order of the table, back to back
 *   B           end of the body; the file ends here when unsigned, otherwise:
 *   B       8   "ED25519\0"
 *   B+8    32   the signer's public key (RFC 8032 encoding)
 *   B+40   64   the signature over bytes [0, B)
 *   B+104       end of file
 * </pre>
 * Parsing is strict: every length is checked against the bytes left, the body must end exactly
 * at B, and the file exactly after the signature; anything else is an
 * {@link ImageFormatException} naming the offset. The hashes are checked by {@link #verify}
 * after the signature, so that a flipped bit in code reads as a tampered image.
 */
public final class FirmwareImage {
    /** The largest image {@link #parse} accepts; a device may set a lower limit. */
    public static final int MAX_BYTES = 64 << 20;
    static final byte[] MAGIC = "PRISMCSD".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    static final byte[] SIGNATURE_MAGIC = "ED25519\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int HEADER = 16;
    static final int SIGNATURE_BLOCK = 8 + 32 + 64;
    private static final int MAX_STRING = 255;
    private static final int MAX_COUNT = 4096;

    private final Manifest manifest;
    private final Map<String, byte[]> code;
    private final byte[] body;
    private final Signer signature;

    /**
     * A signature block.
     *
     * @param publicKey the signer's raw 32-byte Ed25519 public key
     * @param value     the 64-byte signature
     */
    public record Signer(byte[] publicKey, byte[] value) {
        /** {@return the first 8 bytes of the key's SHA-256 in hex: how the CLI and logs name a key} */
        public String keyId() {
            return Ed25519Keys.keyId(publicKey);
        }
    }

    private FirmwareImage(Manifest manifest, Map<String, byte[]> code, byte[] body, Signer signature) {
        this.manifest = manifest;
        this.code = code;
        this.body = body;
        this.signature = signature;
    }

    /**
     * {@return an unsigned image of {@code code} (arch to bytes, in that order) described by the
     * other arguments}; the manifest's code table is computed here
     */
    public static FirmwareImage unsigned(String programType, String entry, List<Manifest.MapEntry> maps,
                                         List<Manifest.FunctionEntry> functions, List<Integer> helpers,
                                         List<String> features, Map<String, byte[]> code) {
        Map<String, byte[]> copy = new LinkedHashMap<>();
        List<Manifest.CodeEntry> table = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : code.entrySet()) {
            copy.put(e.getKey(), e.getValue().clone());
            table.add(new Manifest.CodeEntry(e.getKey(), sha256(e.getValue()), e.getValue().length));
        }
        Manifest m = new Manifest(programType, entry, maps, functions, helpers, features, table);
        return new FirmwareImage(m, copy, encodeBody(m, copy), null);
    }

    /** {@return this image signed by {@code key}; {@code publicKey} goes into the signature block} */
    public FirmwareImage sign(PrivateKey key, PublicKey publicKey) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(key);
            s.update(body);
            return new FirmwareImage(manifest, code, body, new Signer(Ed25519Keys.raw(publicKey), s.sign()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 signing failed: " + e.getMessage(), e);
        }
    }

    public Manifest manifest() {
        return manifest;
    }

    /** {@return the signature block, or null for an unsigned image} */
    public Signer signature() {
        return signature;
    }

    /** {@return the architectures of the code sections, in image order} */
    public List<String> arches() {
        return List.copyOf(code.keySet());
    }

    /** {@return a copy of the code for {@code arch}, or null when the image has none} */
    public byte[] code(String arch) {
        byte[] c = code.get(arch);
        return c == null ? null : c.clone();
    }

    /** {@return the image as a file holds it} */
    public byte[] bytes() {
        if (signature == null) {
            return body.clone();
        }
        byte[] out = Arrays.copyOf(body, body.length + SIGNATURE_BLOCK);
        System.arraycopy(SIGNATURE_MAGIC, 0, out, body.length, 8);
        System.arraycopy(signature.publicKey(), 0, out, body.length + 8, 32);
        System.arraycopy(signature.value(), 0, out, body.length + 40, 64);
        return out;
    }

    /**
     * Checks that the image is signed by one of {@code trusted} (raw 32-byte public keys), that
     * the signature verifies over the body, and that each code section matches its hash.
     *
     * @throws ImageSignatureException saying which of the three failed
     */
    public void verify(Collection<byte[]> trusted) {
        if (signature == null) {
            throw new ImageSignatureException(ImageSignatureException.Kind.UNSIGNED, "the image is not signed");
        }
        boolean known = trusted.stream().anyMatch(k -> Arrays.equals(k, signature.publicKey()));
        if (!known) {
            throw new ImageSignatureException(ImageSignatureException.Kind.UNKNOWN_KEY,
                    "the image is signed by key " + signature.keyId() + ", which is not trusted");
        }
        boolean ok;
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(Ed25519Keys.publicKey(signature.publicKey()));
            s.update(body);
            ok = s.verify(signature.value());
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            ok = false; // a malformed key or signature encoding is a signature that does not verify
        }
        if (!ok) {
            throw new ImageSignatureException(ImageSignatureException.Kind.TAMPERED,
                    "the signature by key " + signature.keyId() + " does not verify: the image was changed after signing");
        }
        for (Manifest.CodeEntry e : manifest.code()) {
            if (!Arrays.equals(sha256(code.get(e.arch())), e.sha256())) {
                throw new ImageSignatureException(ImageSignatureException.Kind.TAMPERED,
                        "code section " + e.arch() + " does not match its SHA-256 in the manifest");
            }
        }
    }

    /** {@return the image {@code bytes} hold} @throws ImageFormatException naming the offset */
    public static FirmwareImage parse(byte[] bytes) {
        if (bytes.length > MAX_BYTES) {
            throw new ImageFormatException(MAX_BYTES, "the image is " + bytes.length + " bytes, at most " + MAX_BYTES);
        }
        ImageReader r = new ImageReader(bytes, bytes.length);
        byte[] magic = r.bytes(8, "magic");
        if (!Arrays.equals(magic, MAGIC)) {
            throw new ImageFormatException(0, "not a Prism csd firmware image (magic " + HexFormat.of().formatHex(magic) + ")");
        }
        int version = r.u16("format version");
        if (version != VERSION) {
            throw new ImageFormatException(8, "format version " + version + ", this reader knows " + VERSION);
        }
        if (r.u16("reserved") != 0) {
            throw new ImageFormatException(10, "reserved field is not 0");
        }
        int bodyLength = r.u32("body length");
        if (bodyLength < HEADER || bodyLength > bytes.length) {
            throw new ImageFormatException(12, "body length " + bodyLength + " outside " + HEADER + ".." + bytes.length);
        }
        ImageReader body = new ImageReader(bytes, bodyLength);
        body.bytes(HEADER, "header");
        String type = body.string("program type", MAX_STRING);
        String entry = body.string("entry", MAX_STRING);
        int mapCount = body.count("map count", 2 + 21 + 4, MAX_COUNT);
        List<Manifest.MapEntry> maps = new ArrayList<>();
        for (int i = 0; i < mapCount; i++) {
            String name = body.string("map " + i + " name", MAX_STRING);
            int mt = body.u32("map " + name + " type");
            int k = body.u32("map " + name + " key size");
            int v = body.u32("map " + name + " value size");
            int max = body.u32("map " + name + " max entries");
            int flags = body.u32("map " + name + " flags");
            int roAt = body.pos();
            int ro = body.u8("map " + name + " read-only");
            if (ro > 1) {
                throw new ImageFormatException(roAt, "map " + name + " read-only is " + ro + ", not 0 or 1");
            }
            int n = body.u32("map " + name + " initial data length");
            maps.add(new Manifest.MapEntry(name, mt, k, v, max, flags, ro == 1, body.bytes(n, "map " + name + " initial data")));
        }
        int fnCount = body.count("function count", 2 + 4, MAX_COUNT);
        List<Manifest.FunctionEntry> functions = new ArrayList<>();
        for (int i = 0; i < fnCount; i++) {
            functions.add(new Manifest.FunctionEntry(body.string("function " + i + " name", MAX_STRING),
                    body.u32("function " + i + " start")));
        }
        int helperCount = body.count("helper count", 4, MAX_COUNT);
        List<Integer> helpers = new ArrayList<>();
        for (int i = 0; i < helperCount; i++) {
            helpers.add(body.u32("helper " + i));
        }
        int featureCount = body.count("feature count", 2, MAX_COUNT);
        List<String> features = new ArrayList<>();
        for (int i = 0; i < featureCount; i++) {
            features.add(body.string("feature " + i, MAX_STRING));
        }
        int codeCount = body.count("code section count", 2 + 32 + 4, MAX_COUNT);
        List<Manifest.CodeEntry> table = new ArrayList<>();
        List<Integer> tableAt = new ArrayList<>();
        for (int i = 0; i < codeCount; i++) {
            tableAt.add(body.pos());
            String arch = body.string("code section " + i + " arch", MAX_STRING);
            byte[] hash = body.bytes(32, "code section " + arch + " SHA-256");
            int length = body.u32("code section " + arch + " length");
            for (Manifest.CodeEntry e : table) {
                if (e.arch().equals(arch)) {
                    throw new ImageFormatException(tableAt.get(i), "a second code section for " + arch);
                }
            }
            table.add(new Manifest.CodeEntry(arch, hash, length));
        }
        Map<String, byte[]> code = new LinkedHashMap<>();
        for (Manifest.CodeEntry e : table) {
            code.put(e.arch(), body.bytes(e.length(), "code section " + e.arch()));
        }
        if (body.pos() != bodyLength) {
            throw new ImageFormatException(body.pos(), (bodyLength - body.pos()) + " bytes after the last code section, "
                    + "inside the body");
        }
        Signer signer = null;
        if (bodyLength != bytes.length) {
            ImageReader sig = new ImageReader(bytes, bytes.length);
            sig.bytes(bodyLength, "body");
            byte[] sm = sig.bytes(8, "signature block magic");
            if (!Arrays.equals(sm, SIGNATURE_MAGIC)) {
                throw new ImageFormatException(bodyLength, "after the body comes a signature block starting \"ED25519\\0\", not "
                        + HexFormat.of().formatHex(sm));
            }
            signer = new Signer(sig.bytes(32, "signer public key"), sig.bytes(64, "signature"));
            if (sig.pos() != bytes.length) {
                throw new ImageFormatException(sig.pos(), (bytes.length - sig.pos()) + " bytes after the signature");
            }
        }
        Manifest m = new Manifest(type, entry, maps, functions, helpers, features, table);
        return new FirmwareImage(m, code, Arrays.copyOf(bytes, bodyLength), signer);
    }

    private static byte[] encodeBody(Manifest m, Map<String, byte[]> code) {
        ImageWriter w = new ImageWriter();
        w.bytes(MAGIC);
        w.u16(VERSION);
        w.u16(0);
        w.u32(0); // body length, patched below
        w.string(m.programType(), MAX_STRING);
        w.string(m.entry(), MAX_STRING);
        w.u16(m.maps().size());
        for (Manifest.MapEntry e : m.maps()) {
            w.string(e.name(), MAX_STRING);
            w.u32(e.type());
            w.u32(e.keySize());
            w.u32(e.valueSize());
            w.u32(e.maxEntries());
            w.u32(e.flags());
            w.u8(e.readOnly() ? 1 : 0);
            w.u32(e.initialData().length);
            w.bytes(e.initialData());
        }
        w.u16(m.functions().size());
        for (Manifest.FunctionEntry f : m.functions()) {
            w.string(f.name(), MAX_STRING);
            w.u32(f.start());
        }
        w.u16(m.helpers().size());
        for (int h : m.helpers()) {
            w.u32(h);
        }
        w.u16(m.features().size());
        for (String f : m.features()) {
            w.string(f, MAX_STRING);
        }
        w.u16(m.code().size());
        for (Manifest.CodeEntry e : m.code()) {
            w.string(e.arch(), MAX_STRING);
            w.bytes(e.sha256());
            w.u32(e.length());
        }
        for (Manifest.CodeEntry e : m.code()) {
            w.bytes(code.get(e.arch()));
        }
        byte[] out = w.toByteArray();
        int n = out.length;
        for (int i = 0; i < 4; i++) {
            out[12 + i] = (byte) (n >>> (8 * i));
        }
        return out;
    }

    static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** {@return the manifest and signature as text, for {@code prism csd verify}} */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append("program type: ").append(manifest.programType()).append('\n');
        sb.append("entry: ").append(manifest.entry()).append('\n');
        for (Manifest.MapEntry e : manifest.maps()) {
            dev.prism.program.MapType t = dev.prism.program.MapType.ofCode(e.type());
            sb.append("map: ").append(e.name()).append(' ').append(t == null ? "type " + e.type() : t.id()).append(" key ").append(e.keySize())
                    .append(" value ").append(e.valueSize()).append(" max ").append(e.maxEntries())
                    .append(e.readOnly() ? " read-only" : "").append('\n');
        }
        sb.append("functions: ").append(manifest.functions().stream().map(f -> f.name() + "@" + f.start()).toList()).append('\n');
        sb.append("helpers: ").append(manifest.helpers()).append('\n');
        sb.append("features: ").append(manifest.features()).append('\n');
        for (Manifest.CodeEntry e : manifest.code()) {
            sb.append("code: ").append(e).append('\n');
        }
        sb.append("signature: ").append(signature == null ? "none" : "Ed25519, key " + signature.keyId()).append('\n');
        return sb.toString();
    }
}
