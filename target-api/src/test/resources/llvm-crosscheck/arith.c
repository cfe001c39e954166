/*
 * Cross-check input (LlvmObjdumpCrossCheckTest): 32- and 64-bit arithmetic, division and
 * modulo, shifts, negation, 64-bit constants and register pressure that forces stack spills.
 * Self-contained on purpose: no maps and no code that refers to a global (the license string
 * is data only), so the code needs no relocations beyond the calls into .text.
 */
#define SEC(name) __attribute__((section(name), used))
#define NOINLINE static __attribute__((noinline))

typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef int s32;
typedef long long s64;

struct ctx {
    u64 q[8];
    u32 w[8];
    s64 sq[4];
    s32 sw[4];
};

SEC("xdp")
int arith64(struct ctx *c)
{
    u64 a = c->q[0], b = c->q[1] | 1, d = c->q[2];
    u64 r = a + b;
    r -= d * 7;
    r *= b;
    r ^= a / b;
    r += a % b;
    r |= d << 13;
    r &= ~(d >> 7);
    r += (u64)(c->sq[0] >> 9);
    r += a << (b & 63);
    r -= d >> (a & 63);
    r ^= (u64)(c->sq[1] >> (d & 63));
    r += 0x1122334455667788ULL;
    r ^= 0xfedcba9876543210ULL;
    r = -r;
    r += a / 10;
    r += d % 1000;
#if __BPF_CPU_VERSION__ >= 4
    s64 sa = c->sq[2], sb = c->sq[3] | 1;
    r += (u64)(sa / sb);
    r += (u64)(sa % sb);
    r += (u64)(sa / -3);
    r += (u64)(sa % 17);
#endif
    c->q[3] = r;
    c->q[4] = -c->q[5];
    c->q[6] = 0xfedcba9876543210ULL;
    c->q[7] = 0x8000000000000000ULL;
    return (int)r;
}

SEC("xdp")
int arith32(struct ctx *c)
{
    u32 a = c->w[0], b = c->w[1] | 1, d = c->w[2];
    u32 r = a + b;
    r -= d * 5;
    r *= b;
    r ^= a / b;
    r += a % b;
    r |= d << 3;
    r &= ~(d >> 11);
    r += a << (b & 31);
    r -= d >> (a & 31);
    r += (u32)(c->sw[0] >> 5);
    r ^= (u32)(c->sw[1] >> (d & 31));
    r += 0x7fff0001u;
    r = -r;
    r += a / 3;
    r += d % 7;
#if __BPF_CPU_VERSION__ >= 4
    s32 sa = c->sw[2], sb = c->sw[3] | 1;
    r += (u32)(sa / sb);
    r += (u32)(sa % sb);
    r += (u32)(sa / 9);
    r += (u32)(sa % -5);
#endif
    c->w[3] = r;
    c->w[4] = -c->w[5];
    return (int)r;
}

/* More live values than callee-saved registers across a call: clang must spill to the stack. */
NOINLINE u64 mix(u64 x, u64 y)
{
    return (x * 31) ^ (y >> 3);
}

SEC("xdp")
int spill(struct ctx *c)
{
    u64 v0 = c->q[0], v1 = c->q[1], v2 = c->q[2], v3 = c->q[3];
    u64 v4 = c->q[4], v5 = c->q[5], v6 = c->q[6], v7 = c->q[7];
    u64 m0 = mix(v0, v1);
    u64 m1 = mix(v2, v3);
    u64 m2 = mix(v4, v5);
    u64 m3 = mix(v6, v7);
    c->q[0] = m0 + v7 * 3;
    c->q[1] = m1 ^ v6;
    c->q[2] = m2 - v5 + v0;
    c->q[3] = m3 | v4 | v1;
    c->q[4] = v2 * v3 + mix(m0, m3);
    c->w[0] = 0;
    c->w[1] = 0x12345;
    return 0;
}

char _license[] SEC("license") = "GPL";
