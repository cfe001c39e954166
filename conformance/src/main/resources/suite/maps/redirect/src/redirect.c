/* bpf_redirect (23) and bpf_redirect_map (51) on DEVMAP (14), DEVMAP_HASH (25), CPUMAP (16)
 * and XSKMAP (17) in XDP: XDP_REDIRECT (4) when the slot has a target, else the default action
 * in the low two bits of flags; XDP_ABORTED (0) for flags the helper does not know.
 * Self-contained: the harness compiles a copy of this file alone. */
typedef unsigned int __u32;
typedef unsigned long long __u64;
#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

struct xdp_md;

static long (*bpf_redirect)(__u32 ifindex, __u64 flags) = (void *) 23;
static long (*bpf_redirect_map)(void *map, __u64 key, __u64 flags) = (void *) 51;

struct {
	__uint(type, 14); /* DEVMAP */
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} devs SEC(".maps");

struct {
	__uint(type, 25); /* DEVMAP_HASH */
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} devs_by_id SEC(".maps");

struct {
	__uint(type, 16); /* CPUMAP */
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} cpus SEC(".maps");

struct {
	__uint(type, 17); /* XSKMAP */
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

SEC("xdp") int dev_slot1(struct xdp_md *ctx) { return bpf_redirect_map(&devs, 1, 1); }
SEC("xdp") int dev_slot2_pass(struct xdp_md *ctx) { return bpf_redirect_map(&devs, 2, 2); }
SEC("xdp") int dev_slot9_tx(struct xdp_md *ctx) { return bpf_redirect_map(&devs, 9, 3); }
SEC("xdp") int dev_key_u32(struct xdp_md *ctx) { return bpf_redirect_map(&devs, 0x100000001ULL, 1); }
SEC("xdp") int dev_bad_flag(struct xdp_md *ctx) { return bpf_redirect_map(&devs, 1, 1 << 5); }
SEC("xdp") int devhash_7(struct xdp_md *ctx) { return bpf_redirect_map(&devs_by_id, 7, 1); }
SEC("xdp") int devhash_8(struct xdp_md *ctx) { return bpf_redirect_map(&devs_by_id, 8, 2); }
SEC("xdp") int cpu_0(struct xdp_md *ctx) { return bpf_redirect_map(&cpus, 0, 2); }
SEC("xdp") int cpu_1_empty(struct xdp_md *ctx) { return bpf_redirect_map(&cpus, 1, 1); }
SEC("xdp") int cpu_broadcast_flag(struct xdp_md *ctx) { return bpf_redirect_map(&cpus, 0, 1 << 3); }
SEC("xdp") int xsk_empty(struct xdp_md *ctx) { return bpf_redirect_map(&xsks, 0, 2); }
SEC("xdp") int redirect_ifindex(struct xdp_md *ctx) { return bpf_redirect(1, 0); }
SEC("xdp") int redirect_flags(struct xdp_md *ctx) { return bpf_redirect(1, 1); }
