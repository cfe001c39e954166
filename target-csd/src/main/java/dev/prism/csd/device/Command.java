package dev.prism.csd.device;

import java.util.List;
import java.util.Objects;

/**
 * The commands the emulated device takes, one record per command (NVMe 2.1 Computational
 * Programs and Subsystem Local Memory command sets, plus the NVM command set's Read). Fields are
 * the command's Dwords as Java values. {@link CsdDevice#submit} answers each with a
 * {@link Completion}.
 */
public sealed interface Command {
    /** Admin opcode 85h: Load Program (Computational Programs command set). */
    int OPC_LOAD_PROGRAM = 0x85;
    /** Admin opcode 88h: Program Activation Management. */
    int OPC_PROGRAM_ACTIVATION = 0x88;
    /** Admin opcode 89h: Memory Range Set Management. */
    int OPC_MEMORY_RANGE_SET = 0x89;
    /**
     * I/O opcode of Execute Program on a compute namespace. Prism-defined: the specification text
     * available here does not give it.
     */
    int OPC_EXECUTE_PROGRAM = 0x01;
    /** I/O opcode 02h: Read (NVM command set). */
    int OPC_READ = 0x02;
    /** I/O opcode of Memory Read on a memory namespace (SLM). Prism-defined, as above. */
    int OPC_MEMORY_READ = 0x02;
    /** I/O opcode of Memory Write on a memory namespace (SLM). Prism-defined, as above. */
    int OPC_MEMORY_WRITE = 0x01;

    /** {@return the opcode} */
    int opcode();

    /**
     * Load Program (85h): downloads {@code image} into program slot {@code programIndex}, or with
     * {@code unload} empties the slot.
     *
     * @param programType the Program Type; the device downloads {@link CsdDevice#PROGRAM_TYPE_EBPF} only
     */
    record LoadProgram(int programIndex, int programType, boolean unload, byte[] image) implements Command {
        public LoadProgram {
            image = image == null ? new byte[0] : image;
        }

        public static LoadProgram load(int programIndex, byte[] image) {
            return new LoadProgram(programIndex, CsdDevice.PROGRAM_TYPE_EBPF, false, image);
        }

        public static LoadProgram unload(int programIndex) {
            return new LoadProgram(programIndex, CsdDevice.PROGRAM_TYPE_EBPF, true, null);
        }

        @Override
        public int opcode() {
            return OPC_LOAD_PROGRAM;
        }
    }

    /** Program Activation Management (88h): activates or deactivates the program in a slot. */
    record ProgramActivation(int programIndex, boolean activate) implements Command {
        @Override
        public int opcode() {
            return OPC_PROGRAM_ACTIVATION;
        }
    }

    /**
     * Memory Range Set Management (89h): creates a memory range set from {@code ranges} (its
     * identifier is the completion's result) or deletes set {@code rangeSetId}.
     */
    record MemoryRangeSetManagement(boolean create, int rangeSetId, List<MemoryRange> ranges) implements Command {
        public MemoryRangeSetManagement {
            ranges = List.copyOf(ranges);
        }

        public static MemoryRangeSetManagement create(List<MemoryRange> ranges) {
            return new MemoryRangeSetManagement(true, 0, ranges);
        }

        public static MemoryRangeSetManagement delete(int rangeSetId) {
            return new MemoryRangeSetManagement(false, rangeSetId, List.of());
        }

        @Override
        public int opcode() {
            return OPC_MEMORY_RANGE_SET;
        }
    }

    /**
     * Execute Program on the compute namespace: runs the program in slot {@code programIndex}
     * over the memory range set. The set's NVM ranges are the input, cut into chunks of
     * {@code chunkBytes} (0: the device's default; a Prism-defined Dword), which the compute engines run in
     * parallel; its one memory-namespace range receives the outputs, concatenated in chunk order. The
     * completion's result is the number of output bytes.
     */
    record ExecuteProgram(int programIndex, int rangeSetId, long param0, long param1, long chunkBytes) implements Command {
        public ExecuteProgram(int programIndex, int rangeSetId, long param0, long param1) {
            this(programIndex, rangeSetId, param0, param1, 0);
        }

        @Override
        public int opcode() {
            return OPC_EXECUTE_PROGRAM;
        }
    }

    /** Read (NVM command set): {@code length} bytes at {@code offset} of an NVM namespace, to the host. */
    record Read(int nsid, long offset, long length) implements Command {
        @Override
        public int opcode() {
            return OPC_READ;
        }
    }

    /** Memory Read (SLM): bytes of a memory namespace to the host. */
    record MemoryRead(int nsid, long offset, long length) implements Command {
        @Override
        public int opcode() {
            return OPC_MEMORY_READ;
        }
    }

    /** Memory Write (SLM): host bytes into a memory namespace. */
    record MemoryWrite(int nsid, long offset, byte[] data) implements Command {
        public MemoryWrite {
            Objects.requireNonNull(data);
        }

        @Override
        public int opcode() {
            return OPC_MEMORY_WRITE;
        }
    }

    /**
     * Prism's map read-out (admin opcode C0h, in the base specification's vendor-specific admin
     * range; Prism-defined): the maps of the program in a slot, as {@link CsdDevice} documents.
     */
    record MapDump(int programIndex) implements Command {
        @Override
        public int opcode() {
            return CsdDevice.OPC_MAP_DUMP;
        }
    }

    /**
     * One range of a memory range set: {@code length} bytes at byte {@code offset} of namespace
     * {@code nsid} (an NVM namespace for input, the memory namespace for output).
     */
    record MemoryRange(int nsid, long offset, long length) {
    }
}
