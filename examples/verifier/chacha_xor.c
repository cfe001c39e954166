/* chacha_xor.c: XORs a UDP payload with a ChaCha20-style keystream, one u32 word at
 * a time with a bounds check per word, and sends the frame back (XDP_TX). The key is
 * in a map; one 64-byte keystream block (ChaCha20's double rounds over the 16-word
 * state) is computed into a per-CPU scratch value, and word i of the payload is XORed
 * with keystream word i % 16 plus the block number i / 16. At most 256 words.
 */
#include "prism_bpf.h"

#define MAX_WORDS 256

struct chacha_key {
	__u32 k[8];
	__u32 nonce[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct chacha_key);
} keys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32[16]);
} scratch SEC(".maps");

#define ROTL(v, n) (((v) << (n)) | ((v) >> (32 - (n))))
#define QR(a, b, c, d)                                                         \
	do {                                                                   \
		a += b; d ^= a; d = ROTL(d, 16);                               \
		c += d; b ^= c; b = ROTL(b, 12);                               \
		a += b; d ^= a; d = ROTL(d, 8);                                \
		c += d; b ^= c; b = ROTL(b, 7);                                \
	} while (0)

SEC("xdp")
int xdp_chacha_xor(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *udp = (void *)(iph + 1);
	__u32 zero = 0;

	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || iph->ihl != 5 || iph->protocol != IPPROTO_UDP)
		return XDP_PASS;
	struct chacha_key *key = bpf_map_lookup_elem(&keys, &zero);
	__u32 *ks = bpf_map_lookup_elem(&scratch, &zero);

	if (!key || !ks)
		return XDP_ABORTED;
	__u32 x0 = 0x61707865, x1 = 0x3320646e, x2 = 0x79622d32, x3 = 0x6b206574;
	__u32 x4 = key->k[0], x5 = key->k[1], x6 = key->k[2], x7 = key->k[3];
	__u32 x8 = key->k[4], x9 = key->k[5], x10 = key->k[6], x11 = key->k[7];
	__u32 x12 = udp->source, x13 = key->nonce[0], x14 = key->nonce[1], x15 = key->nonce[2];
#pragma unroll
	for (int r = 0; r < 10; r++) {
		QR(x0, x4, x8, x12);
		QR(x1, x5, x9, x13);
		QR(x2, x6, x10, x14);
		QR(x3, x7, x11, x15);
		QR(x0, x5, x10, x15);
		QR(x1, x6, x11, x12);
		QR(x2, x7, x8, x13);
		QR(x3, x4, x9, x14);
	}
	ks[0] = x0; ks[1] = x1; ks[2] = x2; ks[3] = x3;
	ks[4] = x4; ks[5] = x5; ks[6] = x6; ks[7] = x7;
	ks[8] = x8; ks[9] = x9; ks[10] = x10; ks[11] = x11;
	ks[12] = x12; ks[13] = x13; ks[14] = x14; ks[15] = x15;

	__u32 *w = (void *)(udp + 1);
	for (__u32 i = 0; i < MAX_WORDS; i++) {
		if ((void *)(w + i + 1) > data_end)
			break;
		w[i] ^= ks[i & 15] + (i >> 4);
	}
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
