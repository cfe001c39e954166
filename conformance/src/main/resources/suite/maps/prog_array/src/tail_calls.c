/* Tail calls through a prog_array (bpf_tail_call, helper 12). Several xdp programs in one
 * object sharing its maps; the harness loads the ones a case names and fills the prog_array
 * from -- map-init. Self-contained on purpose: the harness compiles a copy of this file alone. */
typedef unsigned int __u32;
#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]

struct xdp_md;

static long (*bpf_tail_call)(void *ctx, void *prog_array_map, __u32 index) = (void *) 12;

struct {
	__uint(type, 3); /* BPF_MAP_TYPE_PROG_ARRAY */
	__uint(max_entries, 4);
	__uint(key_size, 4);
	__uint(value_size, 4);
} jmp SEC(".maps");

__u32 runs; /* .bss: how many times self_tail started */

SEC("xdp")
int to_slot0(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jmp, 0);
	return 1; /* only when the tail call fails */
}

SEC("xdp")
int to_slot1(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jmp, 1);
	return 7;
}

SEC("xdp")
int to_slot8(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jmp, 8);
	return 5;
}

SEC("xdp")
int target(struct xdp_md *ctx)
{
	return 42;
}

SEC("xdp")
int self_tail(struct xdp_md *ctx)
{
	runs++;
	bpf_tail_call(ctx, &jmp, 0);
	return runs;
}

char LICENSE[] SEC("license") = "GPL";
