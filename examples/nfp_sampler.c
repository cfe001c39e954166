/* nfp_sampler.c: a program written for the Netronome NFP offload (issue 13). IPv4 packets
 * from a blocked source address (hash map, read only) or with a TTL below the configured
 * minimum (array map, read only) are dropped; every IPv4 packet's length is added to a
 * per-protocol-class byte counter (array map, atomic add only), and one flow in five (by
 * address hash) is counted in a sample counter. Everything else passes.
 *
 * It keeps the nfp driver's rules: array and hash maps without flags, keys on the stack at
 * aligned constant offsets, map values read or atomically added but never stored, context
 * reads of data and data_end only, no helpers beyond map lookups. What needs the nfp
 * legalizer: the two 32-bit modulos by constants (the nfp has no mod; each becomes div, mul,
 * sub with a scratch register).
 */
#include "prism_bpf.h"

#define CLASSES 7
#define SAMPLED 7 /* the sample counter's slot, after the classes 0..6 */

struct config {
	__u32 min_ttl;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __be32);
	__type(value, __u32);
} blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CLASSES + 1);
	__type(key, __u32);
	__type(value, __u64);
} class_bytes SEC(".maps");

static __always_inline void count(__u32 slot, __u64 bytes)
{
	__u64 *c = bpf_map_lookup_elem(&class_bytes, &slot);

	if (c)
		__sync_fetch_and_add(c, bytes);
}

SEC("xdp")
int xdp_nfp_sampler(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph;
	struct config *cfg;
	__u32 zero = 0;
	__be32 saddr;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end)
		return XDP_DROP;

	saddr = iph->saddr;
	if (bpf_map_lookup_elem(&blocked, &saddr))
		return XDP_DROP;
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (cfg && iph->ttl < cfg->min_ttl)
		return XDP_DROP;

	count(iph->protocol % CLASSES, bpf_ntohs(iph->tot_len));
	if ((iph->saddr ^ iph->daddr) % 5 == 0)
		count(SAMPLED, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
