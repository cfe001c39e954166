/*
 * Cross-check input (LlvmObjdumpCrossCheckTest): bounded loops (backward jumps), every kind
 * of comparison (signed and unsigned, 32- and 64-bit, register and immediate), and
 * BPF-to-BPF calls to static functions, both in .text and in the program's own section.
 */
#define SEC(name) __attribute__((section(name), used))
#define NOINLINE static __attribute__((noinline))

typedef unsigned int u32;
typedef unsigned long long u64;
typedef int s32;
typedef long long s64;

struct ctx {
    u64 q[16];
    u32 w[16];
    s64 sq[8];
    s32 sw[8];
};

NOINLINE u64 clamp_u64(u64 v, u64 lo, u64 hi)
{
    if (v < lo)
        return lo;
    if (v > hi)
        return hi;
    return v;
}

NOINLINE s64 clamp_s64(s64 v, s64 lo, s64 hi)
{
    if (v < lo)
        return lo;
    if (v > hi)
        return hi;
    return v;
}

NOINLINE s32 sign32(s32 a, s32 b)
{
    if (a <= b)
        return -1;
    if (a >= b + 100)
        return 2;
    return 1;
}

/* Lives in the program's section, so the call to it is resolved without a relocation. */
__attribute__((section("classifier"), noinline)) static u32 bits(u32 v, u32 mask)
{
    u32 n = 0;
    for (int i = 0; i < 32; i++) {
        if (v & (1u << i))
            n++;
        if ((v & mask) == mask)
            n += 2;
    }
    return n;
}

SEC("classifier")
int compare(struct ctx *c)
{
    u64 acc = 0;
    #pragma clang loop unroll(disable)
    for (int i = 0; i < 16; i++) {
        u64 v = c->q[i];
        u32 w = c->w[i];
        if (v == 0x55)
            acc += 1;
        else if (v != c->q[0])
            acc += 2;
        if (v > 1000)
            acc ^= v;
        if (v >= c->q[1])
            acc += 5;
        if (w < 7u)
            acc -= 1;
        if (w <= c->w[1])
            acc += w;
        if (w == 3)
            acc += 11;
        if (w != c->w[2])
            acc |= 4;
        if (v & 0x80)
            acc += 13;
        if (w & c->w[3])
            acc += 17;
    }
    s64 s = c->sq[0];
    s32 t = c->sw[0];
    if (s > -5)
        acc += 1;
    if (s >= c->sq[1])
        acc += 2;
    if (s < c->sq[2])
        acc += 3;
    if (s <= 100000)
        acc += 4;
    if (t > -7)
        acc += 5;
    if (t < c->sw[1])
        acc += 6;
    if (t >= 9)
        acc += 7;
    if (t <= c->sw[2])
        acc += 8;
    acc += clamp_u64(c->q[2], 10, 20);
    acc += (u64)clamp_s64(c->sq[3], -20, 20);
    acc += (u64)sign32(c->sw[3], c->sw[4]);
    acc += bits(c->w[5], c->w[6]);
    return (int)acc;
}

SEC("classifier")
int search(struct ctx *c)
{
    u32 key = c->w[15];
    u32 lo = 0, hi = 15;
    /* bounded binary search: the trip count is at most 5 */
    for (int n = 0; n < 5 && lo < hi; n++) {
        u32 mid = (lo + hi) / 2;
        if (c->w[mid & 15] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    s64 best = -1;
    for (u32 i = 0; i < 8; i++) {
        if (c->sq[i] > best)
            best = c->sq[i];
    }
    return (int)(lo + (u32)best);
}

/*
 * clang turns "if (a >= b) x = ..." into a strict comparison that branches around the update;
 * an unlikely early return makes the branch itself test >=, <=, s>= and s<=.
 */
#define unlikely(x) __builtin_expect(!!(x), 0)

SEC("classifier")
int guard(struct ctx *c)
{
    if (unlikely(c->q[0] >= c->q[1]))
        return 1;
    if (unlikely(c->q[2] <= c->q[3]))
        return 2;
    if (unlikely(c->sq[0] >= c->sq[1]))
        return 3;
    if (unlikely(c->sq[2] <= c->sq[3]))
        return 4;
    if (unlikely(c->w[0] >= c->w[1]))
        return 5;
    if (unlikely(c->w[2] <= c->w[3]))
        return 6;
    if (unlikely(c->sw[0] >= c->sw[1]))
        return 7;
    if (unlikely(c->sw[2] <= c->sw[3]))
        return 8;
    return 0;
}

char _license[] SEC("license") = "GPL";
