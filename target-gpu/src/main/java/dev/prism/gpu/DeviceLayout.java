package dev.prism.gpu;

import dev.prism.isa.CallKind;
import dev.prism.isa.Insn;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Helpers;
import java.util.List;

/**
 * Where everything lives in the device arena, one global buffer whose byte offsets are the
 * program's addresses:
 * <pre>
 *   [0, 64)                      never valid: NULL is 0
 *   mapOffset(i) ...             each map, 64-aligned (layouts below)
 *   items                        per work-item, itemStride bytes each (a run-time kernel argument):
 *     +0                         context, host layout (XdpContext): data, data_end, data_meta (u64
 *                                arena offsets), ingress_ifindex (1), rx_queue_index (0)
 *     +64                        stack: the proven depth, or FRAME_SIZE bytes per frame with calls
 *                                (frames grow down); r10 starts at the top
 *     +slotOffset                the packet frame (XDP: 256 bytes headroom, then the packet) or raw memory
 * </pre>
 * Map layouts:
 * <ul>
 *   <li>ARRAY: max_entries values of round8(value_size) bytes;</li>
 *   <li>PERCPU_ARRAY: {@link #CPUS} such arrays, CPU-major. The device CPU is the work-group
 *       ({@code get_group_id(0) % CPUS}); on PoCL's CPU device a work-group runs on one thread,
 *       its work-items one after the other, so a per-CPU value is never updated concurrently,
 *       as on Linux;</li>
 *   <li>HASH: 8 bytes of header (u32 live count), then a power-of-two table of at least
 *       2 x max_entries slots: u32 state (0 empty, 1 being written, 2 full, 3 deleted), u32 pad,
 *       round8(key), round8(value). Open addressing, linear probing, FNV-1a over the key.</li>
 *   <li>LRU_HASH: HASH's layout; the pad word is the slot's reference bit (set by lookups and
 *       updates of an existing key, as HashTableMap) and the header's second u32 a clock hand.
 *       An insert into a full map evicts with the clock (second chance: a referenced slot loses
 *       its bit, the first unreferenced one is deleted) and may reuse deleted slots, after a
 *       search of the key's whole chain. Which entry goes is the device's choice, as it is
 *       the kernel's.</li>
 *   <li>LPM_TRIE: 8 bytes of header (u32 entry count), then the entries sorted longest prefix
 *       first: u32 prefixlen, u32 pad, round8(key_size - 4) bytes of data, round8(value). A
 *       lookup scans them and takes the first whose prefix matches: the longest, as the trie
 *       would. Built by the host between batches; programs only read it (update and delete on
 *       an LPM map are refused by check).</li>
 *   <li>PROG_ARRAY: a u32 per slot, the index of the program in it plus 1 (0: empty), written
 *       by the host; the kernel holds every program of the object.</li>
 *   <li>RINGBUF: u64 bytes used, u64 capacity (the room the host's ring had at upload), then
 *       records from offset 16 on, never wrapping: u32 length | busy (bit 31) | discarded (bit
 *       30), u32 0, the payload rounded up to 8. A reserve claims its bytes with a CAS on the
 *       bytes used; the host appends the records to its ring, in claim order, after the batch.</li>
 * </ul>
 */
