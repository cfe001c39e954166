/* ipv6_ext.c: walks up to six IPv6 extension headers (hop-by-hop, routing,
 * destination options: length (hdrlen + 1) * 8; fragment: 8 bytes), then reads the
 * TCP or UDP destination port. Each header's length is a variable offset added to the
 * cursor, proven against data_end before the next read. Drops packets to port 9 and
 * packets whose headers are cut; counts the extension headers seen.
 */
#include "prism_bpf.h"

#define MAX_EXT 6

struct ipv6_opt_hdr {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_EXT + 1);
	__type(key, __u32);
	__type(value, __u64);
} ext_count SEC(".maps");

SEC("xdp")
int xdp_ipv6_ext(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	void *cur;
	__u8 nh;
	__u32 seen = 0;

	if ((void *)(ip6 + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IPV6))
		return XDP_PASS;
	nh = ip6->nexthdr;
	cur = ip6 + 1;
#pragma unroll
	for (int i = 0; i < MAX_EXT; i++) {
		struct ipv6_opt_hdr *oh = cur;

		if (nh != 0 && nh != 43 && nh != 60 && nh != 44)
			break;
		if ((void *)(oh + 1) > data_end)
			return XDP_DROP;
		seen++;
		if (nh == 44) {
			nh = oh->nexthdr;
			cur += 8;
		} else {
			nh = oh->nexthdr;
			cur += (oh->hdrlen + 1) * 8;
		}
	}
	__u64 *n = bpf_map_lookup_elem(&ext_count, &seen);

	if (n)
		__sync_fetch_and_add(n, 1);
	if (nh == IPPROTO_TCP || nh == IPPROTO_UDP) {
		struct udphdr *l4 = cur;

		if ((void *)(l4 + 1) > data_end)
			return XDP_DROP;
		if (l4->dest == bpf_htons(9))
			return XDP_DROP;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
