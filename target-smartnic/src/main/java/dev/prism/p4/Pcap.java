package dev.prism.p4;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The classic pcap file format (little-endian, microsecond stamps, Ethernet link type). */
final class Pcap {
    private Pcap() {
    }

    /** {@return the 24-byte global header} */
    static byte[] header() {
        return ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(0xa1b2c3d4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0)
                .putInt(65535).putInt(1).array();
    }

    /** {@return one record: 16-byte header (zero time stamp), then the packet} */
    static byte[] record(byte[] packet) {
        return ByteBuffer.allocate(16 + packet.length).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(0).putInt(0).putInt(packet.length).putInt(packet.length).put(packet).array();
    }
}
