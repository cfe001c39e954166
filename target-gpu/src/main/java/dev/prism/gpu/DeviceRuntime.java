package dev.prism.gpu;

import dev.prism.program.MapDef;

/**
 * The OpenCL C the kernels share: memory access, RFC 9669 division, byte swaps, the XDP helpers,
 * csum_diff, and the map operations generated for one {@link DeviceLayout}.
 *
 * <p><b>Memory ordering.</b> OpenCL 1.2 atomics are relaxed. A hash slot is published with
 * release semantics by hand: key and value are written, then {@code mem_fence(CLK_GLOBAL_MEM_FENCE)},
 * then the state word is set to full with {@code atomic_xchg}; readers read the state with an
 * atomic and fence before reading the key. A reader that finds a slot being written (state 1)
 * waits for it: on PoCL's CPU device work-items of a group run one after the other and groups
 * on preemptive threads, so the writer always finishes. Value updates of existing keys and
 * plain stores to map values are not atomic, as in Linux (programs use atomics for shared
 * counters). The host reads maps only after {@code clFinish}, which orders everything. A ring
 * record is claimed with {@code atom_cmpxchg} on the ring's bytes used and committed with
 * {@code atomic_xchg} of its header (busy cleared); the host reads rings after the batch.
 */
final class DeviceRuntime {
    private DeviceRuntime() {
    }

