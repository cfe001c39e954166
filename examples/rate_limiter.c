/* rate_limiter.c: token-bucket rate limiter per IPv4 source. Sources hash into
 * NBUCKETS array slots (saddr % NBUCKETS); each slot's bucket is refilled from the
 * time elapsed since its last packet (bpf_ktime_get_ns) at RATE packets per second,
 * up to BURST. A packet takes one token, or is dropped when the bucket is empty.
 * Non-IPv4 traffic passes; truncated IPv4 headers are dropped.
 */
#include "prism_bpf.h"

#define NBUCKETS 256
#define NSEC_PER_SEC 1000000000ULL

/* Tunables: user space may rewrite them in .rodata before loading. */
const volatile __u64 rate_pps = 10; /* tokens per second */
const volatile __u64 burst = 4;     /* bucket size, in packets */

struct bucket {
	__u64 tokens;  /* in nano-tokens: one packet costs NSEC_PER_SEC */
	__u64 last_ns; /* 0: never used */
	__u64 passed;
	__u64 dropped;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NBUCKETS);
	__type(key, __u32);
	__type(value, struct bucket);
} buckets SEC(".maps");

SEC("xdp")
int xdp_rate_limit(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph;
	struct bucket *b;
	__u64 now, cap, elapsed;
	__u32 idx;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end)
		return XDP_DROP;

	idx = bpf_ntohl(iph->saddr) % NBUCKETS;
	b = bpf_map_lookup_elem(&buckets, &idx);
	if (!b)
		return XDP_ABORTED;

	now = bpf_ktime_get_ns();
	cap = burst * NSEC_PER_SEC;
	if (b->last_ns == 0) {
		b->tokens = cap; /* a new source starts with a full bucket */
	} else if (now > b->last_ns) {
		elapsed = now - b->last_ns;
		if (elapsed > 60 * NSEC_PER_SEC)
			elapsed = 60 * NSEC_PER_SEC; /* keeps elapsed * rate far from overflow */
		b->tokens += elapsed * rate_pps;
		if (b->tokens > cap)
			b->tokens = cap;
	}
	b->last_ns = now;

	if (b->tokens < NSEC_PER_SEC) {
		b->dropped++;
		return XDP_DROP;
	}
	b->tokens -= NSEC_PER_SEC;
	b->passed++;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
