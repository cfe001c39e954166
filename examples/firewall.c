/* firewall.c: XDP firewall. Drops IPv4 packets whose source address falls in a
 * blocked prefix (longest-prefix-match trie filled from user space, value = rule id)
 * and counts drops per rule in an array; everything else passes. Frames too short
 * for the headers they claim are dropped and counted in slot 0.
 */
#include "prism_bpf.h"

#define MAX_RULES 64

struct lpm_v4_key {
	__u32 prefixlen; /* bits of addr that matter, 0..32 */
	__u32 addr;      /* IPv4 address, network byte order */
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__type(key, struct lpm_v4_key);
	__type(value, __u32); /* rule id, 1..MAX_RULES-1 */
	__uint(map_flags, BPF_F_NO_PREALLOC);
} blocked SEC(".maps");

/* drops[rule id]; drops[0] counts malformed frames */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_RULES);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

static __always_inline int count_drop(__u32 rule)
{
	__u64 *cnt;

	if (rule >= MAX_RULES)
		rule = MAX_RULES - 1;
	cnt = bpf_map_lookup_elem(&drops, &rule);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	return XDP_DROP;
}

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph;
	struct lpm_v4_key key;
	__u32 *rule;

	if ((void *)(eth + 1) > data_end)
		return count_drop(0);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end || iph->ihl < 5)
		return count_drop(0);

	key.prefixlen = 32;
	key.addr = iph->saddr;
	rule = bpf_map_lookup_elem(&blocked, &key);
	if (rule)
		return count_drop(*rule);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
