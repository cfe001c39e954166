package dev.prism.csd.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.asm.Assembler;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import java.security.KeyPair;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FirmwareImageTest {
    private static final KeyPair KEY = Ed25519Keys.generate();
    private static final KeyPair OTHER = Ed25519Keys.generate();
    /** Nightly flips every bit and runs 20,000 random edits; make test one bit per byte and 1,000 (each verify costs about 1 ms). */
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");

    private static FirmwareImage small() {
        Map<String, byte[]> code = new LinkedHashMap<>();
        code.put("bpf", new byte[] {(byte) 0xb7, 0, 0, 0, 7, 0, 0, 0, (byte) 0x95, 0, 0, 0, 0, 0, 0, 0});
        code.put("x86-64", new byte[] {(byte) 0x48, (byte) 0xc7, (byte) 0xc0, 7, 0, 0, 0, (byte) 0xc3});
        return FirmwareImage.unsigned("csd", "prog",
                List.of(new Manifest.MapEntry("counts", 2, 4, 8, 4, 0, false, new byte[0])),
                List.of(new Manifest.FunctionEntry("prog", 0)), List.of(1), List.of("base64"), code);
    }

    private static List<byte[]> trusted() {
        return List.of(Ed25519Keys.raw(KEY.getPublic()));
    }

    @Test
    void signedImageRoundTripsAndVerifies() {
        FirmwareImage signed = small().sign(KEY.getPrivate(), KEY.getPublic());
        byte[] bytes = signed.bytes();
        FirmwareImage back = FirmwareImage.parse(bytes);
        assertEquals(signed.manifest(), back.manifest());
        assertArrayEquals(bytes, back.bytes());
        assertEquals(List.of("bpf", "x86-64"), back.arches());
        assertArrayEquals(new byte[] {(byte) 0x48, (byte) 0xc7, (byte) 0xc0, 7, 0, 0, 0, (byte) 0xc3}, back.code("x86-64"));
        back.verify(trusted());
        // the manifest's hash is the SHA-256 of the code, as an independent digest computes it
        assertArrayEquals(FirmwareImage.sha256(back.code("bpf")), back.manifest().code().getFirst().sha256());
    }

    @Test
    void unsignedImageIsRefusedAsUnsigned() {
        FirmwareImage parsed = FirmwareImage.parse(small().bytes());
        var e = assertThrows(ImageSignatureException.class, () -> parsed.verify(trusted()));
        assertEquals(ImageSignatureException.Kind.UNSIGNED, e.kind());
    }

    @Test
    void wrongKeyIsRefusedAsUnknown() {
        FirmwareImage parsed = FirmwareImage.parse(small().sign(OTHER.getPrivate(), OTHER.getPublic()).bytes());
        var e = assertThrows(ImageSignatureException.class, () -> parsed.verify(trusted()));
        assertEquals(ImageSignatureException.Kind.UNKNOWN_KEY, e.kind());
        assertTrue(e.getMessage().contains(Ed25519Keys.keyId(Ed25519Keys.raw(OTHER.getPublic()))), e.getMessage());
    }

    @Test
    void signatureByAnotherKeyUnderTheTrustedKeysNameIsTampered() {
        // a forger who copies the trusted public key into the block but signs with their own key
        FirmwareImage forged = small().sign(OTHER.getPrivate(), KEY.getPublic());
        var e = assertThrows(ImageSignatureException.class, () -> FirmwareImage.parse(forged.bytes()).verify(trusted()));
        assertEquals(ImageSignatureException.Kind.TAMPERED, e.kind());
    }

    /**
     * A single-bit flip at every byte position of a signed image (bit {@code i % 8} of byte i; every
     * bit nightly) is refused: by the parser (naming an offset) or by verify.
     */
    @Test
    void everyFlippedBitIsRefused() {
        byte[] good = small().sign(KEY.getPrivate(), KEY.getPublic()).bytes();
        int parseErrors = 0;
        int signatureErrors = 0;
        for (int i = 0; i < good.length * 8; i++) {
            if (!NIGHTLY && i % 8 != (i / 8) % 8) {
                continue;
            }
            byte[] bad = good.clone();
            bad[i / 8] ^= (byte) (1 << (i % 8));
            try {
                FirmwareImage.parse(bad).verify(trusted());
                fail("bit " + i + " (byte " + i / 8 + ") flipped and the image was accepted");
            } catch (ImageFormatException e) {
                assertTrue(e.getMessage().startsWith("offset "), e.getMessage());
                parseErrors++;
            } catch (ImageSignatureException e) {
                signatureErrors++;
            }
        }
        assertTrue(parseErrors > 0 && signatureErrors > 0, parseErrors + " parse errors, " + signatureErrors + " signature errors");
    }

    @Test
    void everyTruncationIsAFormatErrorNamingAnOffset() {
        byte[] good = small().sign(KEY.getPrivate(), KEY.getPublic()).bytes();
        for (int n = 0; n < good.length; n++) {
            byte[] cut = Arrays.copyOf(good, n);
            if (n == FirmwareImage.parse(good).bytes().length - FirmwareImage.SIGNATURE_BLOCK) {
                // exactly the body: a well-formed unsigned image
                assertEquals(null, FirmwareImage.parse(cut).signature());
                continue;
            }
            var e = assertThrows(ImageFormatException.class, () -> FirmwareImage.parse(cut), "length " + n);
            assertTrue(e.offset() >= 0 && e.offset() <= n, e.getMessage());
        }
    }

    @Test
    void randomGarbageNeverEscapesAsAnotherException() {
        Random r = new Random(15);
        byte[] good = small().sign(KEY.getPrivate(), KEY.getPublic()).bytes();
        for (int i = 0; i < (NIGHTLY ? 20_000 : 1_000); i++) {
            byte[] bad = good.clone();
            int edits = 1 + r.nextInt(6);
            for (int k = 0; k < edits; k++) {
                bad[r.nextInt(bad.length)] = (byte) r.nextInt(256);
            }
            try {
                FirmwareImage.parse(bad).verify(trusted());
                assertArrayEquals(good, bad, "an edited image was accepted");
            } catch (ImageFormatException | ImageSignatureException e) {
                // refused with a reason
            }
        }
    }

    @Test
    void specificFormatErrorsNameTheirOffset() {
        byte[] good = small().bytes();
        byte[] magic = good.clone();
        magic[0] = 'X';
        assertEquals(0, assertThrows(ImageFormatException.class, () -> FirmwareImage.parse(magic)).offset());
        byte[] version = good.clone();
        version[8] = 2;
        assertEquals(8, assertThrows(ImageFormatException.class, () -> FirmwareImage.parse(version)).offset());
        byte[] trailing = Arrays.copyOf(good, good.length + 3);
        var e = assertThrows(ImageFormatException.class, () -> FirmwareImage.parse(trailing));
        assertEquals(good.length, e.offset());
        // the program type string claims 0xffff bytes
        byte[] longString = good.clone();
        longString[16] = (byte) 0xff;
        longString[17] = (byte) 0xff;
        assertEquals(16, assertThrows(ImageFormatException.class, () -> FirmwareImage.parse(longString)).offset());
    }

    @Test
    void keysRoundTripThroughPem() {
        KeyPair back = Ed25519Keys.readPrivate(Ed25519Keys.privatePem(KEY));
        assertArrayEquals(KEY.getPrivate().getEncoded(), back.getPrivate().getEncoded());
        assertArrayEquals(Ed25519Keys.raw(KEY.getPublic()), Ed25519Keys.raw(Ed25519Keys.readPublic(Ed25519Keys.publicPem(KEY.getPublic()))));
        FirmwareImage.parse(small().sign(back.getPrivate(), back.getPublic()).bytes()).verify(trusted());
        assertThrows(IllegalArgumentException.class, () -> Ed25519Keys.readPrivate("hello"));
        assertThrows(IllegalArgumentException.class, () -> Ed25519Keys.readPublic("-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----\n"));
    }

    @Test
    void programImageDecodesToTheSameProgram() {
        Program p = Assembler.assemble("prog", ProgramType.RAW, "mov r0, 3\nexit\n");
        p = p.toBuilder().maps(List.of(MapDef.of("m", MapType.ARRAY, 4, 8, 2, 0))).build();
        FirmwareImage image = ProgramImages.unsigned(p, List.of(), Map.of("x86-64", new byte[] {1, 2}));
        Program back = ProgramImages.program(FirmwareImage.parse(image.sign(KEY.getPrivate(), KEY.getPublic()).bytes()));
        assertArrayEquals(p.bytes(), back.bytes());
        assertEquals(p.maps(), back.maps());
        assertEquals(p.name(), back.name());
    }
}
