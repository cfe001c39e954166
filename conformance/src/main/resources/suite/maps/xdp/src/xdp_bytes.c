/* bpf_xdp_load_bytes (189) and bpf_xdp_store_bytes (190) as real XDP code calls them: copy
 * the IPv4 source and destination addresses (packet bytes 26..33) into a stack buffer, swap
 * them, store them back, and count in .bss how the calls went. A load past the end of the
 * packet fails with -EINVAL and leaves the packet alone.
 * Self-contained on purpose: the harness compiles a copy of this file alone. */
typedef unsigned char __u8;
typedef unsigned int __u32;
typedef unsigned long long __u64;
#define SEC(name) __attribute__((section(name), used))

struct xdp_md {
	__u32 data;
	__u32 data_end;
	__u32 data_meta;
	__u32 ingress_ifindex;
	__u32 rx_queue_index;
	__u32 egress_ifindex;
};

static long (*bpf_xdp_load_bytes)(struct xdp_md *ctx, __u32 offset, void *buf, __u32 len) = (void *) 189;
static long (*bpf_xdp_store_bytes)(struct xdp_md *ctx, __u32 offset, void *buf, __u32 len) = (void *) 190;

long past_end;   /* .bss: what a load of 8 bytes at offset 60000 returned */
__u32 sum;       /* .bss: the sum of the 8 address bytes */

SEC("xdp")
int swap_addrs(struct xdp_md *ctx)
{
	__u8 buf[8];
	__u8 out[8];

	past_end = bpf_xdp_load_bytes(ctx, 60000, buf, sizeof(buf));
	if (bpf_xdp_load_bytes(ctx, 26, buf, sizeof(buf)) != 0)
		return 1; /* XDP_DROP */
	for (int i = 0; i < 4; i++) {
		out[i] = buf[i + 4];
		out[i + 4] = buf[i];
		sum += buf[i] + buf[i + 4];
	}
	if (bpf_xdp_store_bytes(ctx, 26, out, sizeof(out)) != 0)
		return 0; /* XDP_ABORTED */
	return 3; /* XDP_TX */
}

char LICENSE[] SEC("license") = "GPL";
