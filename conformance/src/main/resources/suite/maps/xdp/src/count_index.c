/* An aligned atomic at a variable offset: __sync_fetch_and_add on a u32 array in a map value
 * at index data[14] & 15, so the offset is (masked index) * 4, always a multiple of 4.
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

struct counters {
	__u32 c[16];
};

struct {
	__uint(type, 2); /* BPF_MAP_TYPE_ARRAY */
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct counters);
} cnt SEC(".maps");

SEC("xdp")
int count_index(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 k = 0;
	struct counters *v;

	if (data + 16 > end)
		return 1;
	v = bpf_map_lookup_elem(&cnt, &k);
	if (!v)
		return 1;
	__sync_fetch_and_add(&v->c[data[14] & 15], 1);
	return 2;
}

char LICENSE[] SEC("license") = "GPL";
