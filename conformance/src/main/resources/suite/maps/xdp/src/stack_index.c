/* Variable-offset stack access as clang emits it for an array on the stack indexed by masked
 * packet bytes: a store at buf[data[14] & 15] and a load at buf[(data[14] >> 4) & 15].
 * Linux allows it to privileged loaders; Prism in both profiles (every byte is initialized).
 * Self-contained on purpose: the harness compiles a copy of this file alone. */
typedef unsigned char __u8;
typedef unsigned int __u32;
typedef unsigned long long __u64;
#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

struct xdp_md {
	__u32 data;
	__u32 data_end;
	__u32 data_meta;
	__u32 ingress_ifindex;
	__u32 rx_queue_index;
	__u32 egress_ifindex;
};

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *) 1;

SEC("xdp")
int stack_index(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	volatile __u8 buf[16];

	if (data + 16 > end)
		return 1;
	for (int i = 0; i < 16; i++)
		buf[i] = i;
	buf[data[14] & 15] = 0xaa;
	return buf[data[14] & 15] + buf[(data[14] >> 4) & 15] * 256;
}

char LICENSE[] SEC("license") = "GPL";
