/* parser.c: packet parser. Walks Ethernet, up to two VLAN tags (802.1Q / 802.1ad),
 * IPv4 (options skipped via ihl) or IPv6 (fixed header only), then the TCP or UDP
 * ports, checking every header against data_end. Counts packets per L4 protocol and
 * per destination port (< 1024; others in slot 0) in per-CPU arrays and keeps the
 * last parse result. Non-IP frames count in l4_stats slot 0, which they share with
 * IPv6 hop-by-hop (next header 0, not followed further). Returns XDP_DROP for
 * malformed frames (truncated headers, bad version/ihl/doff, more than two VLAN
 * tags), XDP_PASS otherwise.
 */
#include "prism_bpf.h"

#define MAX_VLAN 2

struct parse_result {
	__u16 l3_proto; /* ethertype after the VLAN tags, host order */
	__u8 vlan_depth;
	__u8 l4_proto;  /* IP protocol / IPv6 next header; 0 when not IP */
	__u16 sport;    /* host order; 0 when not TCP/UDP */
	__u16 dport;
	__u16 vlan_ids[MAX_VLAN];
	__u32 l4_offset; /* from the start of the frame */
};

/* packets per L4 protocol number */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} l4_stats SEC(".maps");

/* packets per TCP/UDP destination port below 1024; slot 0 counts the others */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} port_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct parse_result);
} last_result SEC(".maps");

static __always_inline void bump(void *map, __u32 idx)
{
	__u64 *cnt = bpf_map_lookup_elem(map, &idx);

	if (cnt)
		*cnt += 1; /* per-CPU slot: no atomic needed */
}

static __always_inline int parse_ports(void *l4, void *data_end, __u8 proto,
				       struct parse_result *res)
{
	if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > data_end || tcp->doff < 5)
			return -1;
		res->sport = bpf_ntohs(tcp->source);
		res->dport = bpf_ntohs(tcp->dest);
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > data_end)
			return -1;
		res->sport = bpf_ntohs(udp->source);
		res->dport = bpf_ntohs(udp->dest);
	}
	return 0;
}

SEC("xdp")
int xdp_parser(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct parse_result res = {};
	struct ethhdr *eth = data;
	void *cursor;
	__u16 proto;
	__u32 zero = 0;
	struct parse_result *last;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	proto = bpf_ntohs(eth->h_proto);
	cursor = eth + 1;

#pragma unroll
	for (int i = 0; i < MAX_VLAN; i++) {
		struct vlan_hdr *vh = cursor;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if ((void *)(vh + 1) > data_end)
			return XDP_DROP;
		res.vlan_ids[i] = bpf_ntohs(vh->h_vlan_TCI) & 0x0fff;
		res.vlan_depth++;
		proto = bpf_ntohs(vh->h_vlan_encapsulated_proto);
		cursor = vh + 1;
	}
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD)
		return XDP_DROP; /* a third tag */
	res.l3_proto = proto;

	if (proto == ETH_P_IP) {
		struct iphdr *iph = cursor;

		if ((void *)(iph + 1) > data_end || iph->version != 4 || iph->ihl < 5)
			return XDP_DROP;
		cursor = (void *)iph + iph->ihl * 4; /* skips the options */
		if (cursor > data_end)
			return XDP_DROP;
		res.l4_proto = iph->protocol;
		/* non-first fragments have no L4 header */
		if (!(iph->frag_off & bpf_htons(IP_OFFSET)) &&
		    parse_ports(cursor, data_end, res.l4_proto, &res))
			return XDP_DROP;
	} else if (proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = cursor;

		if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
			return XDP_DROP;
		cursor = ip6 + 1;
		res.l4_proto = ip6->nexthdr;
		if (parse_ports(cursor, data_end, res.l4_proto, &res))
			return XDP_DROP;
	} else {
		bump(&l4_stats, 0);
		goto out;
	}

	res.l4_offset = cursor - data;
	bump(&l4_stats, res.l4_proto);
	if (res.l4_proto == IPPROTO_TCP || res.l4_proto == IPPROTO_UDP)
		bump(&port_stats, res.dport < 1024 ? res.dport : 0);
out:
	last = bpf_map_lookup_elem(&last_result, &zero);
	if (last)
		*last = res;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
