/* filter.c: a multi-protocol packet filter shaped like the widely used XDP filters.
 * A header cursor (kept in a stack struct) walks Ethernet, up to four VLAN tags,
 * then ARP, IPv4 (options skipped: ihl * 4 bytes, checked against data_end) or IPv6
 * (up to six extension headers, (hdrlen + 1) * 8 bytes each, in a loop), ICMPv6
 * neighbour discovery, UDP and TCP (doff * 4 checked). Source and destination are
 * looked up in four maps: Ethernet addresses, IPv4 addresses, IPv6 addresses and
 * ports, each value holding flags; a hit bumps the value's counter and drops the
 * packet. Every path ends in one place that records the action and the bytes in a
 * per-action statistics map. Every protocol branch is a separate path through the
 * verifier: the program exercises pruning.
 */
#include "prism_bpf.h"

#define MAX_VLAN 4
#define MAX_EXT 6

#define F_SRC 1
#define F_DST 2
#define F_TCP 4
#define F_UDP 8
#define HIT_SHIFT 8

struct ethaddr {
	__u8 addr[ETH_ALEN];
};

struct cursor {
	void *pos;
};

struct ipv6_opt_hdr {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct arphdr {
	__be16 ar_hrd;
	__be16 ar_pro;
	__u8 ar_hln;
	__u8 ar_pln;
	__be16 ar_op;
	__u8 ar_sha[ETH_ALEN];
	__be32 ar_sip;
	__u8 ar_tha[ETH_ALEN];
	__be32 ar_tip;
} __attribute__((packed));

struct icmp6hdr {
	__u8 type;
	__u8 code;
	__sum16 cksum;
	__be32 reserved;
};

struct datarec {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct ethaddr);
	__type(value, __u64);
} filter_eth SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} filter_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct in6_addr);
	__type(value, __u64);
} filter_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} filter_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 5);
	__type(key, __u32);
	__type(value, struct datarec);
} stats SEC(".maps");

/* A hit: the value holds every flag of mask; its counter (above HIT_SHIFT) is bumped. */
#define LOOKUP(map, key, mask)                                         \
	do {                                                           \
		__u64 *v = bpf_map_lookup_elem(map, key);              \
		if (v && (*v & (mask)) == (mask)) {                    \
			__sync_fetch_and_add(v, 1 << HIT_SHIFT);       \
			return XDP_DROP;                               \
		}                                                      \
	} while (0)

static __always_inline int verdict_eth(struct ethhdr *eth)
{
	struct ethaddr a = {};

	__builtin_memcpy(&a, eth->h_dest, ETH_ALEN);
	LOOKUP(&filter_eth, &a, F_DST);
	__builtin_memcpy(&a, eth->h_source, ETH_ALEN);
	LOOKUP(&filter_eth, &a, F_SRC);
	return XDP_PASS;
}

static __always_inline int verdict_v4(__u32 *src, __u32 *dst)
{
	__u32 a;

	if (dst) {
		a = *dst;
		LOOKUP(&filter_v4, &a, F_DST);
	}
	if (src) {
		a = *src;
		LOOKUP(&filter_v4, &a, F_SRC);
	}
	return XDP_PASS;
}

static __always_inline int verdict_v6(struct in6_addr *src, struct in6_addr *dst)
{
	struct in6_addr a;

	if (dst) {
		a = *dst;
		LOOKUP(&filter_v6, &a, F_DST);
	}
	if (src) {
		a = *src;
		LOOKUP(&filter_v6, &a, F_SRC);
	}
	return XDP_PASS;
}

static __always_inline int verdict_ports(__be16 sport, __be16 dport, __u64 proto_flag)
{
	__u32 k = bpf_ntohs(dport);

	LOOKUP(&filter_ports, &k, F_DST | proto_flag);
	k = bpf_ntohs(sport);
	LOOKUP(&filter_ports, &k, F_SRC | proto_flag);
	return XDP_PASS;
}

static __always_inline int parse_eth(struct cursor *c, void *data_end, struct ethhdr **ethp)
{
	struct ethhdr *eth = c->pos;
	struct vlan_hdr *vh;
	__u16 proto;

	if ((void *)(eth + 1) > data_end)
		return -1;
	*ethp = eth;
	vh = (void *)(eth + 1);
	proto = eth->h_proto;
#pragma unroll
	for (int i = 0; i < MAX_VLAN; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > data_end)
			break;
		proto = vh->h_vlan_encapsulated_proto;
		vh++;
	}
	c->pos = vh;
	return proto;
}

static __always_inline int parse_ipv4(struct cursor *c, void *data_end, struct iphdr **iphp)
{
	struct iphdr *iph = c->pos;
	int len;

	if ((void *)(iph + 1) > data_end)
		return -1;
	len = iph->ihl * 4;
	if (len < (int)sizeof(*iph))
		return -1;
	if (c->pos + len > data_end)
		return -1;
	c->pos += len;
	*iphp = iph;
	return iph->protocol;
}

