/* tailcall.c: tail-call dispatcher. The main XDP program parses Ethernet + IPv4,
 * stores the L4 header offset in the packet metadata (bpf_xdp_adjust_meta) and
 * tail-calls through the jmp_table program array, indexed by IP protocol, into the
 * TCP, UDP or ICMP handler of this object. The static initializer of jmp_table
 * installs them (libbpf does so at load; other loaders may fill it themselves).
 * Each handler counts into the shared hits array and returns its own action:
 *   xdp/tcp   drops SYN+FIN and SYN+RST combinations, passes the rest;
 *   xdp/udp   drops datagrams to port 9 (discard), passes the rest;
 *   xdp/icmp  drops echo requests longer than 128 bytes of IP payload, passes the rest.
 * Other protocols find an empty slot, so the tail call returns and XDP_PASS follows.
 * Handlers reparse the headers when the metadata is missing.
 */
#include "prism_bpf.h"

#define JMP_SLOTS 32 /* covers IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP */

enum {
	HIT_DISPATCH,
	HIT_FALLTHROUGH,
	HIT_TCP,
	HIT_UDP,
	HIT_ICMP,
	HIT_DROPPED,
	HIT_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HIT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

/* Metadata the dispatcher leaves in front of the packet for the handlers. */
struct meta {
	__u16 l4_off; /* from ctx->data */
	__u16 magic;
};
#define META_MAGIC 0xB7F1

int xdp_tcp(struct xdp_md *ctx);
int xdp_udp(struct xdp_md *ctx);
int xdp_icmp(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, JMP_SLOTS);
	__uint(key_size, sizeof(__u32));
	__array(values, int(struct xdp_md *));
} jmp_table SEC(".maps") = {
	.values = {
		[IPPROTO_ICMP] = (void *)&xdp_icmp,
		[IPPROTO_TCP] = (void *)&xdp_tcp,
		[IPPROTO_UDP] = (void *)&xdp_udp,
	},
};

static __always_inline void hit(__u32 what)
{
	__u64 *cnt = bpf_map_lookup_elem(&hits, &what);

	if (cnt)
		__sync_fetch_and_add(cnt, 1);
}

static __always_inline int drop(void)
{
	hit(HIT_DROPPED);
	return XDP_DROP;
}

/* The IPv4 header, or NULL when the frame is not (complete) IPv4. */
static __always_inline struct iphdr *ipv4_header(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    iph->ihl < 5)
		return NULL;
	return iph;
}

/* Offset of the L4 header from data: from the metadata when the dispatcher left
 * it, else by parsing again; negative when there is none. */
static __always_inline int l4_offset(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct meta *m = (void *)(long)ctx->data_meta;
	struct iphdr *iph;

	if ((void *)(m + 1) <= data && m->magic == META_MAGIC)
		return m->l4_off;
	iph = ipv4_header(data, data_end);
	if (!iph)
		return -1;
	return ETH_HLEN + iph->ihl * 4;
}

SEC("xdp")
int xdp_dispatch(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *iph = ipv4_header(data, data_end);
	struct meta *m;
	__u32 proto;
	__u16 l4_off;

	hit(HIT_DISPATCH);
	if (!iph)
		return XDP_PASS;
	proto = iph->protocol;
	l4_off = ETH_HLEN + iph->ihl * 4;

	/* invalidates every packet pointer; reload them */
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct meta)) == 0) {
		data = (void *)(long)ctx->data;
		m = (void *)(long)ctx->data_meta;
		if ((void *)(m + 1) <= data) {
			m->l4_off = l4_off;
			m->magic = META_MAGIC;
		}
	}

	bpf_tail_call(ctx, &jmp_table, proto);
	/* only reached when the slot is empty */
	hit(HIT_FALLTHROUGH);
	return XDP_PASS;
}

SEC("xdp/tcp")
int xdp_tcp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	int off = l4_offset(ctx);
	struct tcphdr *tcp;

	hit(HIT_TCP);
	if (off < 0 || off > 128)
		return XDP_PASS;
	tcp = data + off;
	if ((void *)(tcp + 1) > data_end)
		return drop();
	if (tcp->syn && (tcp->fin || tcp->rst))
		return drop();
	return XDP_PASS;
}

SEC("xdp/udp")
int xdp_udp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	int off = l4_offset(ctx);
	struct udphdr *udp;

	hit(HIT_UDP);
	if (off < 0 || off > 128)
		return XDP_PASS;
	udp = data + off;
	if ((void *)(udp + 1) > data_end)
		return drop();
	if (udp->dest == bpf_htons(9))
		return drop();
	return XDP_PASS;
}

SEC("xdp/icmp")
int xdp_icmp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	int off = l4_offset(ctx);
	struct icmphdr *icmp;

	hit(HIT_ICMP);
	if (off < 0 || off > 128)
		return XDP_PASS;
	icmp = data + off;
	if ((void *)(icmp + 1) > data_end)
		return drop();
	if (icmp->type == 8 && data_end - (void *)icmp > 128)
		return drop();
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
