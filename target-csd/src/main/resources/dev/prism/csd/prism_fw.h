/*
 * Prism firmware runtime (target-csd): what a lowered csd/raw program needs, freestanding.
 * Compiled into every firmware object with -ffreestanding -nostdlib: no libc, no libgcc calls.
 * Only <stdint.h> and <stddef.h> are used (freestanding headers, C11 4p6).
 *
 * The firmware entry:   uint64_t prism_entry(uint64_t r1, uint64_t r2, struct prism_rt *rt);
 *   raw programs: r1 = memory address (or 0), r2 = its length;
 *   csd programs: r1 = struct prism_csd_md * (dev.prism.program.CsdContext), r2 = 0.
 * The runtime block (one per compute engine / thread; the host fills it):
 */
#include <stdint.h>
#include <stddef.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

struct prism_rt {
    u64 status;       /*  0: 0 while all is well; PRISM_STATUS_HELPER when a helper failed */
    u64 pc;           /*  8: the BPF pc of the helper call in progress (for the trap message) */
    u64 (*helper)(struct prism_rt *rt, u64 id, u64 r1, u64 r2, u64 r3, u64 r4, u64 r5); /* 16 */
    const u8 *ns;     /* 24: the namespace prism_csd_read reads (csd programs) */
    u64 ns_len;       /* 32 */
    const u64 *maps;  /* 40: map index -> the handle lddw map_idx yields (only helpers take it) */
    const u64 *values;/* 48: map index -> address of an ARRAY's element 0 (lddw map_value), else 0 */
};

#define PRISM_STATUS_HELPER 2
#define PRISM_EINVAL 22

/* Unaligned, alias-free memory access (BPF allows unaligned packet access; files are compiled
   with -fno-strict-aliasing as well). */
typedef struct { u16 v; } __attribute__((packed, may_alias)) prism_u16;
typedef struct { u32 v; } __attribute__((packed, may_alias)) prism_u32;
typedef struct { u64 v; } __attribute__((packed, may_alias)) prism_u64;
#define LD8(a) ((u64) *(const u8 *) (uintptr_t) (a))
#define LD16(a) ((u64) ((const prism_u16 *) (uintptr_t) (a))->v)
#define LD32(a) ((u64) ((const prism_u32 *) (uintptr_t) (a))->v)
#define LD64(a) (((const prism_u64 *) (uintptr_t) (a))->v)
#define LDS8(a) ((u64) (s64) (s8) LD8(a))
#define LDS16(a) ((u64) (s64) (s16) LD16(a))
#define LDS32(a) ((u64) (s64) (s32) LD32(a))
#define ST8(a, x) (*(u8 *) (uintptr_t) (a) = (u8) (x))
#define ST16(a, x) (((prism_u16 *) (uintptr_t) (a))->v = (u16) (x))
#define ST32(a, x) (((prism_u32 *) (uintptr_t) (a))->v = (u32) (x))
#define ST64(a, x) (((prism_u64 *) (uintptr_t) (a))->v = (u64) (x))

/* RFC 9669 4.1 / 4.2 arithmetic that C leaves undefined or machines do differently:
   x / 0 = 0, x % 0 = x; signed division by -1 is negation (INT_MIN / -1 = INT_MIN, % -1 = 0),
   computed unsigned so nothing overflows in C; C's truncating division is BPF's. */
