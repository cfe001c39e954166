/* csum1500.c: the 16-bit one's-complement sum of up to 1500 bytes of the frame,
 * one 16-bit word per iteration with a bounds check against data_end in each (clang
 * turns the counter into a pointer that moves toward data_end). The folded sum is
 * stored in a map and its low bit picks the action.
 */
#include "prism_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} last_sum SEC(".maps");

SEC("xdp")
int xdp_csum1500(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u16 *p = data;
	__u32 sum = 0;
	__u32 zero = 0;

	for (int i = 0; i < 750; i++) {
		if ((void *)(p + i + 1) > data_end)
			break;
		sum += p[i];
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	__u64 *out = bpf_map_lookup_elem(&last_sum, &zero);

	if (out)
		*out = sum;
	return sum & 1 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