    private static final String COMMON = """
            typedef struct __attribute__((packed)) { ushort v; } u16p;
            typedef struct __attribute__((packed)) { uint v; } u32p;
            typedef struct __attribute__((packed)) { ulong v; } u64p;
            #define LD8(a) ((ulong) M[(a)])
            #define LD16(a) ((ulong) ((__global u16p *) (M + (a)))->v)
            #define LD32(a) ((ulong) ((__global u32p *) (M + (a)))->v)
            #define LD64(a) (((__global u64p *) (M + (a)))->v)
            #define LDS8(a) ((ulong) (long) (char) M[(a)])
            #define LDS16(a) ((ulong) (long) (short) ((__global u16p *) (M + (a)))->v)
            #define LDS32(a) ((ulong) (long) (int) ((__global u32p *) (M + (a)))->v)
            #define ST8(a, x) (M[(a)] = (uchar) (x))
            #define ST16(a, x) (((__global u16p *) (M + (a)))->v = (ushort) (x))
            #define ST32(a, x) (((__global u32p *) (M + (a)))->v = (uint) (x))
            #define ST64(a, x) (((__global u64p *) (M + (a)))->v = (ulong) (x))
            ulong udiv64(ulong a, ulong b) { return b == 0 ? 0 : a / b; }
            ulong umod64(ulong a, ulong b) { return b == 0 ? a : a % b; }
            ulong sdiv64(ulong a, ulong b) { return b == 0 ? 0 : b == ~0UL ? 0UL - a : (ulong) ((long) a / (long) b); }
            ulong smod64(ulong a, ulong b) { return b == 0 ? a : b == ~0UL ? 0 : (ulong) ((long) a % (long) b); }
            uint udiv32(uint a, uint b) { return b == 0 ? 0 : a / b; }
            uint umod32(uint a, uint b) { return b == 0 ? a : a % b; }
            uint sdiv32(uint a, uint b) { return b == 0 ? 0 : b == ~0U ? 0U - a : (uint) ((int) a / (int) b); }
            uint smod32(uint a, uint b) { return b == 0 ? a : b == ~0U ? 0 : (uint) ((int) a % (int) b); }
            ulong bswap16(ulong x) { return ((x & 0xffUL) << 8) | ((x >> 8) & 0xffUL); }
            ulong bswap32(ulong x) { uint v = (uint) x; return (ulong) ((v >> 24) | ((v >> 8) & 0xff00U) | ((v << 8) & 0xff0000U) | (v << 24)); }
            ulong bswap64(ulong x) { return (bswap32(x) << 32) | bswap32(x >> 32); }
            void copy_bytes(__global uchar *M, ulong to, ulong from, uint n) { for (uint i = 0; i < n; i++) M[to + i] = M[from + i]; }
            ulong csum_diff(__global uchar *M, ulong from, ulong fs, ulong to, ulong ts, ulong seed) {
              fs &= 0xffffffffUL; ts &= 0xffffffffUL;
              if (((fs | ts) & 3UL) != 0 || fs + ts > 512) return (ulong) -22L;
              ulong sum = seed & 0xffffffffUL;
              for (ulong i = 0; i < fs; i += 4) sum += (ulong) (~(uint) LD32(from + i));
              for (ulong i = 0; i < ts; i += 4) sum += LD32(to + i);
              while ((sum >> 16) != 0) sum = (sum & 0xffffUL) + (sum >> 16);
              return sum;
            }
            ulong xdp_adjust_head(__global uchar *M, ulong ctx, ulong d) {
              long delta = (long) (int) d;
              ulong data = LD64(ctx), end = LD64(ctx + 8), meta = LD64(ctx + 16), frame = ctx + SLOT;
              long metaLen = (long) (data - meta), nd = (long) data + delta;
              if (nd < (long) frame + 40 + metaLen || nd > (long) end - 14) return (ulong) -22L;
              if (metaLen > 0) {
                if (delta < 0) { for (long i = 0; i < metaLen; i++) M[meta + delta + i] = M[meta + i]; }
                else { for (long i = metaLen - 1; i >= 0; i--) M[meta + delta + i] = M[meta + i]; }
              }
              ST64(ctx, (ulong) nd); ST64(ctx + 16, meta + delta);
              return 0;
            }
            ulong xdp_adjust_meta(__global uchar *M, ulong ctx, ulong d) {
              long delta = (long) (int) d;
              ulong data = LD64(ctx), meta = LD64(ctx + 16), frame = ctx + SLOT;
              long nm = (long) meta + delta;
              if (nm < (long) frame + 40 || nm > (long) data) return (ulong) -22L;
              long metaLen = (long) data - nm;
              if ((metaLen & 3) != 0 || metaLen > 255) return (ulong) -13L;
              ST64(ctx + 16, (ulong) nm);
              return 0;
            }
            ulong xdp_adjust_tail(__global uchar *M, ulong ctx, ulong d) {
              long delta = (long) (int) d;
              ulong data = LD64(ctx), end = LD64(ctx + 8), frame = ctx + SLOT;
              long ne = (long) end + delta;
              if (ne > (long) frame + 4096 - 320 || ne < (long) data + 14) return (ulong) -22L;
              for (long i = 0; i < delta; i++) M[end + i] = 0;
              ST64(ctx + 8, (ulong) ne);
              return 0;
            }
            uint hkey(__global uchar *M, ulong k, uint ks) {
              uint h = 2166136261U;
              for (uint i = 0; i < ks; i++) { h ^= M[k + i]; h *= 16777619U; }
              return h;
            }
            int keq(__global uchar *M, ulong a, ulong b, uint ks) {
              for (uint i = 0; i < ks; i++) if (M[a + i] != M[b + i]) return 0;
              return 1;
            }
            uint slot_state(__global uchar *M, ulong s) {
              volatile __global uint *st = (volatile __global uint *) (M + s);
              uint v = atomic_or(st, 0U);
              while (v == 1) v = atomic_or(st, 0U);
              mem_fence(CLK_GLOBAL_MEM_FENCE);
              return v;
            }
            ulong hash_find(__global uchar *M, ulong m, uint ks, ulong slot, uint mask, ulong key) {
              uint i = hkey(M, key, ks) & mask;
              for (uint p = 0; p <= mask; p++, i = (i + 1) & mask) {
                ulong s = m + 8 + (ulong) i * slot;
                uint v = slot_state(M, s);
                if (v == 0) return 0;
                if (v == 2 && keq(M, s + 8, key, ks)) return s;
              }
              return 0;
            }
            void lru_evict(__global uchar *M, ulong m, ulong slot, uint mask) {
              volatile __global uint *hand = (volatile __global uint *) (M + m + 4);
              for (uint n = 0; n <= 2 * mask + 1; n++) {
                uint i = atomic_inc(hand) & mask;
                ulong s = m + 8 + (ulong) i * slot;
                if (atomic_or((volatile __global uint *) (M + s), 0U) != 2U) continue;
                if (atomic_xchg((volatile __global uint *) (M + s + 4), 0U) != 0U) continue;
                if (atomic_cmpxchg((volatile __global uint *) (M + s), 2U, 3U) == 2U) {
                  atomic_dec((volatile __global uint *) (M + m));
                  return;
                }
              }
            }
            ulong hash_update(__global uchar *M, ulong m, uint ks, uint vs, ulong slot, uint mask, uint max, ulong key, ulong val, ulong flags, uint lru) {
              if (flags > 2) return (ulong) -22L;
              ulong voff = 8 + ((ks + 7) & ~7U);
              if (lru) {
                ulong s = hash_find(M, m, ks, slot, mask, key);
                if (s != 0) {
                  if (flags == 1) return (ulong) -17L;
                  copy_bytes(M, s + voff, val, vs);
                  atomic_xchg((volatile __global uint *) (M + s + 4), 1U);
                  return 0;
                }
                if (flags == 2) return (ulong) -2L;
              }
              uint i = hkey(M, key, ks) & mask;
              uint p = 0;
              while (p <= mask) {
                ulong s = m + 8 + (ulong) i * slot;
                uint v = slot_state(M, s);
                if (v == 2 && keq(M, s + 8, key, ks)) {
                  if (flags == 1) return (ulong) -17L;
                  copy_bytes(M, s + voff, val, vs);
                  if (lru) atomic_xchg((volatile __global uint *) (M + s + 4), 1U);
                  return 0;
                }
                if (v == 0 || (lru && v == 3)) {
                  if (flags == 2) return (ulong) -2L;
                  volatile __global uint *count = (volatile __global uint *) (M + m);
                  if (atomic_inc(count) >= max) {
                    atomic_dec(count);
                    if (!lru) return (ulong) -7L;
                    lru_evict(M, m, slot, mask);
                    continue;
                  }
                  if (atomic_cmpxchg((volatile __global uint *) (M + s), v, 1U) != v) {
                    atomic_dec(count);
                    continue;
                  }
                  ST32(s + 4, 0);
                  copy_bytes(M, s + 8, key, ks);
                  copy_bytes(M, s + voff, val, vs);
                  mem_fence(CLK_GLOBAL_MEM_FENCE);
                  atomic_xchg((volatile __global uint *) (M + s), 2U);
                  return 0;
                }
                p++;
                i = (i + 1) & mask;
              }
              return (ulong) -7L;
            }
            ulong lpm_lookup(__global uchar *M, ulong m, uint dlen, ulong slot, ulong key) {
              uint n = (uint) LD32(m), kp = (uint) LD32(key);
              if (kp > dlen * 8) return 0;
              for (uint e = 0; e < n; e++) {
                ulong s = m + 8 + (ulong) e * slot;
                uint p = (uint) LD32(s);
                if (p > kp) continue;
                uint ok = 1;
                for (uint b = 0; b < p / 8 && ok; b++) ok = M[s + 8 + b] == M[key + 4 + b];
                if (ok && (p & 7) != 0) {
                  uint mask = (0xff00U >> (p & 7)) & 0xffU;
                  ok = (M[s + 8 + p / 8] & mask) == (M[key + 4 + p / 8] & mask);
                }
                if (ok) return s + 8 + ((dlen + 7) & ~7U);
              }
              return 0;
            }
            ulong rb_reserve(__global uchar *M, ulong m, ulong size, ulong flags) {
              if (flags != 0 || size > 0x3fffffffUL) return 0;
              ulong need = (size + 15) & ~7UL;
              volatile __global ulong *used = (volatile __global ulong *) (M + m);
              ulong cap = LD64(m + 8);
              ulong old = atom_add(used, 0UL);
              for (;;) {
                if (old + need > cap) return 0;
                ulong prev = atom_cmpxchg(used, old, old + need);
                if (prev == old) break;
                old = prev;
              }
              ulong rec = m + 16 + old;
              ST32(rec, (uint) size | 0x80000000U);
              ST32(rec + 4, 0);
              return rec + 8;
            }
            ulong rb_commit(__global uchar *M, ulong rec, uint discard) {
              volatile __global uint *h = (volatile __global uint *) (M + rec - 8);
              uint v = atomic_or(h, 0U) & 0x3fffffffU;
              atomic_xchg(h, v | (discard ? 0x40000000U : 0U));
              return 0;
            }
            ulong rb_output(__global uchar *M, ulong m, ulong data, ulong size, ulong flags) {
              if ((flags & ~3UL) != 0) return (ulong) -22L;
              ulong rec = rb_reserve(M, m, size, 0);
              if (rec == 0) return (ulong) -11L;
              copy_bytes(M, rec, data, (uint) size);
              rb_commit(M, rec, 0);
              return 0;
            }
            ulong hash_delete(__global uchar *M, ulong m, uint ks, ulong slot, uint mask, ulong key) {
              ulong s = hash_find(M, m, ks, slot, mask, key);
              if (s == 0) return (ulong) -2L;
              if (atomic_cmpxchg((volatile __global uint *) (M + s), 2U, 3U) != 2U) return (ulong) -2L;
              atomic_dec((volatile __global uint *) (M + m));
              return 0;
            }
            """;