static __always_inline int skip_ext(struct cursor *c, void *data_end, __u8 nh)
{
	for (int i = 0; i < MAX_EXT; i++) {
		struct ipv6_opt_hdr *h = c->pos;

		if ((void *)(h + 1) > data_end)
			return -1;
		switch (nh) {
		case 0:  /* hop-by-hop */
		case 43: /* routing */
		case 60: /* destination options */
			c->pos = (void *)h + (h->hdrlen + 1) * 8;
			nh = h->nexthdr;
			break;
		case 51: /* authentication header */
			c->pos = (void *)h + (h->hdrlen + 2) * 4;
			nh = h->nexthdr;
			break;
		case 44: /* fragment */
			c->pos = (void *)h + 8;
			nh = h->nexthdr;
			break;
		default:
			return nh;
		}
	}
	return -1;
}

static __always_inline int parse_ipv6(struct cursor *c, void *data_end, struct ipv6hdr **ip6p)
{
	struct ipv6hdr *ip6 = c->pos;

	if ((void *)(ip6 + 1) > data_end)
		return -1;
	c->pos = ip6 + 1;
	*ip6p = ip6;
	return skip_ext(c, data_end, ip6->nexthdr);
}

static __always_inline int record(struct xdp_md *ctx, __u32 action)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct datarec *r;

	if (action > XDP_REDIRECT)
		return XDP_ABORTED;
	r = bpf_map_lookup_elem(&stats, &action);
	if (!r)
		return XDP_ABORTED;
	r->packets++;
	r->bytes += data_end - data;
	return action;
}

SEC("xdp")
int xdp_filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 action = XDP_PASS;
	struct cursor c = { .pos = data };
	struct ethhdr *eth;
	struct iphdr *iph;
	struct ipv6hdr *ip6;
	int proto, l4 = 0;

	proto = parse_eth(&c, data_end, &eth);
	if (proto < 0) {
		action = XDP_ABORTED;
		goto out;
	}
	if ((action = verdict_eth(eth)) != XDP_PASS)
		goto out;
	if (proto == bpf_htons(ETH_P_IP)) {
		l4 = parse_ipv4(&c, data_end, &iph);
		if (l4 < 0) {
			action = XDP_ABORTED;
			goto out;
		}
		if ((action = verdict_v4(&iph->saddr, &iph->daddr)) != XDP_PASS)
			goto out;
	} else if (proto == bpf_htons(ETH_P_ARP)) {
		struct arphdr *arp = c.pos;
		__be32 sip, tip;

		if ((void *)(arp + 1) > data_end) {
			action = XDP_ABORTED;
			goto out;
		}
		sip = arp->ar_sip;
		tip = arp->ar_tip;
		if ((action = verdict_v4(&sip, NULL)) != XDP_PASS)
			goto out;
		if (arp->ar_op == bpf_htons(1))
			action = verdict_v4(NULL, &tip);
		else if (arp->ar_op == bpf_htons(2))
			action = verdict_v4(&tip, NULL);
		goto out;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		l4 = parse_ipv6(&c, data_end, &ip6);
		if (l4 < 0) {
			action = XDP_ABORTED;
			goto out;
		}
		if ((action = verdict_v6(&ip6->saddr, &ip6->daddr)) != XDP_PASS)
			goto out;
		if (l4 == IPPROTO_ICMPV6) {
			struct icmp6hdr *icmp = c.pos;
			struct in6_addr *target;

			if ((void *)(icmp + 1) > data_end) {
				action = XDP_ABORTED;
				goto out;
			}
			target = (void *)(icmp + 1);
			if (icmp->type == 135 || icmp->type == 136) {
				if ((void *)(target + 1) > data_end) {
					action = XDP_ABORTED;
					goto out;
				}
				if (icmp->type == 135)
					action = verdict_v6(NULL, target);
				else
					action = verdict_v6(target, NULL);
			}
			goto out;
		}
	} else {
		goto out;
	}

	if (l4 == IPPROTO_UDP) {
		struct udphdr *udp = c.pos;

		if ((void *)(udp + 1) > data_end) {
			action = XDP_ABORTED;
			goto out;
		}
		if ((action = verdict_ports(udp->source, udp->dest, F_UDP)) != XDP_PASS)
			goto out;
	}
	if (l4 == IPPROTO_TCP) {
		struct tcphdr *tcp = c.pos;

		if ((void *)(tcp + 1) > data_end) {
			action = XDP_ABORTED;
			goto out;
		}
		if ((void *)tcp + tcp->doff * 4 > data_end) {
			action = XDP_ABORTED;
			goto out;
		}
		if ((action = verdict_ports(tcp->source, tcp->dest, F_TCP)) != XDP_PASS)
			goto out;
	}
out:
	return record(ctx, action);
}

char _license[] SEC("license") = "GPL";
