/* csd_search.c: grep on the drive. Finds every occurrence of a byte pattern of 1..8
 * bytes (param0, first byte in the low byte; param1 its length) and writes the
 * namespace offset of each match start to out as a __u64, in order. A match that starts
 * in this chunk but ends in the next is completed by reading the following bytes of the
 * namespace with prism_csd_read (one byte at a time, so the namespace's end is exact);
 * matches that start in an earlier chunk are that chunk's. Every match is counted in the
 * map `matches` (atomic add per chunk), also those that did not fit out (then r0 is the
 * bytes that did). A bad length returns -EINVAL.
 */
#include "prism_csd.h"

#define MAX_CHUNK 65535
#define CSD_EINVAL 22

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} matches SEC(".maps");

SEC("csd")
int csd_search(struct prism_csd_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *data_end = (void *)(long)ctx->data_end;
	__u64 *out = (void *)(long)ctx->out;
	void *out_end = (void *)(long)ctx->out_end;
	__u64 base = ctx->offset;
	__u64 len = ctx->param1;
	__u64 shift, pattern, window = 0, found = 0, written = 0;
	__u64 chunk = data_end - data;
	__u32 zero = 0;
	__u64 *total;

	if (len < 1 || len > 8)
		return -CSD_EINVAL;
	shift = 64 - 8 * len;
	/* the pattern's len bytes, as they sit at the top of the window */
	pattern = len == 8 ? ctx->param0 : ctx->param0 & ((1ULL << (8 * len)) - 1);

	/* bytes 0 .. chunk-1 of the chunk, then up to len-1 bytes after it */
	for (__u32 i = 0; i < MAX_CHUNK + 7; i++) {
		__u8 b;

		if (i < chunk) {
			if (data + i + 1 > data_end)
				break;
			b = data[i];
		} else {
			if (i >= chunk + len - 1)
				break;
			if (prism_csd_read(base + i, &b, 1) != 0)
				break;
		}
		window = (window >> 8) | ((__u64)b << 56);
		if (i + 1 < len || (window >> shift) != pattern)
			continue;
		found++;
		if ((void *)(out + 1) <= out_end) {
			*out = base + i + 1 - len;
			out++;
			written += 8;
		}
	}
	total = bpf_map_lookup_elem(&matches, &zero);
	if (total)
		__sync_fetch_and_add(total, found);
	return written;
}

char _license[] SEC("license") = "GPL";
