package dev.prism.verifier;

import dev.prism.verifier.domain.Scalar;

/**
 * What the verifier knows about one register (or spilled stack slot): nothing readable, a
 * scalar, or a pointer into one region.
 */
sealed interface Value {
    /** Not initialized: reading it is an error. Also the result of joining incompatible values. */
    record Uninit() implements Value {
        @Override
        public String toString() {
            return "?";
        }
    }

    /** A number, with what is known of its bits and ranges. */
    record Scal(Scalar s) implements Value {
        @Override
        public boolean equals(Object o) {
            return this == o || o instanceof Scal x && s.equals(x.s);
        }

        @Override
        public String toString() {
            return s.toString();
        }
    }

    /** Regions a pointer may point into. */
    enum Kind {
        CTX("ctx"), STACK("fp"), PACKET("pkt"), PACKET_END("pkt_end"), PACKET_META("pkt_meta"),
        MAP_VALUE("map_value"), MAP_PTR("map_ptr"), RINGBUF_MEM("ringbuf_mem"), FUNC("func"),
        /** A raw program's input memory, of a size given to the verifier. */
        MEM("mem"),
        /** A map element's key handed to a bpf_for_each_map_elem callback: read-only, {@code size} bytes. */
        MAP_KEY("map_key"),
        /**
         * An open-coded iterator ({@code struct bpf_iter_num}) alive in a stack slot: only ever a
         * spilled value, which the iterator kfuncs check and change ({@link KfuncCheck}); size is
         * the most elements it can still yield.
         */
        ITER("iter");

        final String text;

        Kind(String text) {
            this.text = text;
        }
    }

    /**
     * A pointer: region {@code kind} plus a constant offset {@code fixed} and a variable part
     * {@code var} (zero for most pointers). Packet pointers with the same {@code id} share a
     * variable part and a proven range (as Linux's verifier does); nullable map values and ring
     * buffer records carry the id of the call that produced them, so a null check on one copy
     * settles every copy.
     *
     * @param map      map index for MAP_VALUE / MAP_PTR, function start for FUNC, stack frame for STACK
     * @param size     RINGBUF_MEM: the reserved size
     * @param ref      RINGBUF_MEM: the reference that must be released
     */
    record Ptr(Kind kind, long fixed, Scalar var, int id, int map, boolean maybeNull, int size, int ref) implements Value {
        Ptr withOffset(long newFixed, Scalar newVar, int newId) {
            return new Ptr(kind, newFixed, newVar, newId, map, maybeNull, size, ref);
        }

        Ptr nonNull() {
            return new Ptr(kind, fixed, var, id, map, false, size, ref);
        }

        /** {@return the offset's smallest and largest values: fixed + var} */
        long minOffset() {
            return fixed + var.smin();
        }

        long maxOffset() {
            return fixed + var.smax();
        }

        // as the record's, written out (see Tnum.equals); hashCode stays the record's
        @Override
        public boolean equals(Object o) {
            return this == o || o instanceof Ptr x && kind == x.kind && fixed == x.fixed && id == x.id && map == x.map
                    && maybeNull == x.maybeNull && size == x.size && ref == x.ref && var.equals(x.var);
        }

        boolean hasVar() {
            return !(var.isConstant() && var.constantValue() == 0);
        }

        @Override
        public String toString() {
            String base = (map == CsdAccess.OUT_REGION && (kind == Kind.PACKET || kind == Kind.PACKET_END)
                    ? (kind == Kind.PACKET ? "out" : "out_end") : kind.text) + (kind == Kind.MAP_VALUE || kind == Kind.MAP_PTR ? "(map " + map + ")" : "")
                    + (kind == Kind.STACK ? "(frame " + map + ")" : "");
            String off = fixed != 0 ? (fixed > 0 ? "+" : "") + fixed : "";
            String v = hasVar() ? "+" + var : "";
            return base + off + v + (maybeNull ? "_or_null" : "") + (id != 0 ? " id=" + id : "");
        }
    }

    Uninit UNINIT = new Uninit();

    static Scal scalar(Scalar s) {
        return new Scal(s);
    }
}
