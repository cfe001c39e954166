/* Global variables of a clang BPF object: each data section becomes a one-entry array map
 * (libbpf's .data/.rodata/.bss internal maps), and every access to a variable is an
 * lddw map_value_idx (src 6) of that map with the variable's offset.
 * Self-contained on purpose: the harness compiles a copy of this file alone. */
typedef unsigned int __u32;
typedef unsigned long long __u64;
#define SEC(name) __attribute__((section(name), used))

struct xdp_md;

__u64 counter = 5;             /* .data,   value 8 bytes */
const volatile __u32 step = 7; /* .rodata, value 4 bytes, read-only to the program */
__u32 seen;                    /* .bss,    value 4 bytes, zero */

SEC("xdp")
int add_step(struct xdp_md *ctx)
{
	counter += step;
	seen = 1;
	return counter;
}

char LICENSE[] SEC("license") = "GPL";
