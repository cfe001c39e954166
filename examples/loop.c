/* loop.c: payload signature scan with bpf_loop. For IPv4 UDP datagrams, a bpf_loop
 * callback walks the payload (at most MAX_SCAN bytes) byte by byte looking for the
 * signature "EVIL", stopping the loop early at the first match. Matching datagrams
 * are dropped, the rest pass. Scan statistics go to an array map; frames too short
 * for their headers are dropped, non-UDP traffic passes unscanned.
 */
#include "prism_bpf.h"

#define MAX_SCAN 256

static const char signature[4] = { 'E', 'V', 'I', 'L' };

struct scan_ctx {
	__u8 *payload;  /* packet pointers, read back by the callback */
	void *data_end;
	__u32 matched;  /* signature bytes matched so far */
	__u32 scanned;
	__s32 found_at; /* payload offset of the match, -1 if none */
};

enum { ST_SCANNED_PKTS, ST_SCANNED_BYTES, ST_MATCHES, ST_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} scan_stats SEC(".maps");

static __always_inline void add(__u32 what, __u64 n)
{
	__u64 *cnt = bpf_map_lookup_elem(&scan_stats, &what);

	if (cnt)
		__sync_fetch_and_add(cnt, n);
}

/* bpf_loop callback: 0 continues, 1 stops. */
static long scan_byte(__u32 idx, struct scan_ctx *c)
{
	__u8 *p = c->payload + idx;
	__u32 m = c->matched;

	if (idx >= MAX_SCAN || (void *)(p + 1) > c->data_end)
		return 1;
	c->scanned++;
	if (m >= sizeof(signature))
		return 1;
	if (*p == signature[m])
		m++;
	else
		m = *p == signature[0] ? 1 : 0;
	c->matched = m;
	if (m == sizeof(signature)) {
		c->found_at = idx + 1 - sizeof(signature);
		return 1;
	}
	return 0;
}

SEC("xdp")
int xdp_loop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct scan_ctx sc = { .found_at = -1 };
	struct iphdr *iph;
	struct udphdr *udp;
	long n;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end || iph->ihl < 5)
		return XDP_DROP;
	if (iph->protocol != IPPROTO_UDP)
		return XDP_PASS;
	udp = (void *)iph + iph->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return XDP_DROP;

	sc.payload = (__u8 *)(udp + 1);
	sc.data_end = data_end;
	n = bpf_loop(MAX_SCAN, scan_byte, &sc, 0);
	if (n < 0)
		return XDP_ABORTED;

	add(ST_SCANNED_PKTS, 1);
	add(ST_SCANNED_BYTES, sc.scanned);
	if (sc.found_at >= 0) {
		add(ST_MATCHES, 1);
		return XDP_DROP;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
