/*
 * Cross-check input (LlvmObjdumpCrossCheckTest): instructions clang does not choose for any C
 * expression on a little-endian target, at some or all -mcpu levels. They are written as
 * inline assembly in LLVM's BPF syntax, so that clang still assembles them into the object:
 * le16/32/64 (a no-op on bpfel), be16/32/64 (clang uses bswap at v4), jset in both widths,
 * gotol (ja32, needed only for jumps beyond +-32767 slots), callx, a helper call by id, and
 * the legacy packet loads ld_abs / ld_ind.
 */
#define SEC(name) __attribute__((section(name), used))

typedef unsigned long long u64;

SEC("socket")
int rare(void *skb)
{
    u64 out;

    asm volatile(
        "r6 = r1\n\t"
        "r3 = 0x1234\n\t"
        "r3 = le16 r3\n\t"
        "r3 = le32 r3\n\t"
        "r3 = le64 r3\n\t"
        "r3 = be16 r3\n\t"
        "r3 = be32 r3\n\t"
        "r3 = be64 r3\n\t"
        "w4 = 0x80\n\t"
        "if r3 & r4 goto +1\n\t"
        "if w3 & 0x10 goto +1\n\t"
        "r3 += 1\n\t"
        "gotol +1\n\t"
        "r3 = -r3\n\t"
        "r0 = *(u8 *)skb[0x1]\n\t"
        "r0 = *(u16 *)skb[0xc]\n\t"
        "r0 = *(u32 *)skb[0x1a]\n\t"
        "r3 &= 0xf\n\t"
        "r0 = *(u8 *)skb[r3]\n\t"
        "r0 = *(u16 *)skb[r3]\n\t"
        "r0 = *(u32 *)skb[r3]\n\t"
        "r1 = r6\n\t"
        "call 7\n\t"
        "r2 = r0\n\t"
        "if r2 == 0 goto +1\n\t"
        "callx r2\n\t"
        "%[out] = r0\n\t"
        : [out] "=r"(out)
        :
        : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "memory");
    return (int)out;
}

char _license[] SEC("license") = "GPL";
