// SPDX-License-Identifier: GPL-2.0
/*
 * tc_rewrite.c: a tc classifier (SEC("tc"), direct action) that rewrites IPv4 headers and
 * classifies packets for a qdisc:
 *   - frames that are not IPv4 pass (TC_ACT_OK); cb[4] == 1 from an earlier stage asks for a
 *     redirect back out of the same device (bpf_redirect: TC_ACT_REDIRECT);
 *   - TTL <= 1, a bad IHL, or a source listed in `blocked` are dropped (TC_ACT_SHOT; a blocked
 *     source's rule id goes into skb->mark);
 *   - sources in 10.0.0.0/24 are rewritten to 192.0.2.1 (source NAT): bpf_skb_store_bytes, then
 *     bpf_l3_csum_replace for the IPv4 checksum and bpf_l4_csum_replace with BPF_F_PSEUDO_HDR for
 *     the TCP/UDP checksum (UDP with BPF_F_MARK_MANGLED_0: a zero UDP checksum stays "none");
 *   - UDP to port 53 is moved to port 5353 (store_bytes + l4_csum_replace), skb->mark = 53,
 *     tc_classid minor 0x35;
 *   - TCP to port 80 gets DSCP AF41 through direct packet access and l3_csum_replace,
 *     skb->mark = 80, tc_classid minor 0x50, priority 4;
 *   - cb[0] says what happened, cb[1] keeps the original source of a NATed packet, cb[2] the
 *     OR of the helpers' error codes; `tc_stats` counts each outcome.
 * Fragments after the first are NATed at L3 only (their L4 header is elsewhere).
 */
#include "prism_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} tc_stats SEC(".maps");

enum outcome { O_OTHER, O_TTL, O_BLOCKED, O_DNS, O_WEB, O_SNAT, O_PASS, O_ERROR };

#define IP_TOS_WORD_OFF (ETH_HLEN + 0)
#define IP_CSUM_OFF (ETH_HLEN + 10)
#define IP_SRC_OFF (ETH_HLEN + 12)
#define DSCP_AF41 0x22

static __always_inline void count(__u32 what)
{
	__u64 *v = bpf_map_lookup_elem(&tc_stats, &what);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline int finish(struct __sk_buff *skb, __u32 what, int action)
{
	skb->cb[0] = what;
	count(what);
	return action;
}

SEC("tc")
int tc_rewrite(struct __sk_buff *skb)
{
	struct iphdr iph;
	__be16 ports[2];
	__u32 l4off, csum_off = 0;
	__u64 l4flags = 0;
	long err = 0;
	__u32 *rule;
	int fragment;

	if (skb->cb[4] == 1)
		return bpf_redirect(skb->ifindex, 0);
	if (skb->protocol != bpf_htons(ETH_P_IP))
		return finish(skb, O_OTHER, TC_ACT_OK);
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &iph, sizeof(iph)) < 0)
		return finish(skb, O_ERROR, TC_ACT_OK);
	if (iph.ihl < 5)
		return finish(skb, O_ERROR, TC_ACT_SHOT);
	if (iph.ttl <= 1)
		return finish(skb, O_TTL, TC_ACT_SHOT);
	rule = bpf_map_lookup_elem(&blocked, &iph.saddr);
	if (rule) {
		skb->mark = *rule;
		return finish(skb, O_BLOCKED, TC_ACT_SHOT);
	}

	l4off = ETH_HLEN + iph.ihl * 4;
	fragment = (iph.frag_off & bpf_htons(IP_OFFSET)) != 0;
	if (!fragment && iph.protocol == IPPROTO_UDP) {
		csum_off = l4off + 6;
		l4flags = BPF_F_MARK_MANGLED_0;
	} else if (!fragment && iph.protocol == IPPROTO_TCP) {
		csum_off = l4off + 16;
	}

	if ((iph.saddr & bpf_htonl(0xffffff00)) == bpf_htonl(0x0a000000)) {
		__be32 new_src = bpf_htonl(0xc0000201);

		err |= bpf_skb_store_bytes(skb, IP_SRC_OFF, &new_src, sizeof(new_src), 0);
		err |= bpf_l3_csum_replace(skb, IP_CSUM_OFF, iph.saddr, new_src, sizeof(new_src));
		if (csum_off)
			err |= bpf_l4_csum_replace(skb, csum_off, iph.saddr, new_src,
						   l4flags | BPF_F_PSEUDO_HDR | sizeof(new_src));
		skb->cb[1] = iph.saddr;
		count(O_SNAT);
	}

	if (csum_off && bpf_skb_load_bytes(skb, l4off, ports, sizeof(ports)) == 0) {
		if (iph.protocol == IPPROTO_UDP && ports[1] == bpf_htons(53)) {
			__be16 new_port = bpf_htons(5353);

			err |= bpf_skb_store_bytes(skb, l4off + 2, &new_port, sizeof(new_port), 0);
			err |= bpf_l4_csum_replace(skb, csum_off, ports[1], new_port, l4flags | sizeof(new_port));
			skb->mark = 53;
			skb->tc_classid = 0x35;
			count(O_DNS);
		} else if (iph.protocol == IPPROTO_TCP && ports[1] == bpf_htons(80)) {
			void *data = (void *)(long)skb->data;
			void *data_end = (void *)(long)skb->data_end;
			__u16 *word = data + IP_TOS_WORD_OFF;
			__u8 *tos = data + ETH_HLEN + 1;
			__u16 old_word, new_word;

			if ((void *)(word + 1) > data_end)
				return finish(skb, O_ERROR, TC_ACT_SHOT);
			old_word = *word;
			*tos = (DSCP_AF41 << 2) | (*tos & 3);
			new_word = *word;
			err |= bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_word, new_word, sizeof(new_word));
			skb->mark = 80;
			skb->tc_classid = 0x50;
			skb->priority = 4;
			count(O_WEB);
		}
	}

	if (err) {
		skb->cb[2] = (__u32)err;
		count(O_ERROR);
	}
	return finish(skb, O_PASS, TC_ACT_OK);
}

char _license[] SEC("license") = "GPL";
