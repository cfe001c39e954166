package dev.prism.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PacketTest {
    @ParameterizedTest
    @ValueSource(ints = {Packet.MIN_SIZE, 43, 64, 1500, Packet.MAX_SIZE})
    void builtFramesHaveTheirSizeAndValidHeaders(int size) {
        Packet p = Packet.udp(size);
        byte[] f = p.bytes();
        ByteBuffer b = ByteBuffer.wrap(f);
        assertEquals(size, f.length);
        assertEquals(size + " B", p.label());
        assertEquals(0x0800, b.getShort(12) & 0xffff, "ethertype IPv4");
        assertEquals(0x45, f[14] & 0xff, "version 4, ihl 5");
        assertEquals(size - 14, b.getShort(16) & 0xffff, "IPv4 total length");
        assertEquals(17, f[23], "protocol UDP");
        // A header whose checksum is right sums to 0xffff, i.e. its checksum over itself is 0.
        assertEquals(0, Packet.checksum(f, 14, 20, 0), "IPv4 header checksum");
        int udpLength = size - 34;
        assertEquals(udpLength, b.getShort(38) & 0xffff, "UDP length");
        long pseudo = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + udpLength;
        assertEquals(0, Packet.checksum(f, 34, udpLength, pseudo), "UDP checksum with the pseudo header");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 41, Packet.MAX_SIZE + 1})
    void sizesOutsideTheRangeAreRefused(int size) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Packet.udp(size));
        assertTrue(e.getMessage().contains("packet size " + size), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {13, Packet.MAX_SIZE + 1})
    void fileFramesOutsideTheRangeAreRefused(int size) {
        assertThrows(IllegalArgumentException.class, () -> Packet.of("f.bin", new byte[size]));
    }

    @ParameterizedTest
    @ValueSource(ints = {64, 1500})
    void thePayloadNeverSpellsEvil(int size) {
        String payload = new String(Packet.udp(size).bytes(), java.nio.charset.StandardCharsets.ISO_8859_1).substring(42);
        assertTrue(!payload.contains("EVIL"), "loop.c would drop it");
    }
}
