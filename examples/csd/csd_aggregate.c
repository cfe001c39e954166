/* csd_aggregate.c: a storage-side GROUP BY-free aggregate. Over the 32-byte records of
 * the chunk (struct csd_record) whose kind equals param0 (every record when param0 is
 * ~0), it adds the count and the sum of the amount column to the map `totals`, and counts
 * each amount in a 16-bucket histogram by its top four bits (`histogram`, bucket
 * amount >> 28). Chunks run in parallel on the device's engines, so every update is an
 * atomic add; the count and sum are kept in registers per chunk and added once. Nothing
 * goes to out: the host reads the maps (r0 = 0).
 */
#include "prism_csd.h"

#define MAX_RECORDS (65535 / sizeof(struct csd_record))
#define BUCKETS 16

struct totals {
	__u64 count;
	__u64 sum;
};

struct histogram {
	__u64 bucket[BUCKETS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct totals);
} totals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct histogram);
} histogram SEC(".maps");

SEC("csd")
int csd_aggregate(struct prism_csd_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 kind = ctx->param0;
	__u32 zero = 0;
	struct totals *t = bpf_map_lookup_elem(&totals, &zero);
	struct histogram *h = bpf_map_lookup_elem(&histogram, &zero);
	__u64 count = 0, sum = 0;

	if (!t || !h)
		return 0;
	for (__u32 i = 0; i < MAX_RECORDS; i++) {
		struct csd_record *r = data;

		if ((void *)(r + 1) > data_end)
			break;
		/* keep r itself in a register: clang would otherwise re-derive data + 32*i
		 * for the loads, a pointer the bounds check above proved nothing about */
		barrier_var(r);
		data = r + 1;
		if (kind != ~0ULL && r->kind != kind)
			continue;
		count++;
		sum += r->amount;
		__sync_fetch_and_add(&h->bucket[(r->amount >> 28) & (BUCKETS - 1)], 1);
	}
	__sync_fetch_and_add(&t->count, count);
	__sync_fetch_and_add(&t->sum, sum);
	return 0;
}

char _license[] SEC("license") = "GPL";
