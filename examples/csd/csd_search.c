/* csd_search.c: grep on the drive. Finds every occurrence of a byte pattern of 1..8
 * bytes (param0, first byte in the low byte; param1 its length) and writes the
 * namespace offset of each match start to out as a __u64, in order. A match that starts
 * in this chunk but ends in the next is completed by reading the following bytes of the
 * namespace with prism_csd_read (one byte at a time, so the namespace's end is exact);
 * matches that start in an earlier chunk are that chunk's. Every match is counted in the
 * map `matches` (atomic add per chunk), also those that did not fit out (then r0 is the
 * bytes that did). A bad length returns -EINVAL, a chunk over 16 KiB -E2BIG.
 */
#include "prism_csd.h"

/* The verifier bounds what may execute at 1,000,000 instructions (Linux's budget): about
 * 34 per byte allows chunks of 16 KiB. A larger chunk returns -E2BIG. */
#define MAX_CHUNK 16384
#define CSD_EINVAL 22
#define CSD_E2BIG 7

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} matches SEC(".maps");

struct scan {
	__u64 window;   /* the last 8 bytes seen, the newest in the top byte */
	__u64 pattern;  /* the pattern as it sits at the top of the window */
	__u64 shift;    /* 64 - 8 * len */
	__u64 seen;     /* bytes fed so far */
	__u64 len;
	__u64 found;
	__u64 written;
};

/* Feeds byte b at chunk position pos; records a match that ends with it. */
static __always_inline void feed(struct scan *s, __u8 b, __u64 base, __u64 **out, void *out_end)
{
	s->window = (s->window >> 8) | ((__u64)b << 56);
	s->seen++;
	if (s->seen < s->len || (s->window >> s->shift) != s->pattern)
		return;
	s->found++;
	if ((void *)(*out + 1) <= out_end) {
		**out = base + s->seen - s->len;
		(*out)++;
		s->written += 8;
	}
}

SEC("csd")
int csd_search(struct prism_csd_md *ctx)
{
	__u8 *p = (void *)(long)ctx->data;
	__u8 *data_end = (void *)(long)ctx->data_end;
	__u64 *out = (void *)(long)ctx->out;
	void *out_end = (void *)(long)ctx->out_end;
	__u64 base = ctx->offset;
	struct scan s = {};
	__u32 zero = 0;
	__u64 *total;

	s.len = ctx->param1;
	if (s.len < 1 || s.len > 8)
		return -CSD_EINVAL;
	s.shift = 64 - 8 * s.len;
	s.pattern = s.len == 8 ? ctx->param0 : ctx->param0 & ((1ULL << (8 * s.len)) - 1);

	for (__u32 i = 0; i < MAX_CHUNK; i++) {
		/* the counter stays its own register: merged with s.seen, the loop's bound
		 * would be lost to the verifier */
		barrier_var(i);
		if (p + 1 > data_end)
			break;
		barrier_var(p);
		feed(&s, *p, base, &out, out_end);
		p++;
	}
	if (p + 1 <= data_end)
		return -CSD_E2BIG;
	/* up to len-1 bytes after the chunk (which the loop above fed whole), for matches
	 * that start in it */
	__u64 end = base + s.seen;

	for (__u32 k = 0; k < 7; k++) {
		__u8 b;

		if (k + 1 >= s.len || prism_csd_read(end + k, &b, 1) != 0)
			break;
		feed(&s, b, base, &out, out_end);
	}
	total = bpf_map_lookup_elem(&matches, &zero);
	if (total)
		__sync_fetch_and_add(total, s.found);
	return s.written;
}

char _license[] SEC("license") = "GPL";
