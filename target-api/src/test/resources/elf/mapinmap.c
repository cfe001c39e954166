/* Map-in-map in libbpf's __array(values, ...) form (an array of maps with a named inner
 * definition and initialized slots, a hash of maps with an anonymous inner definition), redirect
 * maps and a perf event array, used from one XDP program. */
#define SEC(n) __attribute__((section(n), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]

typedef unsigned int __u32;
typedef unsigned long long __u64;

struct xdp_md { __u32 data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex; };

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *) 1;
static long (*bpf_redirect_map)(void *map, __u64 key, __u64 flags) = (void *) 51;
static long (*bpf_perf_event_output)(void *ctx, void *map, __u64 flags, void *data, __u64 size) = (void *) 25;

struct inner {
    __uint(type, 9);            /* BPF_MAP_TYPE_LRU_HASH */
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __u64);
};

struct inner lru0 SEC(".maps"), lru1 SEC(".maps");

struct {
    __uint(type, 12);           /* BPF_MAP_TYPE_ARRAY_OF_MAPS */
    __uint(max_entries, 8);
    __type(key, __u32);
    __array(values, struct inner);
} per_cpu SEC(".maps") = {
    .values = { [0] = &lru0, [5] = &lru1 },
};

struct {
    __uint(type, 13);           /* BPF_MAP_TYPE_HASH_OF_MAPS */
    __uint(max_entries, 4);
    __type(key, __u64);
    __array(values, struct {
        __uint(type, 2);        /* BPF_MAP_TYPE_ARRAY */
        __uint(max_entries, 2);
        __type(key, __u32);
        __type(value, __u32);
    });
} by_id SEC(".maps");

struct { __uint(type, 14); __uint(max_entries, 4); __type(key, __u32); __type(value, __u32); } devs SEC(".maps");
struct { __uint(type, 25); __uint(max_entries, 4); __type(key, __u32); __uint(value_size, 8); } devs_hash SEC(".maps");
struct { __uint(type, 16); __uint(max_entries, 2); __type(key, __u32); __type(value, __u32); } cpus SEC(".maps");
struct { __uint(type, 17); __uint(max_entries, 4); __type(key, __u32); __type(value, __u32); } xsks SEC(".maps");
struct { __uint(type, 4); __uint(max_entries, 2); __uint(key_size, 4); __uint(value_size, 4); } events SEC(".maps");

SEC("xdp")
int entry(struct xdp_md *ctx)
{
    __u32 cpu = 0, key = 7;
    __u64 id = 3;
    void *m = bpf_map_lookup_elem(&per_cpu, &cpu);
    __u64 *v;
    __u32 *w;

    if (m) {
        v = bpf_map_lookup_elem(m, &key);
        if (v)
            bpf_perf_event_output(ctx, &events, 0xffffffffULL, v, 8);
    }
    m = bpf_map_lookup_elem(&by_id, &id);
    if (m) {
        w = bpf_map_lookup_elem(m, &cpu);
        if (w && *w)
            return bpf_redirect_map(&cpus, *w & 1, 2);
    }
    if (ctx->rx_queue_index)
        return bpf_redirect_map(&xsks, ctx->rx_queue_index, 2);
    return bpf_redirect_map(&devs, 1, 2) + bpf_redirect_map(&devs_hash, 2, 1);
}

char _license[] SEC("license") = "GPL";
