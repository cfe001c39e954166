/* flow_counter.c: per-flow packet and byte counters. IPv4 TCP/UDP/ICMP packets are
 * keyed by their 5-tuple (ports 0 for ICMP) in a hash map; the first packet of a flow
 * inserts its entry with BPF_NOEXIST, later ones add atomically. Always XDP_PASS,
 * except frames truncated inside the headers, which are dropped.
 */
#include "prism_bpf.h"

struct flow_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3]; /* explicit, zeroed: the whole 16 bytes are hashed */
};

struct flow_stats {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
} flows SEC(".maps");

SEC("xdp")
int xdp_flow_counter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 len = data_end - data;
	struct ethhdr *eth = data;
	struct flow_key key = {};
	struct flow_stats *st;
	struct iphdr *iph;
	void *l4;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end || iph->ihl < 5)
		return XDP_DROP;
	l4 = (void *)iph + iph->ihl * 4;

	key.saddr = iph->saddr;
	key.daddr = iph->daddr;
	key.proto = iph->protocol;
	/* only the first fragment carries the ports */
	if (!(iph->frag_off & bpf_htons(IP_OFFSET))) {
		if (iph->protocol == IPPROTO_TCP) {
			struct tcphdr *tcp = l4;

			if ((void *)(tcp + 1) > data_end)
				return XDP_DROP;
			key.sport = tcp->source;
			key.dport = tcp->dest;
		} else if (iph->protocol == IPPROTO_UDP) {
			struct udphdr *udp = l4;

			if ((void *)(udp + 1) > data_end)
				return XDP_DROP;
			key.sport = udp->source;
			key.dport = udp->dest;
		} else if (iph->protocol != IPPROTO_ICMP) {
			return XDP_PASS;
		}
	}

	st = bpf_map_lookup_elem(&flows, &key);
	if (!st) {
		struct flow_stats init = { .packets = 1, .bytes = len };

		if (bpf_map_update_elem(&flows, &key, &init, BPF_NOEXIST) == 0)
			return XDP_PASS;
		/* lost a race with another CPU (or the map is full): add to what is there */
		st = bpf_map_lookup_elem(&flows, &key);
		if (!st)
			return XDP_PASS;
	}
	__sync_fetch_and_add(&st->packets, 1);
	__sync_fetch_and_add(&st->bytes, len);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
