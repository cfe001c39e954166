/* BPF-to-BPF calls: static and global callees in .text shared by an XDP and two tc programs,
 * a bpf_loop callback (code address), and a callee in a program section called without a
 * relocation. */
#define SEC(n) __attribute__((section(n), used))

typedef unsigned int __u32;
typedef unsigned long long __u64;

struct xdp_md { __u32 data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex; };

static long (*bpf_loop)(__u32 nr, void *callback, void *ctx, __u64 flags) = (void *) 181;

static __attribute__((noinline)) int square(int x)
{
    return x * x;
}

static __attribute__((noinline)) int sum_squares(int a, int b)
{
    return square(a) + square(b);
}

__attribute__((noinline)) int clamp(int v, int lo, int hi)
{
    if (v < lo)
        return lo;
    if (v > hi)
        return hi;
    return v;
}

static int add_index(__u32 i, void *ctx)
{
    *(__u64 *)ctx += i;
    return 0;
}

static __attribute__((noinline, section("tc"))) int twice(int x)
{
    return x + x;
}

SEC("xdp") int entry_xdp(struct xdp_md *ctx)
{
    __u64 acc = 0;
    bpf_loop(4, add_index, &acc, 0);
    return clamp(sum_squares(ctx->data, ctx->data_end) + acc, 0, 3);
}

SEC("tc") int entry_tc_one(struct xdp_md *ctx)
{
    return twice(square(ctx->data_meta)) & 1;
}

SEC("tc") int entry_tc_two(struct xdp_md *ctx)
{
    return clamp(twice(ctx->ingress_ifindex), 0, 2);
}

char _license[] SEC("license") = "GPL";
