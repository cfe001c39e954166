package dev.prism.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Classic libpcap capture files, as {@code prism run --pcap} reads them: a 24-byte global header,
 * then per packet a 16-byte record header and the captured bytes.
 * <ul>
 *   <li>magic {@code a1b2c3d4} (microsecond timestamps) or {@code a1b23c4d} (nanosecond), in the
 *       writer's byte order, which the rest of the file follows;</li>
 *   <li>version 2.x;</li>
 *   <li>link type 1 (Ethernet): the frames an XDP program receives.</li>
 * </ul>
 * pcapng is refused by name (with the conversion to use). A file that ends inside a header or a
 * packet, or a record whose length is beyond any capture's, is refused with the byte offset.
 */
final class Pcap {
    /** A captured length above this is a malformed record (libpcap's and Wireshark's maximum). */
    static final int MAX_PACKET = 262_144;
    static final int GLOBAL_HEADER = 24;
    static final int RECORD_HEADER = 16;
    static final int LINKTYPE_ETHERNET = 1;

    private static final int MAGIC_MICROS = 0xa1b2c3d4;
    private static final int MAGIC_NANOS = 0xa1b23c4d;
    private static final int PCAPNG = 0x0a0d0d0a;

    /**
     * One captured packet.
     *
     * @param number its 1-based position in the file
     * @param offset the byte offset of its record header
     * @param data   the captured bytes
     */
    record Packet(int number, long offset, byte[] data) {
    }

    private Pcap() {
    }

    /**
     * {@return the packets of the capture {@code bytes}, read from {@code file}}
     *
     * @throws CliException (exit 2) naming the file and the byte offset of the problem
     */
    static List<Packet> read(String file, byte[] bytes) {
        if (bytes.length < 4) {
            throw error(file, 0, "truncated pcap: the file has " + bytes.length + " bytes, the global header "
                    + GLOBAL_HEADER);
        }
        int be = u32(bytes, 0, true);
        if (be == PCAPNG) {
            throw CliException.usage(file + ": not supported: pcapng; convert with editcap -F pcap");
        }
        boolean bigEndian;
        if (be == MAGIC_MICROS || be == MAGIC_NANOS) {
            bigEndian = true;
        } else if (Integer.reverseBytes(be) == MAGIC_MICROS || Integer.reverseBytes(be) == MAGIC_NANOS) {
            bigEndian = false;
        } else {
            throw error(file, 0, String.format("not a pcap file: magic %02x%02x%02x%02x "
                            + "(expected a1b2c3d4 or a1b23c4d in either byte order)",
                    bytes[0] & 0xff, bytes[1] & 0xff, bytes[2] & 0xff, bytes[3] & 0xff));
        }
        if (bytes.length < GLOBAL_HEADER) {
            throw error(file, bytes.length, "truncated pcap: the global header needs " + GLOBAL_HEADER
                    + " bytes, the file has " + bytes.length);
        }
        int major = u16(bytes, 4, bigEndian);
        if (major != 2) {
            throw error(file, 4, "malformed pcap: version " + major + "." + u16(bytes, 6, bigEndian)
                    + ", expected 2.4");
        }
        int network = u32(bytes, 20, bigEndian);
        // the high 4 bits may carry the FCS length (pcap spec, "LinkType and additional information")
        int linkType = network & 0x0fff_ffff;
        if (linkType != LINKTYPE_ETHERNET) {
            throw CliException.usage(file + ": link type " + Integer.toUnsignedString(linkType) + linkName(linkType)
                    + " is not Ethernet (1); XDP programs receive Ethernet frames");
        }
        List<Packet> packets = new ArrayList<>();
        long at = GLOBAL_HEADER;
        while (at < bytes.length) {
            int number = packets.size() + 1;
            if (bytes.length - at < RECORD_HEADER) {
                throw error(file, at, "truncated pcap: packet " + number + "'s record header needs " + RECORD_HEADER
                        + " bytes, the file ends after " + (bytes.length - at));
            }
            long captured = Integer.toUnsignedLong(u32(bytes, (int) at + 8, bigEndian));
            if (captured > MAX_PACKET) {
                throw error(file, at + 8, "malformed pcap: packet " + number + " claims " + captured
                        + " captured bytes, more than the " + MAX_PACKET + " a capture may hold");
            }
            long data = at + RECORD_HEADER;
            if (bytes.length - data < captured) {
                throw error(file, data, "truncated pcap: packet " + number + " needs " + captured
                        + " bytes, the file ends after " + (bytes.length - data));
            }
            packets.add(new Packet(number, at, Arrays.copyOfRange(bytes, (int) data, (int) (data + captured))));
            at = data + captured;
        }
        return packets;
    }

    private static CliException error(String file, long offset, String message) {
        return CliException.usage(file + ": at byte offset " + offset + ": " + message);
    }

    private static String linkName(int linkType) {
        return switch (linkType) {
            case 0 -> " (NULL, BSD loopback)";
            case 101 -> " (RAW, bare IP)";
            case 105 -> " (IEEE802_11)";
            case 113 -> " (LINUX_SLL, 'any' interface)";
            case 127 -> " (IEEE802_11_RADIOTAP)";
            case 276 -> " (LINUX_SLL2, 'any' interface)";
            default -> "";
        };
    }

    private static int u16(byte[] b, int at, boolean bigEndian) {
        int v = (b[at] & 0xff) << 8 | (b[at + 1] & 0xff);
        return bigEndian ? v : Integer.reverseBytes(v) >>> 16;
    }

    private static int u32(byte[] b, int at, boolean bigEndian) {
        int v = (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
        return bigEndian ? v : Integer.reverseBytes(v);
    }
}
