/* ihl_l4.c: reads the UDP or TCP ports after an IPv4 header of any length. The L4
 * header starts at the IHL * 4 bytes the header announces (masked to 4 bits by the
 * bitfield), so its address is the packet start plus a variable offset, checked once
 * against data_end and then read. Counts packets per destination port bucket.
 */
#include "prism_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} port_buckets SEC(".maps");

SEC("xdp")
int xdp_ihl_l4(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);

	if ((void *)(iph + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || iph->ihl < 5)
		return XDP_PASS;
	if (iph->protocol != IPPROTO_UDP && iph->protocol != IPPROTO_TCP)
		return XDP_PASS;
	__u32 off = sizeof(*eth) + iph->ihl * 4;
	struct udphdr *l4 = data + off;

	if ((void *)(l4 + 1) > data_end)
		return XDP_DROP;
	__u32 key = (bpf_ntohs(l4->dest) ^ bpf_ntohs(l4->source)) & 63;
	__u64 *n = bpf_map_lookup_elem(&port_buckets, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	return bpf_ntohs(l4->dest) == 9 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
