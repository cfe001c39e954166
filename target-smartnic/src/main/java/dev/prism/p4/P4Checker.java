package dev.prism.p4;

import dev.prism.target.Rule;
import dev.prism.target.Verdict;
import dev.prism.verifier.VerifiedProgram;
import java.util.List;
import java.util.Map;

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

    /** Loops unrolled past the instruction limit. */
    static final String UNROLL_LIMIT = Rule.define("p4-unroll-limit",
            "unrolling the loops gives more instructions than the p4 lowering emits");
    /** Two lookup sites of one table-held map. */
    static final String LOOKUP_SITES = Rule.define("p4-map-lookup-sites",
            "a hash or LPM map is looked up at more than one instruction (one value buffer per table)");
    private static final String HELPER_ARGUMENT = Rule.define("p4-helper-argument",
            "a helper's key or value is not on the stack at a constant offset");
    private static final String VARIABLE_OFFSET = Rule.define("p4-variable-offset",
            "a packet or stack access has more possible offsets than the bounded select takes");
    private static final String REGION = Rule.define("p4-region", "memory the p4 lowering cannot address");
    private static final String CODE_ADDRESS = Rule.define("p4-code-address", "lddw of a code or variable address");
    private static final String MAP_ADDRESS = Rule.define("p4-map-value-address", "lddw of a value of a non-array map");
    private static final String KFUNC = Rule.define("p4-kfunc", "a call of a helper by BTF id");

    /** The lowering's rule names, as {@link Rule} ids (standard ones where they mean the same). */
    private static final Map<String, String> RULES = Map.ofEntries(
            Map.entry("p4.program-type", Rule.PROGRAM_TYPE), Map.entry("p4.call", Rule.BPF_CALL),
            Map.entry("p4.callx", Rule.CALLX), Map.entry("p4.kfunc", KFUNC), Map.entry("p4.legacy-packet-load", Rule.GROUP),
            Map.entry("p4.code-address", CODE_ADDRESS), Map.entry("p4.map-value-address", MAP_ADDRESS),
            Map.entry("p4.helper", Rule.HELPER), Map.entry("p4.helper-argument", HELPER_ARGUMENT),
            Map.entry("p4.map-update", Rule.MAP_WRITE), Map.entry("p4.map-update-flags", Rule.HELPER_ARG),
            Map.entry("p4.map-write", Rule.MAP_WRITE), Map.entry("p4.map-lookup-sites", LOOKUP_SITES),
            Map.entry("p4.map-type", Rule.MAP_TYPE), Map.entry("p4.map", REGION), Map.entry("p4.region", REGION),
            Map.entry("p4.atomic", Rule.ATOMIC), Map.entry("p4.stack-frame", REGION),
            Map.entry("p4.variable-offset", VARIABLE_OFFSET), Map.entry("p4.packet-offset", Rule.PACKET_OFFSET),
            Map.entry("p4.unroll-limit", UNROLL_LIMIT));

    /** Adds the lowering's refusals to a verdict ({@link dev.prism.target.CapabilityChecker.Extra}). */
    static void addTo(VerifiedProgram program, Verdict.Builder out) {
        for (P4Refusal r : check(program)) {
            out.add(r.pc(), RULES.getOrDefault(r.rule(), REGION), r.sentence(), r.legalizable(), "");
        }
    }

    /** {@return every reason the p4 target refuses the program; empty when it accepts it} */
    public static List<P4Refusal> check(VerifiedProgram program) {
        return P4Lowering.lower(program).refusals();
    }
}
