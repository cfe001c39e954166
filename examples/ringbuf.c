/* ringbuf.c: ring-buffer event producer. For every IPv4 packet it reserves an event
 * {saddr, daddr, len, proto}, fills it and submits it, or discards the reservation
 * for runts (frames shorter than 60 bytes). Frames that are not IPv4 are reported
 * with a smaller record copied in by bpf_ringbuf_output. Reservation or output
 * failures (ring full) are counted. Every frame passes.
 */
#include "prism_bpf.h"

#define MIN_FRAME 60

enum { EV_IPV4 = 1, EV_OTHER = 2 };

struct ipv4_event {
	__u32 kind; /* EV_IPV4 */
	__be32 saddr;
	__be32 daddr;
	__u32 len;
	__u8 proto;
	__u8 ttl;
	__u16 pad;
};

struct other_event {
	__u32 kind; /* EV_OTHER */
	__u16 ethertype; /* host order */
	__u16 len;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096); /* bytes; one page is the smallest ring */
} events SEC(".maps");

enum { CNT_SUBMITTED, CNT_DISCARDED, CNT_OUTPUT, CNT_LOST, CNT_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 what)
{
	__u64 *cnt = bpf_map_lookup_elem(&counters, &what);

	if (cnt)
		__sync_fetch_and_add(cnt, 1);
}

SEC("xdp")
int xdp_ringbuf(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = data_end - data;
	struct ethhdr *eth = data;
	struct ipv4_event *ev;
	struct iphdr *iph;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;

	if (eth->h_proto != bpf_htons(ETH_P_IP)) {
		struct other_event oe = {
			.kind = EV_OTHER,
			.ethertype = bpf_ntohs(eth->h_proto),
			.len = len,
		};

		if (bpf_ringbuf_output(&events, &oe, sizeof(oe), 0))
			count(CNT_LOST);
		else
			count(CNT_OUTPUT);
		return XDP_PASS;
	}

	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end)
		return XDP_PASS;

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count(CNT_LOST);
		return XDP_PASS;
	}
	ev->kind = EV_IPV4;
	ev->saddr = iph->saddr;
	ev->daddr = iph->daddr;
	ev->len = len;
	ev->proto = iph->protocol;
	ev->ttl = iph->ttl;
	ev->pad = 0;

	if (len < MIN_FRAME) {
		bpf_ringbuf_discard(ev, 0);
		count(CNT_DISCARDED);
	} else {
		bpf_ringbuf_submit(ev, 0);
		count(CNT_SUBMITTED);
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
