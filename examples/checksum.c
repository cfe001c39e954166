/* checksum.c: IPv4 forwarding step with checksum work. Verifies the IPv4 header
 * checksum in a bounded loop over its 16-bit words (options included), then
 * decrements the TTL, recomputes the checksum the same way, writes both into the
 * packet, swaps the Ethernet addresses and returns XDP_TX. A bad checksum, a TTL
 * that would reach 0 or a malformed header gives XDP_DROP; non-IPv4 passes.
 * For option-less headers it also cross-checks its sum against bpf_csum_diff and
 * counts the outcomes in an array.
 */
#include "prism_bpf.h"

#define MAX_IP_WORDS 30 /* ihl <= 15: at most 60 bytes */

enum {
	STAT_VALID = 0,
	STAT_BAD_CSUM,
	STAT_TTL_EXPIRED,
	STAT_MALFORMED,
	STAT_HELPER_AGREES,
	STAT_HELPER_DIFFERS,
	STAT_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} csum_stats SEC(".maps");

static __always_inline void count(__u32 what)
{
	__u64 *cnt = bpf_map_lookup_elem(&csum_stats, &what);

	if (cnt)
		__sync_fetch_and_add(cnt, 1);
}

static __always_inline __u16 fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* One's-complement sum of the header's 16-bit words, unfolded; -1 past data_end. */
static __always_inline __s64 header_sum(struct iphdr *iph, void *data_end)
{
	__u16 *word = (__u16 *)iph;
	__u32 nwords = iph->ihl * 2;
	__u32 sum = 0;

	for (int i = 0; i < MAX_IP_WORDS; i++) {
		if (i >= nwords)
			break;
		__u16 *w = word + i;

		barrier_var(w); /* keeps clang from moving the offset onto data_end */
		if ((void *)(w + 1) > data_end)
			return -1;
		sum += *w;
	}
	return sum;
}

SEC("xdp")
int xdp_checksum(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph;
	__u8 mac[ETH_ALEN];
	__s64 sum;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end || iph->version != 4 || iph->ihl < 5) {
		count(STAT_MALFORMED);
		return XDP_DROP;
	}

	sum = header_sum(iph, data_end);
	if (sum < 0) {
		count(STAT_MALFORMED);
		return XDP_DROP;
	}
	if (iph->ihl == 5) {
		/* the helper folds to 32 bits differently; compare after the final fold */
		__s64 helper = bpf_csum_diff(NULL, 0, (__be32 *)iph, sizeof(*iph), 0);

		count(helper >= 0 && fold(helper) == fold(sum) ? STAT_HELPER_AGREES
							       : STAT_HELPER_DIFFERS);
	}
	if (fold(sum) != 0xffff) {
		count(STAT_BAD_CSUM);
		return XDP_DROP;
	}
	if (iph->ttl <= 1) {
		count(STAT_TTL_EXPIRED);
		return XDP_DROP;
	}

	iph->ttl--;
	iph->check = 0;
	sum = header_sum(iph, data_end);
	if (sum < 0)
		return XDP_ABORTED; /* cannot happen: the same words were read above */
	iph->check = ~fold(sum);

	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	count(STAT_VALID);
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
