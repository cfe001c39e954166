package dev.prism.csd.device;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The device's commands as 64-byte submission queue entries and 16-byte completion queue
 * entries (NVMe Base Specification: SQE Dword 0 opcode in bits 7:0 and command identifier in
 * 31:16, NSID in Dword 1, Dwords 10-15 at bytes 40-63; CQE Dwords 0-1 the command-specific
 * result, Dword 2 SQ head and SQ identifier, Dword 3 command identifier and status: phase bit
 * 0, Status Code bits 8:1, Status Code Type bits 11:9). The data pointer is replaced by the
 * data buffer passed alongside.
 *
 * <p>Prism-defined, because the specification text available here does not give them: where
 * each command keeps its fields in Dwords 10-15, Execute Program's opcode, the Memory Read and
 * Write opcodes, and the byte (not LBA) addressing of Read:
 * <pre>
 * admin 85h Load Program        CDW10[15:0] program index, CDW10[16] unload; CDW11[7:0] program type; data: the image
 * admin 88h Program Activation  CDW10[15:0] program index, CDW10[16] 1 activate / 0 deactivate
 * admin 89h Memory Range Set    CDW10[3:0] 0 create / 1 delete; CDW11[15:0] set id (delete);
 *                               data (create): per range u32 nsid, u32 reserved, u64 byte offset, u64 length
 * admin C0h Map Dump            CDW10[15:0] program index
 * I/O NSID 3 01h Execute Program CDW10[15:0] program index, CDW11[15:0] set id, CDW12-13 param0,
 *                               CDW14-15 param1, CDW2-3 chunk bytes (0: the device's)
 * I/O NSID 1 02h Read           CDW10-11 byte offset, CDW12 length
 * I/O NSID 2 02h Memory Read    CDW10-11 byte offset, CDW12 length
 * I/O NSID 2 01h Memory Write   CDW10-11 byte offset; data: the bytes
 * </pre>
 * Any other opcode completes with Invalid Command Opcode, an I/O command to an unknown
 * namespace with Invalid Namespace or Format; nothing a host sends is thrown back at it.
 */
public final class NvmeWire {
    public static final int SQE_BYTES = 64;
    public static final int CQE_BYTES = 16;
    private static final int RANGE_BYTES = 24;

    private NvmeWire() {
    }

    /** {@return the completion of the submission queue entry {@code sqe} with its {@code data}} */
    public static Completion submit(CsdDevice device, boolean admin, byte[] sqe, byte[] data) {
        if (sqe.length != SQE_BYTES) {
            return Completion.error(NvmeStatus.INVALID_FIELD, "a submission queue entry is 64 bytes, not " + sqe.length);
        }
        byte[] d = data == null ? new byte[0] : data;
        ByteBuffer b = ByteBuffer.wrap(sqe).order(ByteOrder.LITTLE_ENDIAN);
        int opcode = b.get(0) & 0xff;
        int nsid = b.getInt(4);
        long cdw23 = b.getLong(8);
        int cdw10 = b.getInt(40);
        int cdw11 = b.getInt(44);
        long cdw1213 = b.getLong(48);
        long cdw1415 = b.getLong(56);
        int index = cdw10 & 0xffff;
        Command c;
        if (admin) {
            c = switch (opcode) {
                case Command.OPC_LOAD_PROGRAM -> new Command.LoadProgram(index, cdw11 & 0xff, (cdw10 & 1 << 16) != 0, d);
                case Command.OPC_PROGRAM_ACTIVATION -> new Command.ProgramActivation(index, (cdw10 & 1 << 16) != 0);
                case Command.OPC_MEMORY_RANGE_SET -> rangeSet(cdw10 & 0xf, cdw11 & 0xffff, d);
                case CsdDevice.OPC_MAP_DUMP -> new Command.MapDump(index);
                default -> null;
            };
        } else {
            if (nsid != CsdDevice.NSID_NVM && nsid != CsdDevice.NSID_MEMORY && nsid != CsdDevice.NSID_COMPUTE) {
                return Completion.error(NvmeStatus.INVALID_NAMESPACE, "no namespace " + Integer.toUnsignedString(nsid));
            }
            long lba = Integer.toUnsignedLong(cdw10) | (long) cdw11 << 32;
            long length = Integer.toUnsignedLong((int) cdw1213);
            c = switch (nsid) {
                case CsdDevice.NSID_COMPUTE -> opcode == Command.OPC_EXECUTE_PROGRAM
                        ? new Command.ExecuteProgram(index, cdw11 & 0xffff, cdw1213, cdw1415, cdw23) : null;
                case CsdDevice.NSID_NVM -> opcode == Command.OPC_READ ? new Command.Read(nsid, lba, length) : null;
                default -> opcode == Command.OPC_MEMORY_READ ? new Command.MemoryRead(nsid, lba, length)
                        : opcode == Command.OPC_MEMORY_WRITE ? new Command.MemoryWrite(nsid, lba, d) : null;
            };
        }
        if (c == null) {
            return Completion.error(NvmeStatus.INVALID_OPCODE, String.format("%s opcode %02Xh%s", admin ? "admin" : "I/O", opcode,
                    admin ? "" : " on namespace " + nsid));
        }
        if (admin && opcode == Command.OPC_MEMORY_RANGE_SET && (cdw10 & 0xf) > 1) {
            return Completion.error(NvmeStatus.INVALID_FIELD, "Memory Range Set Management select " + (cdw10 & 0xf) + " (0 create, 1 delete)");
        }
        if (admin && opcode == Command.OPC_MEMORY_RANGE_SET && (cdw10 & 0xf) == 0 && d.length % RANGE_BYTES != 0) {
            return Completion.error(NvmeStatus.INVALID_FIELD, "range list of " + d.length + " bytes, not a multiple of " + RANGE_BYTES);
        }
        return device.submit(c);
    }

    private static Command rangeSet(int select, int id, byte[] d) {
        if (select == 1) {
            return Command.MemoryRangeSetManagement.delete(id);
        }
        if (select != 0 || d.length % RANGE_BYTES != 0) {
            // an unknown select, or a range list that does not divide: no ranges, refused as such
            return new Command.MemoryRangeSetManagement(true, 0, List.of());
        }
        ByteBuffer b = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
        List<Command.MemoryRange> ranges = new ArrayList<>();
        for (int at = 0; at < d.length; at += RANGE_BYTES) {
            ranges.add(new Command.MemoryRange(b.getInt(at), b.getLong(at + 8), b.getLong(at + 16)));
        }
        return Command.MemoryRangeSetManagement.create(ranges);
    }

    /** {@return a submission queue entry} (tests and hosts that speak the wire form) */
    public static byte[] sqe(int opcode, int cid, int nsid, long cdw23, int cdw10, int cdw11, long cdw1213, long cdw1415) {
        ByteBuffer b = ByteBuffer.allocate(SQE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, opcode & 0xff | cid << 16);
        b.putInt(4, nsid);
        b.putLong(8, cdw23);
        b.putInt(40, cdw10);
        b.putInt(44, cdw11);
        b.putLong(48, cdw1213);
        b.putLong(56, cdw1415);
        return b.array();
    }

    /** {@return the completion queue entry of {@code c} for command {@code cid} of queue {@code sqid}} */
    public static byte[] cqe(Completion c, int cid, int sqid, int sqHead, boolean phase) {
        ByteBuffer b = ByteBuffer.allocate(CQE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, c.result());
        b.putShort(8, (short) sqHead);
        b.putShort(10, (short) sqid);
        b.putShort(12, (short) cid);
        int status = (phase ? 1 : 0) | c.status().sc() << 1 | c.status().sct() << 9;
        b.putShort(14, (short) status);
        return b.array();
    }
}
