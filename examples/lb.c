/* lb.c: a small L4 load balancer in the style of production XDP balancers.
 *
 * Packets to the virtual IP (IPv4 10.0.0.2, or IPv6 1819:1a1b::/32), TCP or UDP, are sent to
 * one of four real servers:
 *  - a flow (5-tuple) already seen goes where it went before: connection tables are LRU
 *    hashes, one per CPU, held in an ARRAY_OF_MAPS indexed by the CPU (lru_mapping); a CPU
 *    without a table of its own uses fallback_lru;
 *  - a new flow is placed by consistent hashing: a hash of the 5-tuple picks a slot of a
 *    16-slot ring (filled by user space, so removing a real moves only its own slots), the
 *    slot names the real;
 *  - the packet is encapsulated for the real: IPv4 in IPv4 (IPIP, 20 bytes of new headroom
 *    via bpf_xdp_adjust_head) or IPv6 in IPv6 (40 bytes), a new outer header written, and
 *    sent back out (XDP_TX).
 * Other packets pass; frames cut inside the headers are dropped. Per-CPU counters in stats.
 *
 * The tables are BPF_MAP_TYPE_LRU_HASH, one per CPU, rather than LRU_PERCPU_HASH: a flow's
 * entry must hold one real for the whole connection, and a per-CPU value would give each CPU
 * its own copy of a single shared table; one table per CPU in a map-in-map is the layout
 * production balancers use (and what the issue asks for).
 */
#include "prism_bpf.h"

#define RING_SIZE 16
#define MAX_REALS 4
#define IPPROTO_IPIP 4
#define IPPROTO_IPV6 41

struct flow {
	__be32 src[4]; /* IPv4: src[0] only */
	__be32 dst[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct real {
	__be32 v4;
	__be32 v6[4];
};

struct conn {
	__u32 real;
	__u32 packets;
};

struct lru_table {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow);
	__type(value, struct conn);
};

struct lru_table lru_cpu0 SEC(".maps"), lru_cpu1 SEC(".maps"), fallback_lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct lru_table);
} lru_mapping SEC(".maps") = {
	.values = { [0] = &lru_cpu0, [1] = &lru_cpu1 },
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RING_SIZE);
	__type(key, __u32);
	__type(value, __u32);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_REALS);
	__type(key, __u32);
	__type(value, struct real);
} reals SEC(".maps");

enum { STAT_V4 = 0, STAT_V6 = 1, STAT_NEW_FLOW = 2, STAT_PASS = 3, STAT_MAX = 4 };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* the balancer's own addresses: outer source and the next hop's MAC */
const volatile __be32 lb_v4 = 0x0909090a; /* 10.9.9.9 in network order */
const volatile __u8 next_hop[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x99};

static __always_inline void count(__u32 what)
{
	__u64 *c = bpf_map_lookup_elem(&stats, &what);

	if (c)
		*c += 1;
}

static __always_inline __u32 flow_hash(const struct flow *f)
{
	__u32 h = 0x9e3779b9;

#pragma unroll
	for (int i = 0; i < 4; i++) {
		h ^= f->src[i];
		h *= 0x01000193;
		h ^= f->dst[i];
		h *= 0x01000193;
	}
	h ^= ((__u32)f->sport << 16) | f->dport;
	h *= 0x01000193;
	h ^= f->proto;
	h ^= h >> 15;
	return h;
}

/* The real for a flow: the CPU's connection table, else the consistent-hash ring. */
static __always_inline struct real *pick_real(struct flow *f)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct conn *c;
	struct conn fresh = {};
	__u32 slot;
	__u32 *idx;
	void *lru;

	lru = bpf_map_lookup_elem(&lru_mapping, &cpu);
	if (!lru)
		lru = &fallback_lru;
	c = bpf_map_lookup_elem(lru, f);
	if (c) {
		c->packets += 1;
		fresh.real = c->real;
	} else {
		slot = flow_hash(f) % RING_SIZE;
		idx = bpf_map_lookup_elem(&ring, &slot);
		if (!idx)
			return NULL;
		fresh.real = *idx;
		fresh.packets = 1;
		bpf_map_update_elem(lru, f, &fresh, BPF_ANY);
		count(STAT_NEW_FLOW);
	}
	return bpf_map_lookup_elem(&reals, &fresh.real);
}

static __always_inline int ports(void *l4, void *data_end, __u8 proto, struct flow *f)
{
	if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > data_end)
			return -1;
		f->sport = tcp->source;
		f->dport = tcp->dest;
		return 0;
	}
	if (proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > data_end)
			return -1;
		f->sport = udp->source;
		f->dport = udp->dest;
		return 0;
	}
	return 1; /* not balanced */
}

