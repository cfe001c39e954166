/* sampler.c: packet sampling to user space through a perf event array.
 *
 * Every 4th IPv4 packet (sample_every in .rodata) sends a record to the perf event of the
 * running CPU (BPF_F_CURRENT_CPU): a small header (sequence number, length, protocol,
 * addresses) followed by the first 64 bytes of the packet, which the helper appends itself
 * (the packet length in BPF_F_CTXLEN_MASK). The other outcomes of bpf_perf_event_output are
 * exercised on purpose and counted by return code:
 *  - IPv6 packets go to slot 1 explicitly: from any CPU but 1 that is -EOPNOTSUPP (a perf
 *    event only takes records on its own CPU);
 *  - UDP to port 7 names slot 3, past max_entries: -E2BIG;
 *  - ARP asks for one packet byte more than the frame has: -EFAULT;
 *  - other EtherTypes set a flag bit the helper does not know: -EINVAL.
 * Always XDP_PASS, except frames cut inside the IPv4 header (XDP_DROP).
 */
#include "prism_bpf.h"

struct sample {
	__u32 seq;
	__u16 pkt_len;
	__u8 proto;
	__u8 ttl;
	__be32 saddr;
	__be32 daddr;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} samples SEC(".maps");

enum { C_SEEN = 0, C_OK = 1, C_ENOTSUPP = 2, C_E2BIG = 3, C_EFAULT = 4, C_EINVAL = 5, C_OTHER = 6, C_MAX = 7 };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, C_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

const volatile __u32 sample_every = 4;

static __always_inline __u64 bump(__u32 what)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &what);

	if (!c)
		return 0;
	return __sync_fetch_and_add(c, 1) + 1;
}

static __always_inline void count_rc(long rc)
{
	switch (rc) {
	case 0:
		bump(C_OK);
		break;
	case -95: /* EOPNOTSUPP */
		bump(C_ENOTSUPP);
		break;
	case -7: /* E2BIG */
		bump(C_E2BIG);
		break;
	case -14: /* EFAULT */
		bump(C_EFAULT);
		break;
	case -22: /* EINVAL */
		bump(C_EINVAL);
		break;
	default:
		bump(C_OTHER);
	}
}

SEC("xdp")
int xdp_sampler(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 len = data_end - data;
	struct ethhdr *eth = data;
	struct sample s = {};
	__u64 cap;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	s.pkt_len = len;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		__u64 seq;

		if ((void *)(ip + 1) > data_end)
			return XDP_DROP;
		seq = bump(C_SEEN);
		s.seq = seq;
		s.proto = ip->protocol;
		s.ttl = ip->ttl;
		s.saddr = ip->saddr;
		s.daddr = ip->daddr;
		if (ip->protocol == IPPROTO_UDP) {
			struct udphdr *udp = (void *)(ip + 1);

			if (ip->ihl == 5 && (void *)(udp + 1) <= data_end && udp->dest == bpf_htons(7)) {
				count_rc(bpf_perf_event_output(ctx, &samples, 3, &s, sizeof(s)));
				return XDP_PASS;
			}
		}
		if (seq % sample_every)
			return XDP_PASS;
		cap = len < 64 ? len : 64;
		count_rc(bpf_perf_event_output(ctx, &samples, BPF_F_CURRENT_CPU | (cap << 32), &s, sizeof(s)));
		return XDP_PASS;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		count_rc(bpf_perf_event_output(ctx, &samples, 1, &s, sizeof(s)));
		return XDP_PASS;
	}
	if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
		count_rc(bpf_perf_event_output(ctx, &samples, BPF_F_CURRENT_CPU | ((len + 1) << 32), &s, sizeof(s)));
		return XDP_PASS;
	}
	count_rc(bpf_perf_event_output(ctx, &samples, BPF_F_CURRENT_CPU | (1ULL << 56), &s, 8));
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
