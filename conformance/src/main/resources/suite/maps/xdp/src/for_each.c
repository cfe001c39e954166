/* bpf_for_each_map_elem (164) as real code calls it: a callback visits the elements of an
 * array in index order, adds each value to a sum in its context, increments the value in
 * place, and stops after the key the context names. (No counter in the context: Linux
 * verifies a callback until its states repeat, and a counter never repeats.) Self-contained on purpose: the harness
 * compiles a copy of this file alone. */
typedef unsigned int __u32;
typedef unsigned long long __u64;
#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

struct xdp_md;

struct {
	__uint(type, 2); /* BPF_MAP_TYPE_ARRAY */
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

static long (*bpf_for_each_map_elem)(void *map, void *callback_fn, void *callback_ctx, __u64 flags) = (void *) 164;

struct walk {
	__u64 sum;
	__u32 stop_after;
};

__u64 total;   /* .bss: the sum of the values visited */
long visited;  /* .bss: what the helper returned */

static long visit(void *map, __u32 *key, __u64 *val, struct walk *w)
{
	w->sum += *val;
	*val += 1;
	return *key == w->stop_after ? 1 : 0;
}

SEC("xdp")
int walk_values(struct xdp_md *ctx)
{
	struct walk w = { .sum = 0, .stop_after = 4 };

	visited = bpf_for_each_map_elem(&vals, visit, &w, 0);
	total = w.sum;
	return visited == 5 ? 2 : 1; /* XDP_PASS when five elements were visited */
}

char LICENSE[] SEC("license") = "GPL";