static __always_inline __u16 csum_fold_ipv4(struct iphdr *ip)
{
	__u16 *w = (__u16 *)ip;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static __always_inline int encap_v4(struct xdp_md *ctx, struct real *r)
{
	void *data, *data_end;
	struct ethhdr *eth;
	struct iphdr *outer, *inner;
	__u8 src_mac[6];

	data = (void *)(long)ctx->data;
	eth = data;
	if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
		return XDP_DROP;
	__builtin_memcpy(src_mac, eth->h_dest, 6);

	if (bpf_xdp_adjust_head(ctx, 0 - (int)sizeof(struct iphdr)))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	outer = (void *)(eth + 1);
	inner = outer + 1;
	if ((void *)(inner + 1) > data_end)
		return XDP_DROP;

	__builtin_memcpy(eth->h_source, src_mac, 6);
	eth->h_dest[0] = next_hop[0];
	eth->h_dest[1] = next_hop[1];
	eth->h_dest[2] = next_hop[2];
	eth->h_dest[3] = next_hop[3];
	eth->h_dest[4] = next_hop[4];
	eth->h_dest[5] = next_hop[5];
	eth->h_proto = bpf_htons(ETH_P_IP);

	outer->version = 4;
	outer->ihl = 5;
	outer->tos = inner->tos;
	outer->tot_len = bpf_htons(bpf_ntohs(inner->tot_len) + sizeof(struct iphdr));
	outer->id = 0;
	outer->frag_off = 0;
	outer->ttl = 64;
	outer->protocol = IPPROTO_IPIP;
	outer->check = 0;
	outer->saddr = lb_v4;
	outer->daddr = r->v4;
	outer->check = csum_fold_ipv4(outer);
	count(STAT_V4);
	return XDP_TX;
}

static __always_inline int encap_v6(struct xdp_md *ctx, struct real *r)
{
	void *data, *data_end;
	struct ethhdr *eth;
	struct ipv6hdr *outer, *inner;
	__u8 src_mac[6];

	data = (void *)(long)ctx->data;
	eth = data;
	if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
		return XDP_DROP;
	__builtin_memcpy(src_mac, eth->h_dest, 6);

	if (bpf_xdp_adjust_head(ctx, 0 - (int)sizeof(struct ipv6hdr)))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	outer = (void *)(eth + 1);
	inner = outer + 1;
	if ((void *)(inner + 1) > data_end)
		return XDP_DROP;

	__builtin_memcpy(eth->h_source, src_mac, 6);
	eth->h_dest[0] = next_hop[0];
	eth->h_dest[1] = next_hop[1];
	eth->h_dest[2] = next_hop[2];
	eth->h_dest[3] = next_hop[3];
	eth->h_dest[4] = next_hop[4];
	eth->h_dest[5] = next_hop[5];
	eth->h_proto = bpf_htons(ETH_P_IPV6);

	outer->version = 6;
	outer->priority = inner->priority;
	outer->flow_lbl[0] = inner->flow_lbl[0];
	outer->flow_lbl[1] = inner->flow_lbl[1];
	outer->flow_lbl[2] = inner->flow_lbl[2];
	outer->payload_len = bpf_htons(bpf_ntohs(inner->payload_len) + sizeof(struct ipv6hdr));
	outer->nexthdr = IPPROTO_IPV6;
	outer->hop_limit = 64;
	/* outer source: the inner source's /96 with the balancer's IPv4 address in the low word */
	outer->saddr.in6_u.u6_addr32[0] = inner->saddr.in6_u.u6_addr32[0];
	outer->saddr.in6_u.u6_addr32[1] = inner->saddr.in6_u.u6_addr32[1];
	outer->saddr.in6_u.u6_addr32[2] = inner->saddr.in6_u.u6_addr32[2];
	outer->saddr.in6_u.u6_addr32[3] = lb_v4;
	outer->daddr.in6_u.u6_addr32[0] = r->v6[0];
	outer->daddr.in6_u.u6_addr32[1] = r->v6[1];
	outer->daddr.in6_u.u6_addr32[2] = r->v6[2];
	outer->daddr.in6_u.u6_addr32[3] = r->v6[3];
	count(STAT_V6);
	return XDP_TX;
}

SEC("xdp")
int xdp_lb(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct flow f = {};
	struct real *r;
	int rc;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return XDP_DROP;
		if (ip->daddr != bpf_htonl(0x0a000002) || ip->ihl != 5 || (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))) {
			count(STAT_PASS);
			return XDP_PASS;
		}
		f.src[0] = ip->saddr;
		f.dst[0] = ip->daddr;
		f.proto = ip->protocol;
		rc = ports(ip + 1, data_end, ip->protocol, &f);
		if (rc < 0)
			return XDP_DROP;
		if (rc > 0) {
			count(STAT_PASS);
			return XDP_PASS;
		}
		r = pick_real(&f);
		if (!r)
			return XDP_ABORTED;
		return encap_v4(ctx, r);
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;
		if (ip6->daddr.in6_u.u6_addr32[0] != bpf_htonl(0x18191a1b)) {
			count(STAT_PASS);
			return XDP_PASS;
		}
		__builtin_memcpy(f.src, ip6->saddr.in6_u.u6_addr32, 16);
		__builtin_memcpy(f.dst, ip6->daddr.in6_u.u6_addr32, 16);
		f.proto = ip6->nexthdr;
		rc = ports(ip6 + 1, data_end, ip6->nexthdr, &f);
		if (rc < 0)
			return XDP_DROP;
		if (rc > 0) {
			count(STAT_PASS);
			return XDP_PASS;
		}
		r = pick_real(&f);
		if (!r)
			return XDP_ABORTED;
		return encap_v6(ctx, r);
	}
	count(STAT_PASS);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
