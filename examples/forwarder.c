/* forwarder.c: a redirecting forwarder, the shape of XDP forwarding benchmarks.
 *
 * IPv4 only (everything else passes):
 *  - TCP is spread over CPUs: a hash of the addresses and ports picks a CPUMAP slot, whose
 *    CPU continues the packet's processing (bpf_redirect_map(&cpus, ...), XDP_PASS when that
 *    CPU has no queue);
 *  - UDP is forwarded by destination port: port % 8 picks a DEVMAP slot, the device of the
 *    slot sends the frame (XDP_DROP when the slot is empty), with the source MAC rewritten;
 *  - GRE goes by its TOS byte through a DEVMAP_HASH keyed by that byte (XDP_DROP on a miss);
 *  - ICMP goes to one fixed device with bpf_redirect (the ifindex in .rodata);
 *  - a TTL of 0 or 1 makes the program ask for a flag bpf_redirect_map does not know, which
 *    the kernel answers with XDP_ABORTED.
 * Frames cut inside the headers are dropped. Counters per outcome in stats.
 */
#include "prism_bpf.h"

#define TX_PORTS 8

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, TX_PORTS);
	__type(key, __u32);
	__type(value, __u32); /* ifindex */
} tx_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} ports_by_tos SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32); /* queue size */
} cpus SEC(".maps");

enum { ST_CPU = 0, ST_PORT = 1, ST_TOS = 2, ST_ICMP = 3, ST_TTL = 4, ST_OTHER = 5, ST_MAX = 6 };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

const volatile __u32 icmp_ifindex = 1;
const volatile __u8 our_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x77};

static __always_inline void count(__u32 what)
{
	__u64 *c = bpf_map_lookup_elem(&stats, &what);

	if (c)
		__sync_fetch_and_add(c, 1);
}

SEC("xdp")
int xdp_forward(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	__u32 key;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP)) {
		count(ST_OTHER);
		return XDP_PASS;
	}
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl < 5)
		return XDP_DROP;
	if (ip->ttl <= 1) {
		count(ST_TTL);
		return bpf_redirect_map(&cpus, 0, 1 << 5); /* an unknown flag: XDP_ABORTED */
	}
	switch (ip->protocol) {
	case IPPROTO_TCP: {
		struct tcphdr *tcp = (void *)ip + ip->ihl * 4;

		if ((void *)(tcp + 1) > data_end)
			return XDP_DROP;
		key = ip->saddr ^ ip->daddr ^ tcp->source ^ ((__u32)tcp->dest << 16);
		key ^= key >> 16;
		key ^= key >> 8;
		count(ST_CPU);
		return bpf_redirect_map(&cpus, key & 1, XDP_PASS);
	}
	case IPPROTO_UDP: {
		struct udphdr *udp = (void *)ip + ip->ihl * 4;

		if ((void *)(udp + 1) > data_end)
			return XDP_DROP;
		eth->h_source[0] = our_mac[0];
		eth->h_source[1] = our_mac[1];
		eth->h_source[2] = our_mac[2];
		eth->h_source[3] = our_mac[3];
		eth->h_source[4] = our_mac[4];
		eth->h_source[5] = our_mac[5];
		count(ST_PORT);
		return bpf_redirect_map(&tx_ports, bpf_ntohs(udp->dest) % TX_PORTS, XDP_DROP);
	}
	case IPPROTO_GRE:
		count(ST_TOS);
		return bpf_redirect_map(&ports_by_tos, ip->tos, XDP_DROP);
	case IPPROTO_ICMP:
		count(ST_ICMP);
		return bpf_redirect(icmp_ifindex, 0);
	}
	count(ST_OTHER);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
