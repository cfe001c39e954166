/*
 * Cross-check input (LlvmObjdumpCrossCheckTest): byte swaps and endianness conversions,
 * sign-extending loads of 8/16/32-bit fields, sign-extending register moves, stores of
 * immediates and registers of every size. At -mcpu=v4 clang emits bswap, ldxs* and movsx;
 * below v4 the same source becomes be/le conversions and shift pairs.
 */
#define SEC(name) __attribute__((section(name), used))

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;

struct ctx {
    u64 q[4];
    u32 w[4];
    u16 h[4];
    u8 b[8];
    s64 sq[4];
    s32 sw[4];
    s16 sh[4];
    s8 sb[8];
};

/* What bpf_htons and friends reduce to on a little-endian target. */
#define htobe16(x) __builtin_bswap16(x)
#define htobe32(x) __builtin_bswap32(x)
#define htobe64(x) __builtin_bswap64(x)

SEC("tc")
int swaps(struct ctx *c)
{
    c->h[0] = __builtin_bswap16(c->h[1]);
    c->w[0] = __builtin_bswap32(c->w[1]);
    c->q[0] = __builtin_bswap64(c->q[1]);
    c->q[2] = htobe16(c->h[2]) + htobe32(c->w[2]);
    c->q[3] = htobe64(c->q[3] ^ 0x0102030405060708ULL);
    /* A 16-bit swap of a value that is already 64 bits wide. */
    c->sq[0] = (u64)__builtin_bswap16((u16)c->sq[1]) << 3;
    return 0;
}

SEC("tc")
int widen(struct ctx *c)
{
    s64 sum = 0;
    sum += c->sb[0];
    sum += c->sb[1] * 3;
    sum += c->sh[0];
    sum += (s64)c->sh[1] << 2;
    sum += c->sw[0];
    sum ^= c->sw[1];
    c->sq[0] = sum;
    /* register-to-register sign extension of a computed value (movsx) */
    s64 x = c->sq[1] + 1;
    c->sq[1] = (s8)x;
    c->sq[2] = (s16)(x >> 8);
    c->sq[3] = (s32)(x * 5);
    s32 y = c->sw[2] - 7;
    c->sw[3] = (s8)y + (s16)(y >> 4);
    /* unsigned loads and plain stores, immediate and register, of every size */
    c->b[3] = c->b[4] + 1;
    c->h[3] = c->h[2] | 0x8000;
    c->b[5] = 0x7f;
    c->h[1] = 0x1234;
    c->w[1] = 0xdeadbeef;
    c->q[1] = 42;
    c->sb[7] = -1;
    return (int)sum;
}

char _license[] SEC("license") = "GPL";
