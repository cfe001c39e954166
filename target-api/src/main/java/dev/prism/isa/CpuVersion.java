package dev.prism.isa;

/**
 * The BPF "CPU versions", as clang's {@code -mcpu=v1..v4} name them. Each opcode records the
 * lowest version whose code generator may emit it:
 * <ul>
 *   <li>v1: the original eBPF set (ALU, ALU64, JMP with JA..JSGE, loads/stores, lddw, atomic add
 *       without fetch, le/be, legacy packet loads, calls);</li>
 *   <li>v2: JLT, JLE, JSLT, JSLE in the JMP class;</li>
 *   <li>v3: the JMP32 class and the fetching atomics (fetch add/or/and/xor, xchg, cmpxchg),
 *       plus atomic or/and/xor without fetch;</li>
 *   <li>v4: sign-extending loads, movsx, sdiv/smod, unconditional bswap, ja32 (gotol).</li>
 * </ul>
 */
public enum CpuVersion {
    V1, V2, V3, V4;

    /** {@return "v1".."v4"} */
    public String id() {
        return "v" + (ordinal() + 1);
    }

    /** {@return the version named "v1".."v4" (case-insensitive)} */
    public static CpuVersion of(String id) {
        for (CpuVersion v : values()) {
            if (v.id().equalsIgnoreCase(id)) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown cpu version '" + id + "' (known: v1, v2, v3, v4)");
    }

    @Override
    public String toString() {
        return id();
    }
}
