package dev.prism.nfp;

import dev.prism.target.Rule;

/**
 * The rules of the Linux nfp driver (drivers/net/ethernet/netronome/nfp/bpf: verifier.c, jit.c,
 * offload.c, main.c) and of the kernel core for offloaded programs (kernel/bpf/offload.c). Each
 * has the stable id a {@link dev.prism.target.Reason} carries ({@link #id()}): the standard
 * {@link Rule} where one says the same thing, else an {@code nfp-} rule of its own.
 */
public enum NfpRule {
    PROGRAM_TYPE(Rule.PROGRAM_TYPE, null),
    OPCODE(Rule.OPCODE, null),
    OPCODE_OFFSET("nfp-opcode-offset", "sdiv, smod and movsx share their opcode byte with div, mod and mov, and the nfp "
            + "driver reads only the byte: they would be miscompiled"),
    STORE_IMMEDIATE("nfp-store-immediate", "stores of an immediate (BPF_ST) fail in the nfp JIT"),
    MUL_RANGE(Rule.MUL_RANGE, null),
    DIV_RANGE(Rule.DIV_RANGE, null),
    DIV_CONSTANT(Rule.DIV_CONSTANT, null),
    POINTER_TYPE("nfp-pointer-type", "the nfp reaches memory through ctx, stack, map value and packet pointers only"),
    POINTER_TYPE_CHANGED("nfp-pointer-type-changed", "an nfp memory instruction must see one pointer type on every path"),
    STACK_OFFSET("nfp-stack-offset", "nfp stack accesses need a constant offset, the same modulo 4 on every path"),
    MAP_WRITE(Rule.MAP_WRITE, null),
    MAP_VALUE_USE("nfp-map-value-use", "nfp map value accesses need a constant offset, and each 4-byte word is either "
            + "read or atomically added"),
    CONTEXT("nfp-context", "the nfp translates only 4-byte loads of the packet pointers from the context"),
    ATOMIC(Rule.ATOMIC, null),
    HELPER(Rule.HELPER, null),
    TAIL_CALL(Rule.TAIL_CALL, null),
    HELPER_ARGUMENT(Rule.HELPER_ARG, null),
    MAP_TYPE(Rule.MAP_TYPE, null),
    MAP_FLAGS("nfp-map-flags", "offloaded maps take no map flags"),
    MAP_DIRECT_VALUE("nfp-map-direct-value", "offloaded maps give no direct value addresses (global data)"),
    MAP_KEY_SIZE(Rule.MAP_KEY_SIZE, null),
    MAP_VALUE_SIZE(Rule.MAP_VALUE_SIZE, null),
    MAP_ENTRIES(Rule.MAP_ENTRIES, null),
    MAP_FIRMWARE("nfp-map-firmware", "the nfp firmware's map limits: number of maps, element size"),
    STACK_SIZE(Rule.STACK_LIMIT, null),
    PROGRAM_LENGTH(Rule.INSN_LIMIT, null),
    PACKET_OFFSET(Rule.PACKET_OFFSET, null),
    XDP_RETURN(Rule.RETURN_CODE, null),
    TC_RETURN("nfp-tc-return", "an offloaded cls_bpf program returns a known constant the nfp handles"),
    KERNEL_VERIFIER("nfp-kernel-verifier", "the kernel's verifier refuses the program before the nfp driver sees it"),
    LEGALIZER("nfp-legalizer", "the nfp legalizer could not make a rewrite");

    private final String id;

    NfpRule(String id, String meaning) {
        this.id = meaning == null ? Rule.require(id) : Rule.define(id, meaning);
    }

    /** {@return the rule id, e.g. "opcode" or "nfp-pointer-type"} */
    public String id() {
        return id;
    }
}
