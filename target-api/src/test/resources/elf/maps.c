/* BTF-defined maps of every kind the loader supports, used from an XDP and a tc program. */
#define SEC(n) __attribute__((section(n), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

typedef unsigned char __u8;
typedef unsigned int __u32;
typedef unsigned long long __u64;

struct xdp_md { __u32 data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex; };

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *) 1;
static long (*bpf_tail_call)(void *ctx, void *map, __u32 index) = (void *) 12;
static long (*bpf_ringbuf_output)(void *ringbuf, void *data, __u64 size, __u64 flags) = (void *) 130;

struct flow_key { __u32 saddr, daddr; unsigned short sport, dport; __u8 proto; };
typedef const volatile struct flow_key flow_key_t;
struct flow_stats { __u64 packets, bytes; __u64 hist[4]; };
struct lpm_v4 { __u32 prefixlen; __u8 addr[4]; };

struct {
    __uint(type, 1);            /* BPF_MAP_TYPE_HASH */
    __uint(max_entries, 1024);
    __uint(map_flags, 1);       /* BPF_F_NO_PREALLOC */
    __type(key, flow_key_t);
    __type(value, struct flow_stats);
} flows SEC(".maps");

struct {
    __uint(type, 2);            /* BPF_MAP_TYPE_ARRAY */
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64[3]);
} counters SEC(".maps");

struct {
    __uint(type, 11);           /* BPF_MAP_TYPE_LPM_TRIE */
    __uint(max_entries, 256);
    __uint(map_flags, 1);
    __type(key, struct lpm_v4);
    __type(value, __u32);
    __uint(pinning, 1);
} blocklist SEC(".maps");

struct {
    __uint(type, 27);           /* BPF_MAP_TYPE_RINGBUF */
    __uint(max_entries, 65536);
} events SEC(".maps");

struct {
    __uint(type, 3);            /* BPF_MAP_TYPE_PROG_ARRAY */
    __uint(max_entries, 8);
    __uint(key_size, 4);
    __uint(value_size, 4);
} jumps SEC(".maps");

SEC("xdp/firewall") int firewall(struct xdp_md *ctx)
{
    struct lpm_v4 k = { 32, { 10, 0, 0, 1 } };
    __u32 idx = 3;
    if (bpf_map_lookup_elem(&blocklist, &k))
        return 1;
    __u64 *c = bpf_map_lookup_elem(&counters, &idx);
    if (c)
        c[1] += 1;
    bpf_tail_call(ctx, &jumps, 2);
    return 2;
}

SEC("tc") int account(struct xdp_md *ctx)
{
    struct flow_key fk = { ctx->data, ctx->data_end, 1, 2, 6 };
    struct flow_stats *st = bpf_map_lookup_elem(&flows, &fk);
    if (!st)
        return 0;
    st->packets++;
    bpf_ringbuf_output(&events, st, sizeof(*st), 0);
    return 0;
}

char _license[] SEC("license") = "GPL";
