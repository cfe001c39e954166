/* csd_filter.c: a storage-side WHERE clause. The namespace holds fixed-size 32-byte
 * records (struct csd_record); the program copies to out every record of the chunk
 * whose kind equals param0 and whose amount is at least param1, and returns the bytes
 * copied. Only the matches cross to the host. Chunks must be a multiple of 32 bytes
 * (the device's chunk size); a record cut by the end of the chunk is ignored.
 */
#include "prism_csd.h"

#define MAX_RECORDS (65535 / sizeof(struct csd_record))

SEC("csd")
int csd_filter(struct prism_csd_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	void *out = (void *)(long)ctx->out;
	void *out_end = (void *)(long)ctx->out_end;
	__u32 kind = ctx->param0;
	__u32 min_amount = ctx->param1;
	__u64 written = 0;

	for (__u32 i = 0; i < MAX_RECORDS; i++) {
		struct csd_record *r = data;
		struct csd_record *o = out;

		if ((void *)(r + 1) > data_end)
			break;
		/* keep r itself in a register: clang would otherwise re-derive data + 32*i
		 * for the loads, a pointer the bounds check above proved nothing about */
		barrier_var(r);
		data = r + 1;
		if (r->kind != kind || r->amount < min_amount)
			continue;
		if ((void *)(o + 1) > out_end)
			return -CSD_ENOSPC;
		*o = *r;
		out = o + 1;
		written += sizeof(*o);
	}
	return written;
}

char _license[] SEC("license") = "GPL";
