package dev.prism.nfp;

/**
 * The rules of the Linux nfp driver (drivers/net/ethernet/netronome/nfp/bpf: verifier.c, jit.c,
 * offload.c, main.c) and of the kernel core for offloaded programs (kernel/bpf/offload.c), each
 * with a stable identifier ({@link #id()}) that reports and tests use.
 */
public enum NfpRule {
    /** Only XDP and cls_bpf (sched_cls) programs are offloaded (kernel core). */
    PROGRAM_TYPE("program-type"),
    /** The JIT's table of 115 opcodes ({@code nfp_bpf_supported_opcode}). */
    OPCODE("opcode"),
    /** sdiv/smod/movsx share their opcode byte with div/mod/mov; the driver reads the byte only. */
    OPCODE_OFFSET("opcode-offset"),
    /** BPF_ST: the JIT's mem_st takes packet pointers only, and the verifier hook never records one. */
    STORE_IMMEDIATE("store-immediate"),
    /** Multiplication: both operands within u32. */
    MUL_RANGE("mul-range"),
    /** Division: unsigned, constant divisor within u32, dividend within u32. */
    DIV("div"),
    /** Pointer types: ctx, stack, map value, packet. */
    POINTER_TYPE("pointer-type"),
    /** One pointer type per instruction on every path. */
    POINTER_TYPE_CHANGED("pointer-type-changed"),
    /** Stack accesses at a constant offset, the same modulo 4 on every path. */
    STACK_OFFSET("stack-offset"),
    /** No stores into map values. */
    MAP_WRITE("map-write"),
    /** Map value accesses at a constant offset; a 4-byte word is read or atomically added, not both. */
    MAP_VALUE_USE("map-value-use"),
    /** Context: XDP 4-byte loads of data and data_end; no stores. */
    CONTEXT("context"),
    /** Atomics: add without fetch, of a scalar, into a map value; counters start at zero. */
    ATOMIC("atomic"),
    /** Helpers 1, 2, 3, 7, 25, 44, 65 and what the firmware offers of them; no tail calls. */
    HELPER("helper"),
    /** Helper arguments: keys and values on the stack at constant 4-byte-aligned offsets, one map per call. */
    HELPER_ARGUMENT("helper-argument"),
    /** Maps: array and hash, flags 0, firmware limits; no direct value addresses. */
    MAP("map"),
    /** The firmware stack: frames rounded to 64 B along each call chain, plus call overhead. */
    STACK_SIZE("stack-size"),
    /** Program length in NFP instructions (estimated per BPF instruction). */
    PROGRAM_LENGTH("program-length"),
    /** Packet accesses within the inline part of the packet; MTU within the split boundary. */
    PACKET_OFFSET("packet-offset"),
    /** XDP actions 0..3; anything larger acts as XDP_ABORTED on the card. */
    XDP_RETURN("xdp-return"),
    /** cls_bpf exit codes: a known constant, TC_ACT_SHOT, STOLEN, QUEUED or above TC_ACT_REDIRECT. */
    TC_RETURN("tc-return"),
    /** What the kernel's own verifier refuses before the driver sees the program. */
    KERNEL_VERIFIER("kernel-verifier"),
    /** A rewrite the legalizer could not make (no scratch register, an offset out of range). */
    LEGALIZER("legalizer");

    private final String id;

    NfpRule(String id) {
        this.id = id;
    }

    /** {@return the stable identifier, e.g. "nfp.opcode"} */
    public String id() {
        return "nfp." + id;
    }
}