    /** {@return the shared source with the map dispatch of {@code layout}} */
    static String source(DeviceLayout layout) {
        StringBuilder b = new StringBuilder();
        b.append("#define SLOT ").append(layout.slotOffset()).append("UL\n");
        b.append(COMMON);
        StringBuilder lookup = new StringBuilder("ulong map_lookup(__global uchar *M, ulong m, ulong key, uint cpu) {\n");
        StringBuilder update = new StringBuilder(
                "ulong map_update(__global uchar *M, ulong m, ulong key, ulong val, ulong flags, uint cpu) {\n");
        StringBuilder delete = new StringBuilder("ulong map_delete(__global uchar *M, ulong m, ulong key) {\n");
        StringBuilder slots = new StringBuilder("uint prog_slot(__global uchar *M, ulong m, uint i) {\n");
        for (int i = 0; i < layout.maps().size(); i++) {
            MapDef d = layout.maps().get(i);
            String off = layout.mapOffset(i) + "UL";
            int stride = DeviceLayout.round8(d.valueSize());
            int max = d.maxEntries();
            switch (d.type()) {
                case ARRAY, PERCPU_ARRAY -> {
                    String copy = d.type() == dev.prism.program.MapType.PERCPU_ARRAY
                            ? "(ulong) cpu * " + ((long) stride * max) + "UL + " : "";
                    lookup.append("  if (m == ").append(off).append(") { uint i = (uint) LD32(key); return i < ").append(max)
                            .append("U ? ").append(off).append(" + ").append(copy).append("(ulong) i * ").append(stride)
                            .append("UL : 0; }\n");
                    update.append("  if (m == ").append(off).append(") { if (flags > 2) return (ulong) -22L; uint i = (uint) LD32(key);")
                            .append(" if (i >= ").append(max).append("U) return (ulong) -7L; if (flags == 1) return (ulong) -17L;")
                            .append(" copy_bytes(M, ").append(off).append(" + ").append(copy).append("(ulong) i * ").append(stride)
                            .append("UL, val, ").append(d.valueSize()).append("U); return 0; }\n");
                    delete.append("  if (m == ").append(off).append(") return (ulong) -22L;\n");
                }
                case HASH, LRU_HASH -> {
                    int cap = DeviceLayout.hashCapacity(d);
                    int slot = DeviceLayout.hashSlot(d);
                    String args = d.keySize() + "U, ";
                    String table = slot + "UL, " + (cap - 1) + "U";
                    long voff = 8 + DeviceLayout.round8(d.keySize());
                    boolean lru = d.type() == dev.prism.program.MapType.LRU_HASH;
                    lookup.append("  if (m == ").append(off).append(") { ulong s = hash_find(M, m, ").append(args).append(table)
                            .append(", key); ").append(lru ? "if (s != 0) atomic_xchg((volatile __global uint *) (M + s + 4), 1U); " : "")
                            .append("return s == 0 ? 0 : s + ").append(voff).append("UL; }\n");
                    update.append("  if (m == ").append(off).append(") return hash_update(M, m, ").append(args)
                            .append(d.valueSize()).append("U, ").append(table).append(", ").append(max).append("U, key, val, flags, ")
                            .append(lru ? 1 : 0).append("U);\n");
                    delete.append("  if (m == ").append(off).append(") return hash_delete(M, m, ").append(args).append(table)
                            .append(", key);\n");
                }
                case PROG_ARRAY -> slots.append("  if (m == ").append(off).append(") return i < ").append(max)
                        .append("U ? (uint) LD32(m + 4UL * i) : 0;\n");
                case LPM_TRIE -> lookup.append("  if (m == ").append(off).append(") return lpm_lookup(M, m, ")
                        .append(d.keySize() - 4).append("U, ").append(DeviceLayout.lpmSlot(d)).append("UL, key);\n");
                default -> {
                }
            }
        }
        lookup.append("  return 0;\n}\n");
        update.append("  return (ulong) -22L;\n}\n");
        delete.append("  return (ulong) -22L;\n}\n");
        slots.append("  return 0;\n}\n");
        return b.append(lookup).append(update).append(delete).append(slots).toString();
    }
}
