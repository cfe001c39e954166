package dev.prism.nfp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.error.TargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NfpProfileTest {
    @TempDir
    Path tmp;

    @Test
    void theDefaultIsTheDocumentedAgilioCx() {
        NfpProfile d = NfpProfile.agilioCx();
        assertEquals(512, d.stackBytes());
        assertEquals(8192, d.maxInstructions());
        assertEquals(32 * 64 - 32, d.inlineMtu());
        assertEquals(Set.of(1, 2, 3, 7, 25, 44, 65), d.helpers());
    }

    @Test
    void aFileOverridesWhatItNamesAndKeepsTheRest() throws Exception {
        Path f = tmp.resolve("fw.json");
        Files.writeString(f, "{ \"name\": \"lab card\", \"stackBytes\": 256, \"helpers\": [1, 2, 3, 44] }");
        NfpProfile p = NfpProfile.load(f);
        assertEquals("lab card", p.name());
        assertEquals(256, p.stackBytes());
        assertEquals(Set.of(1, 2, 3, 44), p.helpers());
        assertEquals(NfpProfile.agilioCx().maxInstructions(), p.maxInstructions());
    }

    @Test
    void badFilesAreRefusedByName() throws Exception {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NfpProfile.parse("{\"stack\": 1}", "x"))
                .getMessage().contains("unknown key 'stack'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NfpProfile.parse("{\"stackBytes\": -1}", "x"))
                .getMessage().contains("'stackBytes' must be an integer in 0.."));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NfpProfile.parse("{\"mtu\": 1500", "x"))
                .getMessage().contains("offset"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NfpProfile.parse("[1]", "x"))
                .getMessage().contains("expected '{'"));
        assertThrows(TargetException.class, () -> NfpProfile.load(tmp.resolve("missing.json")));
    }

    @Test
    void theTargetReadsTheProfileFromTheProperty() throws Exception {
        Path f = tmp.resolve("small.json");
        Files.writeString(f, "{\"stackBytes\": 64}");
        String before = System.setProperty(NfpProfile.PROPERTY, f.toString());
        try {
            assertEquals(64, new NfpTarget().profile().stackBytes());
            assertEquals(64, new NfpTarget().capabilities().limits().maxStack());
        } finally {
            if (before == null) {
                System.clearProperty(NfpProfile.PROPERTY);
            } else {
                System.setProperty(NfpProfile.PROPERTY, before);
            }
        }
        assertEquals(512, new NfpTarget().profile().stackBytes());
    }
}