record DeviceLayout(boolean xdp, int stackBytes, boolean fullFrame, List<MapDef> maps, long[] offsets,
                    long itemsOffset) {
    /** Bytes at the start of the arena that no pointer reaches. */
    static final long GUARD = 64;
    /** Context bytes per item (the 32-byte host layout, padded). */
    static final int CTX_SIZE = 64;
    /** BPF stack per frame. */
    static final int FRAME_SIZE = 512;
    /** Frames a work-item may use (Linux MAX_CALL_FRAMES). */
    static final int MAX_FRAMES = 8;
    /** Per-CPU copies of per-CPU maps on the device. */
    public static final int CPUS = 64;
    /** The XDP frame (XdpBuffer.FRAME_SIZE) when the program may grow the tail. */
    static final int XDP_FRAME = 4096;
    static final int HEADROOM = 256;
    static final int HASH_HEADER = 8;
    /** A ring's u64 bytes used and u64 capacity, then its records. */
    static final int RING_HEADER = 16;

    /**
     * {@return the layout for {@code program} (normalized)}: without bpf-to-bpf calls the stack
     * is the verifier's proven depth ({@code stackDepth}, rounded up to 8), with them (or bpf_loop,
     * whose callback is a call) 8 frames of 512
     */
    static DeviceLayout of(Program program, int stackDepth) {
        return of(List.of(program), stackDepth);
    }

    /**
     * {@return the layout for {@code programs} (normalized; the first is the entry, the others
     * tail-call targets sharing its maps)}: with several programs, 8 frames of 512
     */
    static DeviceLayout of(List<Program> programs, int stackDepth) {
        Program program = programs.getFirst();
        boolean calls = programs.size() > 1;
        boolean tail = false;
        for (Program q : programs) {
            for (int pc = 0; pc < q.length(); pc++) {
                if (q.at(pc) instanceof Insn.Call c) {
                    calls |= c.kind() == CallKind.LOCAL || c.kind() == CallKind.HELPER && c.imm() == Helpers.LOOP;
                    tail |= c.kind() == CallKind.HELPER && c.imm() == Helpers.XDP_ADJUST_TAIL;
                }
            }
        }
        List<MapDef> maps = program.maps();
        long[] offsets = new long[maps.size()];
        long at = GUARD;
        for (int i = 0; i < maps.size(); i++) {
            offsets[i] = at;
            at = align(at + bytes(maps.get(i)), 64);
        }
        boolean xdp = program.type() == ProgramType.XDP;
        int stack = calls ? FRAME_SIZE * MAX_FRAMES : Math.max(8, round8(Math.min(Math.max(stackDepth, 0), FRAME_SIZE)));
        return new DeviceLayout(xdp, stack, tail, maps, offsets, at);
    }

    static long align(long v, long a) {
        return (v + a - 1) / a * a;
    }

    static int round8(int v) {
        return (v + 7) & ~7;
    }

    /** {@return the device bytes of {@code def}} */
    static long bytes(MapDef def) {
        return switch (def.type()) {
            case ARRAY -> (long) round8(def.valueSize()) * def.maxEntries();
            case PERCPU_ARRAY -> (long) CPUS * round8(def.valueSize()) * def.maxEntries();
            case HASH, LRU_HASH -> HASH_HEADER + (long) hashCapacity(def) * hashSlot(def);
            case LPM_TRIE -> HASH_HEADER + (long) def.maxEntries() * lpmSlot(def);
            case RINGBUF -> RING_HEADER + def.maxEntries();
            case PROG_ARRAY -> 4L * def.maxEntries();
            default -> 0;
        };
    }

    /** {@return the table slots of a HASH map: the power of two at least 2 x max_entries} */
    static int hashCapacity(MapDef def) {
        return Integer.highestOneBit(Math.max(1, 2 * def.maxEntries() - 1)) << 1;
    }

    static int hashSlot(MapDef def) {
        return 8 + round8(def.keySize()) + round8(def.valueSize());
    }

    /** {@return bytes of one LPM entry: u32 prefixlen, u32 pad, round8(data), round8(value)} */
    static int lpmSlot(MapDef def) {
        return 8 + round8(def.keySize() - 4) + round8(def.valueSize());
    }

    long mapOffset(int index) {
        return offsets[index];
    }

    int slotOffset() {
        return CTX_SIZE + stackBytes;
    }

    /** {@return bytes per item for packets (XDP) or raw memory of up to {@code maxInput} bytes} */
    long itemStride(int maxInput) {
        long slot = xdp ? (fullFrame ? XDP_FRAME : HEADROOM + maxInput) : maxInput;
        return align(slotOffset() + slot, 64);
    }

    MapType type(int index) {
        return maps.get(index).type();
    }
}
