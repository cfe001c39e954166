/* Two-sided range as clang emits it: "if (i < 10) ...; if ((unsigned)i > 245) ..." becomes a
 * check of a shifted copy (w2 = w1 - 10; if w2 > 235), and the original indexes a map value.
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

struct val {
	__u8 b[256];
};

struct {
	__uint(type, 2); /* BPF_MAP_TYPE_ARRAY */
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct val);
} vals SEC(".maps");

SEC("xdp")
int two_sided(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 k = 0;
	struct val *v;
	int i;

	if (data + 24 > end)
		return 1;
	v = bpf_map_lookup_elem(&vals, &k);
	if (!v)
		return 1;
	i = (int)(data[22] | data[23] << 8) - 4288; /* TTL 0x40, protocol 0x11: 0x1140 - 4288 = 128 */
	if (i < 10)
		return 1;
	if ((unsigned)i > 245)
		return 1;
	return v->b[i];
}

char LICENSE[] SEC("license") = "GPL";
