package dev.prism.verifier;

import dev.prism.verifier.domain.Scalar;
import java.util.Arrays;
import java.util.List;

/**
 * What the verifier proved about one instruction, over every path that reaches it
 * (DESIGN.md, "The IR"): backends may rely on it and emit no runtime check it makes redundant.
 *
 * @param registers     the registers on arrival, r0..r10
 * @param access        the memory the instruction touches, proven in bounds; null when none
 * @param divisor       for div/mod with a register divisor: its value when it is the same
 *                      constant on every path, else null
 * @param branch        for conditional jumps: TRUE when always taken, FALSE when never, null when both happen
 * @param key           for bpf_map_lookup_elem on a map with 4-byte keys: the key it reads from
 *                      the stack when it is the same constant on every path, else null (a
 *                      backend may then compute an array element's address at compile time)
 * @param maps          for bpf_map_lookup_elem, bpf_map_update_elem and bpf_map_delete_elem: the
 *                      program maps r1 may be on some path, ascending (an inner map from a
 *                      map-in-map lookup counts as every program map that fits its template),
 *                      else null. When r1's register fact names no one map, a backend may still
 *                      dispatch on these maps' handles.
 */
public record Facts(List<Register> registers, Access access, Long divisor, Boolean branch, Long key, List<Integer> maps) {

    /**
     * {@return whether a 64-bit {@code jeq/jne dst, 0} here is taken when the IR proves dst a
     * pointer that cannot be null (an array lookup with a constant key in range, say), else null}:
     * such an address is never 0. A 32-bit test of a pointer's low half is not decided.
     */
    public Boolean nullTest(dev.prism.isa.Insn.Jump j) {
        if (j.width() != dev.prism.isa.Width.W64 || !(j.src() instanceof dev.prism.isa.Imm imm) || imm.value() != 0
                || (j.op() != dev.prism.isa.JumpOp.JEQ && j.op() != dev.prism.isa.JumpOp.JNE)) {
            return null;
        }
        Register r = registers.get(j.dst().n());
        boolean pointer = switch (r.kind()) {
            case MAP_VALUE, STACK, CTX, PACKET, PACKET_END, PACKET_META, RINGBUF_RECORD, MEM -> true;
            case UNINIT, SCALAR, MAP, FUNCTION -> false;
        };
        return pointer && !r.maybeNull() ? j.op() == dev.prism.isa.JumpOp.JNE : null;
    }

    /** What a register may hold. */
    public enum Kind {
        UNINIT, SCALAR, CTX, STACK, PACKET, PACKET_END, PACKET_META, MAP_VALUE, MAP, RINGBUF_RECORD, FUNCTION, MEM
    }

    /**
     * One register: its kind; for scalars their value set, for pointers the offset set from the
     * region's start (for packets: from data, var part plus constant); the map index for map
     * values and maps; whether a nullable pointer may still be null.
     */
    public record Register(Kind kind, Scalar value, int map, boolean maybeNull) {
        static final Register UNINIT = new Register(Kind.UNINIT, Scalar.top(), -1, false);
    }

    /**
     * A proven memory access: [minOffset, maxOffset + size) within the region; the stack frame
     * (0 = entry) for stack accesses, the map for map values.
     */
    public record Access(Kind region, long minOffset, long maxOffset, int size, boolean write, int frameOrMap) {
        Access join(Access o) {
            if (o == null || o.region != region || o.frameOrMap != frameOrMap) {
                return o == null ? this : new Access(region, Math.min(minOffset, o.minOffset), Math.max(maxOffset, o.maxOffset),
                        size, write, -2);
            }
            return new Access(region, Math.min(minOffset, o.minOffset), Math.max(maxOffset, o.maxOffset), size, write, frameOrMap);
        }
    }

    static Register of(Value v) {
        return switch (v) {
            case null -> Register.UNINIT;
            case Value.Uninit u -> Register.UNINIT;
            case Value.Scal s -> new Register(Kind.SCALAR, s.s(), -1, false);
            case Value.Ptr p -> new Register(kind(p.kind()), dev.prism.verifier.domain.ScalarAlu.alu(dev.prism.isa.AluOp.ADD,
                    dev.prism.isa.Width.W64, p.var(), Scalar.constant(p.fixed())),
                    p.kind() == Value.Kind.MAP_VALUE || p.kind() == Value.Kind.MAP_PTR ? p.map() : -1, p.maybeNull());
        };
    }

    static Kind kind(Value.Kind k) {
        return switch (k) {
            case CTX -> Kind.CTX;
            case STACK -> Kind.STACK;
            case PACKET -> Kind.PACKET;
            case PACKET_END -> Kind.PACKET_END;
            case PACKET_META -> Kind.PACKET_META;
            case MAP_VALUE -> Kind.MAP_VALUE;
            case MAP_PTR -> Kind.MAP;
            case RINGBUF_MEM -> Kind.RINGBUF_RECORD;
            case FUNC -> Kind.FUNCTION;
            case MEM -> Kind.MEM;
            case MAP_KEY -> Kind.MEM; // read-only memory of a known size, as far as a backend cares
            case ITER -> Kind.STACK; // an iterator's stack slot read back whole: never dereferenced
        };
    }

    static List<Register> registers(Value[] regs) {
        return Arrays.stream(regs).map(Facts::of).toList();
    }

    /**
     * {@return the registers, with map indices at or past {@code programMaps} (inner map
     * templates, known to the verifier only) turned into -1}: a map pointer or value from a
     * lookup in a map-in-map is not one of the program's maps, and no backend may pin it
     */
    static List<Register> registers(Value[] regs, int programMaps) {
        return Arrays.stream(regs).map(Facts::of).map(r -> r.map() >= programMaps
                ? new Register(r.kind(), r.value(), -1, r.maybeNull()) : r).toList();
    }

    /** {@return the access, its map index turned into -1 when it names an inner map template} */
    static Access programMap(Access a, int programMaps) {
        return a == null || a.region() != Kind.MAP_VALUE || a.frameOrMap() < programMaps ? a
                : new Access(a.region(), a.minOffset(), a.maxOffset(), a.size(), a.write(), -1);
    }
}