static inline u64 prism_udiv64(u64 a, u64 b) { return b == 0 ? 0 : a / b; }
static inline u64 prism_umod64(u64 a, u64 b) { return b == 0 ? a : a % b; }
static inline u32 prism_udiv32(u32 a, u32 b) { return b == 0 ? 0 : a / b; }
static inline u32 prism_umod32(u32 a, u32 b) { return b == 0 ? a : a % b; }
static inline u64 prism_sdiv64(u64 a, u64 b) {
    if (b == 0) return 0;
    if (b == (u64) -1) return 0 - a;
    return (u64) ((s64) a / (s64) b);
}
static inline u64 prism_smod64(u64 a, u64 b) {
    if (b == 0) return a;
    if (b == (u64) -1) return 0;
    return (u64) ((s64) a % (s64) b);
}
static inline u32 prism_sdiv32(u32 a, u32 b) {
    if (b == 0) return 0;
    if (b == (u32) -1) return 0 - a;
    return (u32) ((s32) a / (s32) b);
}
static inline u32 prism_smod32(u32 a, u32 b) {
    if (b == 0) return a;
    if (b == (u32) -1) return 0;
    return (u32) ((s32) a % (s32) b);
}
/* Arithmetic right shifts of negative values: implementation-defined in C, arithmetic in gcc
   (and the files are compiled with -fwrapv); written out so no other compiler may differ. */
static inline u64 prism_arsh64(u64 a, u64 n) {
    n &= 63;
    return (s64) a < 0 ? ~(~a >> n) : a >> n;
}
static inline u32 prism_arsh32(u32 a, u32 n) {
    n &= 31;
    return (s32) a < 0 ? ~(~a >> n) : a >> n;
}
/* Byte swaps by shifts: __builtin_bswap may become a libgcc call where the ISA has no
   instruction (riscv64 without Zbb). */
static inline u64 prism_bswap16(u64 x) { return ((x & 0xff) << 8) | ((x >> 8) & 0xff); }
static inline u64 prism_bswap32(u64 x) {
    return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >> 8) & 0xff00) | ((x >> 24) & 0xff);
}
static inline u64 prism_bswap64(u64 x) {
    return (prism_bswap32(x & 0xffffffffu) << 32) | prism_bswap32(x >> 32);
}

/* The fetch forms of or, and, xor (RFC 9669 5.3: the old value to src) as explicit
   compare-and-swap loops: gcc 12.2 for x86-64 miscompiles __atomic_fetch_or whose old value is
   used in some contexts (the OR is dropped from its own CAS loop; found by target-csd's
   FirmwareAluFuzzTest, reproduced in plain C against clang). The loop is what gcc emits for
   these on x86-64 anyway; fetch_add, exchange and compare_exchange keep their builtins. */
#define PRISM_FETCH_OP(name, type, op) \
    static inline type prism_fetch_##name(type *p, type v) { \
        type old = __atomic_load_n(p, __ATOMIC_RELAXED); \
        while (!__atomic_compare_exchange_n(p, &old, old op v, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) { \
        } \
        return old; \
    }
PRISM_FETCH_OP(or64, u64, |)
PRISM_FETCH_OP(and64, u64, &)
PRISM_FETCH_OP(xor64, u64, ^)
PRISM_FETCH_OP(or32, u32, |)
PRISM_FETCH_OP(and32, u32, &)
PRISM_FETCH_OP(xor32, u32, ^)

/* long prism_csd_read(u64 ns_offset, void *dst, u32 len), helper 0x10001: the namespace bytes
   [ns_offset, ns_offset + len) into dst, 0; or dst zeroed and -EINVAL when they are not all
   inside the namespace. The verifier proved dst has room for len bytes. */
static u64 prism_csd_read(struct prism_rt *rt, u64 off, u64 dst, u64 len) {
    u8 *d = (u8 *) (uintptr_t) dst;
    u64 n = (u32) len;
    u64 i;
    if (rt->ns == 0 || off > rt->ns_len || n > rt->ns_len - off) {
        for (i = 0; i < n; i++) ((volatile u8 *) d)[i] = 0;
        return (u64) -PRISM_EINVAL;
    }
    for (i = 0; i < n; i++) d[i] = rt->ns[off + i];
    return 0;
}

/* Helpers the host implements (maps, clocks, randomness): through rt->helper. A failure sets
   rt->status; the lowered code returns at once, up every frame. */
#define PRISM_HELPER(id, at) (rt->pc = (at), rt->helper(rt, (id), r1, r2, r3, r4, r5))
