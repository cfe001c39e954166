/* The open-coded number iterator (bpf_iter_num_new/next/destroy, kfuncs in .ksyms) as real
 * code uses it: one loop over [0, n) with n taken from the packet (byte 14 & 15) summing
 * i * 3, one over a constant range [2, 7) summing i. Both iterators are destroyed.
 * Self-contained on purpose: the harness compiles a copy of this file alone. */
typedef unsigned char __u8;
typedef unsigned int __u32;
typedef unsigned long long __u64;
#define SEC(name) __attribute__((section(name), used))
#define __ksym __attribute__((section(".ksyms")))

struct xdp_md {
	__u32 data;
	__u32 data_end;
	__u32 data_meta;
	__u32 ingress_ifindex;
	__u32 rx_queue_index;
	__u32 egress_ifindex;
};

struct bpf_iter_num {
	__u64 __opaque[1];
} __attribute__((aligned(8)));

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

__u32 by_packet; /* .bss: 3 * (0 + 1 + ... + n-1) */
__u32 constant;  /* .bss: 2 + 3 + 4 + 5 + 6 = 20 */

SEC("xdp")
int iterate(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct bpf_iter_num it;
	int *i;
	__u32 sum = 0;

	if (data + 15 > end)
		return 1;
	bpf_iter_num_new(&it, 0, data[14] & 15);
	while ((i = bpf_iter_num_next(&it)))
		sum += *i * 3;
	bpf_iter_num_destroy(&it);
	by_packet = sum;

	sum = 0;
	bpf_iter_num_new(&it, 2, 7);
	while ((i = bpf_iter_num_next(&it)))
		sum += *i;
	bpf_iter_num_destroy(&it);
	constant = sum;
	return 2;
}

char LICENSE[] SEC("license") = "GPL";
