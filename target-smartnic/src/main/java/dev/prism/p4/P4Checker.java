package dev.prism.p4;

import dev.prism.verifier.VerifiedProgram;
import java.util.List;

/**
 * The one source of the {@code p4} target's refusals: it runs the lowering, which notes every
 * construct P4/v1model cannot express (DESIGN.md: "a target's compile refuses exactly what its
 * check reports, with the same words"). Rules:
 * <pre>
 *   p4.program-type        only xdp and raw programs
 *   p4.call                bpf-to-bpf calls (legalizable: inline them)
 *   p4.callx, p4.kfunc     indirect calls, kfuncs
 *   p4.legacy-packet-load  ld_abs / ld_ind
 *   p4.code-address        lddw of a variable or code address
 *   p4.map-value-address   lddw of a value of a non-array map
 *   p4.helper              helpers other than map_lookup_elem, map_update_elem (arrays),
 *                          ktime_get_ns, get_prandom_u32, redirect
 *   p4.helper-argument     a helper's key or value not on the stack at a constant offset
 *   p4.map-update          data-plane writes into hash and LPM maps (v1model tables are read-only)
 *   p4.map-update-flags    map_update_elem flags other than constant BPF_ANY / BPF_EXIST
 *   p4.map-write           a store into a hash or LPM value
 *   p4.map-lookup-sites    a second lookup site of one hash/LPM map (legalizable)
 *   p4.map-type            ring buffers, program arrays as data
 *   p4.region, p4.atomic, p4.stack-frame   memory P4 cannot address
 *   p4.variable-offset     more than {@value P4Lowering#MAX_SELECT} possible offsets
 *   p4.packet-offset       packet offsets past {@value P4Lowering#MAX_PACKET_BYTES} bytes
 *   p4.unroll-limit        more than {@value P4Lowering#UNROLL_LIMIT} instructions after unrolling (legalizable)
 * </pre>
 */
public final class P4Checker {
    private P4Checker() {
    }

    /** {@return every reason the p4 target refuses the program; empty when it accepts it} */
    public static List<P4Refusal> check(VerifiedProgram program) {
        return P4Lowering.lower(program).refusals();
    }
}
