/* bpf_perf_event_output (25) into a BPF_MAP_TYPE_PERF_EVENT_ARRAY (4) from XDP. The harness's
 * perf event arrays have an event in each CPU's slot, the test runs on CPU 0. Returns the
 * helper's result; the records themselves are compared by the example differential tests.
 * Self-contained: the harness compiles a copy of this file alone. */
typedef unsigned int __u32;
typedef unsigned long long __u64;
#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

struct xdp_md;

static long (*bpf_perf_event_output)(void *ctx, void *map, __u64 flags, void *data, __u64 size) = (void *) 25;

struct {
	__uint(type, 4); /* PERF_EVENT_ARRAY */
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} events SEC(".maps");

#define CURRENT 0xffffffffULL

static __attribute__((always_inline)) inline long out(struct xdp_md *ctx, __u64 flags)
{
	__u64 v = 0x1122334455667788ULL;

	return bpf_perf_event_output(ctx, &events, flags, &v, sizeof(v));
}

SEC("xdp") int current_cpu(struct xdp_md *ctx) { return out(ctx, CURRENT); }
SEC("xdp") int slot0(struct xdp_md *ctx) { return out(ctx, 0); }
SEC("xdp") int slot1_other_cpu(struct xdp_md *ctx) { return out(ctx, 1); }
SEC("xdp") int slot2_past_end(struct xdp_md *ctx) { return out(ctx, 2); }
SEC("xdp") int with_packet(struct xdp_md *ctx) { return out(ctx, CURRENT | (20ULL << 32)); }
SEC("xdp") int packet_too_long(struct xdp_md *ctx) { return out(ctx, CURRENT | (65ULL << 32)); }
SEC("xdp") int unknown_flag(struct xdp_md *ctx) { return out(ctx, CURRENT | (1ULL << 60)); }
