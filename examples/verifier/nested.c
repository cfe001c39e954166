/* nested.c: nested loops. For each of the first 64 bytes of the UDP payload (a loop
 * bounded by its counter and by data_end), an inner counter loop mixes the byte with the
 * 16 entries of a key table in a map (FNV-1a style: xor with the byte plus the entry
 * under the entry's mask, multiply by the FNV prime). The hash picks one of 16 counters
 * to bump and its low bit the action. The outer loop runs up to 64 times, the inner one
 * 16 times per outer iteration (1,024 inner iterations).
 */
#include "prism_bpf.h"

struct keytab {
	__u8 add[16];
	__u8 mask[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct keytab);
} table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

SEC("xdp")
int xdp_nested(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *udp = (void *)(iph + 1);
	__u32 zero = 0;
	__u32 h = 2166136261u;

	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || iph->protocol != IPPROTO_UDP)
		return XDP_PASS;
	struct keytab *t = bpf_map_lookup_elem(&table, &zero);

	if (!t)
		return XDP_ABORTED;
	__u8 *p = (void *)(udp + 1);
	for (int i = 0; i < 64; i++) {
		if ((void *)(p + i + 1) > data_end)
			break;
		__u8 b = p[i];
#pragma nounroll
		for (__u32 j = 0; j < 16; j++) {
			h ^= (__u8)(b + t->add[j]) & t->mask[j];
			h *= 16777619u;
		}
	}
	__u32 k = h & 15;
	__u64 *n = bpf_map_lookup_elem(&hits, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
	return h & 1 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
