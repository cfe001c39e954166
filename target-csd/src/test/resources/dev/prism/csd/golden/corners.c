static u64 f_0(struct prism_rt *rt, u64 r1, u64 r2, u64 r3, u64 r4, u64 r5);
static u64 f_19(struct prism_rt *rt, u64 r1, u64 r2, u64 r3, u64 r4, u64 r5);

static u64 f_0(struct prism_rt *rt, u64 r1, u64 r2, u64 r3, u64 r4, u64 r5) {
    u64 r0 = 0, r6 = 0, r7 = 0, r8 = 0, r9 = 0;
    u64 stack[2] __attribute__((aligned(16))); /* 8 bytes proven */
    const u64 r10 = (u64) (uintptr_t) &stack[2];
    (void) r1; (void) r2; (void) r3; (void) r4; (void) r5; (void) r6; (void) r7; (void) r8; (void) r9; (void) r10;
    /* 0: mov %r6, %r1 */
    r6 = r1;
    /* 1: ldxdw %r2, [%r6+0] */
    r2 = LD64((r6 + UINT64_C(0x0)));
    /* 2: ldxdw %r3, [%r6+8] */
    r3 = LD64((r6 + UINT64_C(0x8)));
    /* 3: mov %r4, %r2 */
    r4 = r2;
    /* 4: add %r4, 4 */
    r4 = r4 + UINT64_C(0x4);
    /* 5: jgt %r4, %r3, +11 */
    if (r4 > r3) goto L17;
    /* 6: ldxsh %r0, [%r2+2] */
    r0 = LDS16((r2 + UINT64_C(0x2)));
    /* 7: sdiv32 %r0, -1 */
    r0 = (u64) (u32) (prism_sdiv32(((u32) r0), UINT32_C(0xffffffff)));
    /* 8: mov %r1, 7 */
    r1 = UINT64_C(0x7);
    /* 9: call local +9 */
    r0 = f_19(rt, r1, r2, r3, r4, r5); if (rt->status) return 0;
    /* 10: mov %r1, 3 */
    r1 = UINT64_C(0x3);
    /* 11: arsh %r0, %r1 */
    r0 = prism_arsh64(r0, r1);
    /* 12: stdw [%r10-8], 1 */
    ST64((r10 + UINT64_C(0xfffffffffffffff8)), UINT64_C(0x1));
    /* 13: mov %r1, 2 */
    r1 = UINT64_C(0x2);
    /* 14: lock fetch xor32 [%r10-8], %r1 */
    r1 = (u64) prism_fetch_xor32((u32 *) (uintptr_t) (r10 + UINT64_C(0xfffffffffffffff8)), (u32) r1);
    /* 15: mod %r0, %r1 */
    r0 = prism_umod64(r0, r1);
    /* 16: exit */
    return r0;
L17:
    /* 17: mov %r0, -22 */
    r0 = UINT64_C(0xffffffffffffffea);
    /* 18: exit */
    return r0;
}

static u64 f_19(struct prism_rt *rt, u64 r1, u64 r2, u64 r3, u64 r4, u64 r5) {
    u64 r0 = 0, r6 = 0, r7 = 0, r8 = 0, r9 = 0;
    u64 stack[2] __attribute__((aligned(16))); /* 0 bytes proven */
    const u64 r10 = (u64) (uintptr_t) &stack[2];
    (void) r1; (void) r2; (void) r3; (void) r4; (void) r5; (void) r6; (void) r7; (void) r8; (void) r9; (void) r10;
    /* 19: mov %r0, %r1 */
    r0 = r1;
    /* 20: lsh32 %r0, 35 */
    r0 = (u64) (u32) (((u32) r0) << (UINT32_C(0x23) & 31));
    /* 21: be16 %r0 */
    r0 = prism_bswap16(r0);
    /* 22: exit */
    return r0;
}

u64 prism_entry(u64 r1, u64 r2, struct prism_rt *rt) {
    return f_0(rt, r1, r2, 0, 0, 0);
}
