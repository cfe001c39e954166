/* calls.c: BPF-to-BPF calls and global data. A static, non-inlined call chain
 * (score_packet -> mix_addrs -> mix, then combine with five arguments, classify
 * and account, which reads the caller's stack through a pointer) computes a
 * score 0..255 for each IPv4 packet from its addresses, protocol and length;
 * packets scoring below the configured threshold are dropped, the rest pass.
 * Configuration lives in .rodata (const volatile, rewritable before load), running
 * totals in .data (initialized), per-protocol-class counts in .bss (zeroed).
 * Non-IPv4 frames are reported with bpf_trace_printk (a string literal, which clang
 * puts in .rodata.str1.1) and passed; truncated IPv4 headers are dropped.
 */
#include "prism_bpf.h"

/* .rodata */
const volatile __u32 cfg_multiplier = 0x9E3779B1; /* golden-ratio hash constant */
const volatile __u32 cfg_drop_below = 16;         /* scores are 0..255 */
const volatile __u32 cfg_max_len = 1514;

/* .data */
struct totals {
	__u32 magic;
	__u32 generation;
	__u64 packets;
	__u64 bytes;
	__u64 last_score;
} totals = { .magic = 0x50524953, .generation = 1 };

/* .bss: indexed by class, see classify() */
__u64 class_packets[4];
__u64 class_bytes[4];

static __noinline __u32 mix(__u32 h, __u32 v)
{
	h ^= v;
	h *= cfg_multiplier;
	return h ^ (h >> 15);
}

static __noinline __u32 mix_addrs(__be32 saddr, __be32 daddr, __u8 proto)
{
	__u32 h = mix(0x2545F491, saddr);

	h = mix(h, daddr);
	return mix(h, proto);
}

static __noinline __u64 combine(__u64 a, __u64 b, __u64 c, __u64 d, __u64 e)
{
	return (a * 3 + b * 5 + c * 7 + d * 11 + e * 13) & 0xff;
}

static __noinline __u32 classify(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return 1;
	case IPPROTO_UDP:
		return 2;
	case IPPROTO_ICMP:
		return 3;
	default:
		return 0;
	}
}

/* Updates .data and .bss; *score is the caller's stack slot. */
static __noinline void account(__u32 class, __u32 len, __u64 *score)
{
	if (class > 3)
		return;
	class_packets[class]++;
	class_bytes[class] += len;
	totals.packets++;
	totals.bytes += len;
	totals.last_score = *score;
}

static __noinline __u32 score_packet(struct iphdr *iph, __u32 len)
{
	__u32 h = mix_addrs(iph->saddr, iph->daddr, iph->protocol);
	__u64 score = combine(h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff, h >> 24, len);

	if (len > cfg_max_len)
		score = 0;
	account(classify(iph->protocol), len, &score);
	return score;
}

SEC("xdp")
int xdp_calls(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = data_end - data;
	struct ethhdr *eth = data;
	struct iphdr *iph;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP)) {
		bpf_trace_printk("calls: non-IPv4 frame, %u bytes\n",
				 sizeof("calls: non-IPv4 frame, %u bytes\n"), len);
		return XDP_PASS;
	}
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end)
		return XDP_DROP;

	return score_packet(iph, len) < cfg_drop_below ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
