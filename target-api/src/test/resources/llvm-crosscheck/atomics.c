/*
 * Cross-check input (LlvmObjdumpCrossCheckTest): atomic read-modify-write on 32- and 64-bit
 * cells, with the old value used (fetch forms, xchg, cmpxchg) and unused (plain lock forms).
 * Before -mcpu=v3 only the unused-result add exists (xadd), so the rest is conditional.
 */
#define SEC(name) __attribute__((section(name), used))

typedef unsigned int u32;
typedef unsigned long long u64;

struct ctx {
    u64 q[8];
    u32 w[8];
};

SEC("xdp")
int counters(struct ctx *c)
{
    __sync_fetch_and_add(&c->q[0], 1);
    __sync_fetch_and_add(&c->q[1], c->q[2]);
    __sync_fetch_and_add(&c->w[0], 3);
    __sync_fetch_and_add(&c->w[1], c->w[2]);
    return 0;
}

#if __BPF_CPU_VERSION__ >= 3
SEC("xdp")
int fetches(struct ctx *c)
{
    u64 v = c->q[7];
    u32 x = c->w[7];
    u64 r = 0;
    /* results unused: lock add/or/and/xor */
    __sync_fetch_and_or(&c->q[0], v);
    __sync_fetch_and_and(&c->q[1], v);
    __sync_fetch_and_xor(&c->q[2], v);
    __sync_fetch_and_or(&c->w[0], x);
    __sync_fetch_and_and(&c->w[1], x);
    __sync_fetch_and_xor(&c->w[2], x);
    /* results used: atomic_fetch_* */
    r += __sync_fetch_and_add(&c->q[3], v);
    r += __sync_fetch_and_or(&c->q[4], 0x10);
    r += __sync_fetch_and_and(&c->q[5], ~0x10ULL);
    r += __sync_fetch_and_xor(&c->q[6], v);
    r += __sync_fetch_and_add(&c->w[3], x);
    r += __sync_fetch_and_or(&c->w[4], 1);
    r += __sync_fetch_and_and(&c->w[5], x);
    r += __sync_fetch_and_xor(&c->w[6], 2);
    /* xchg and cmpxchg */
    r += __sync_lock_test_and_set(&c->q[0], r);
    r += __sync_lock_test_and_set(&c->w[0], x);
    r += __sync_val_compare_and_swap(&c->q[1], v, r);
    r += __sync_val_compare_and_swap(&c->w[1], x, (u32)r);
    if (__sync_bool_compare_and_swap(&c->q[2], r, 0))
        r++;
    return (int)r;
}
#endif

char _license[] SEC("license") = "GPL";
