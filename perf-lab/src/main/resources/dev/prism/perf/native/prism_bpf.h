/* prism_bpf.h for the native baseline of `prism bench` (perf-lab NativeBaseline).
 *
 * The examples' C includes "prism_bpf.h"; compiled for the host (clang -O2 -fPIC -shared) this
 * file is found first (-I before the examples' include/). It takes the types, macros and packet
 * headers of the examples' own header (#include_next), and replaces what only exists inside
 * the kernel:
 *   - struct xdp_md holds host pointers (data, data_end, data_meta) and, after the fields
 *     programs read, the frame's bounds that the adjust helpers check;
 *   - BPF maps are the same BTF-style structs (at least two pointers: type, max_entries), whose
 *     first 16 bytes prism_map_init() turns into a reference to a C table (struct prism_map_ref:
 *     arrays, their values in a row, found with two loads; hashes, open addressing with linear
 *     probing; LPM tries, longest match over a list); per-CPU maps have one CPU's values;
 *   - helpers are plain C with Linux's return values; tail calls go through the prog_array's
 *     slots (bpf_tail_call below). A helper the baseline lacks (ring buffers, perf events,
 *     broadcast redirects, hash of maps, printk) records its name in
 *     prism_unsupported and returns 0 or NULL: the caller reports "not supported: ...".
 * Frame geometry follows Prism's XdpBuffer (Linux's test run): a 4096-byte frame, 256 bytes of
 * headroom, 320 of tailroom, a 40-byte xdp_frame at its start.
 */
#ifndef PRISM_NATIVE_BPF_H
#define PRISM_NATIVE_BPF_H

/* the kernel-only declarations of the original header, renamed out of the way */
#define xdp_md prism_kernel_xdp_md
#define bpf_map_lookup_elem prism_kernel_map_lookup_elem
#define bpf_map_update_elem prism_kernel_map_update_elem
#define bpf_map_delete_elem prism_kernel_map_delete_elem
#define bpf_ktime_get_ns prism_kernel_ktime_get_ns
#define bpf_trace_printk prism_kernel_trace_printk
#define bpf_get_prandom_u32 prism_kernel_get_prandom_u32
#define bpf_get_smp_processor_id prism_kernel_get_smp_processor_id
#define bpf_tail_call prism_kernel_tail_call
#define bpf_redirect prism_kernel_redirect
#define bpf_csum_diff prism_kernel_csum_diff
#define bpf_xdp_adjust_head prism_kernel_xdp_adjust_head
#define bpf_redirect_map prism_kernel_redirect_map
#define bpf_xdp_adjust_meta prism_kernel_xdp_adjust_meta
#define bpf_xdp_adjust_tail prism_kernel_xdp_adjust_tail
#define bpf_jiffies64 prism_kernel_jiffies64
#define bpf_ktime_get_boot_ns prism_kernel_ktime_get_boot_ns
#define bpf_ringbuf_output prism_kernel_ringbuf_output
#define bpf_ringbuf_reserve prism_kernel_ringbuf_reserve
#define bpf_ringbuf_submit prism_kernel_ringbuf_submit
#define bpf_ringbuf_discard prism_kernel_ringbuf_discard
#define bpf_loop prism_kernel_loop
#define bpf_skb_store_bytes prism_kernel_skb_store_bytes
#define bpf_l3_csum_replace prism_kernel_l3_csum_replace
#define bpf_l4_csum_replace prism_kernel_l4_csum_replace
#define bpf_skb_load_bytes prism_kernel_skb_load_bytes
#define bpf_get_hash_recalc prism_kernel_get_hash_recalc
#define bpf_skb_change_head prism_kernel_skb_change_head
#define bpf_skb_adjust_room prism_kernel_skb_adjust_room
#define bpf_perf_event_output prism_kernel_perf_event_output
#include_next "prism_bpf.h"
#undef xdp_md
#undef bpf_map_lookup_elem
#undef bpf_map_update_elem
#undef bpf_map_delete_elem
#undef bpf_ktime_get_ns
#undef bpf_trace_printk
#undef bpf_get_prandom_u32
#undef bpf_get_smp_processor_id
#undef bpf_tail_call
#undef bpf_redirect
#undef bpf_csum_diff
#undef bpf_xdp_adjust_head
#undef bpf_redirect_map
#undef bpf_xdp_adjust_meta
#undef bpf_xdp_adjust_tail
#undef bpf_jiffies64
#undef bpf_ktime_get_boot_ns
#undef bpf_ringbuf_output
#undef bpf_ringbuf_reserve
#undef bpf_ringbuf_submit
#undef bpf_ringbuf_discard
#undef bpf_loop
#undef bpf_skb_store_bytes
#undef bpf_l3_csum_replace
#undef bpf_l4_csum_replace
#undef bpf_skb_load_bytes
#undef bpf_get_hash_recalc
#undef bpf_skb_change_head
#undef bpf_skb_adjust_room
#undef bpf_perf_event_output

#define PRISM_EXPORT __attribute__((visibility("default")))

/* Maps and programs are exported (Java finds them by name) but bound locally: protected
 * visibility lets the code address a map PC-relative instead of through the GOT. */
#undef SEC
#define SEC(name) __attribute__((section(name), used, visibility("protected")))
#define PRISM_EINVAL (-22)
#define PRISM_EACCES (-13)
#define PRISM_EEXIST (-17)
#define PRISM_ENOENT (-2)
#define PRISM_E2BIG (-7)
#define PRISM_XDP_FRAME_SIZE 40
#define PRISM_FRAME_SIZE 4096
#define PRISM_TAILROOM 320
#define PRISM_META_MAX 255

/* The host context. Programs read the first six fields; hard_start is the frame's first byte. */
struct xdp_md {
	unsigned long data;
	unsigned long data_end;
	unsigned long data_meta;
	__u32 ingress_ifindex;
	__u32 rx_queue_index;
	__u32 egress_ifindex;
	__u32 prism_pad;
	unsigned long prism_hard_start;
};

/* The first helper the baseline lacks that the program called; read by Java after runs. */
PRISM_EXPORT const char *prism_unsupported;

static inline void prism_lacks(const char *what)
{
	if (!prism_unsupported)
		prism_unsupported = what;
}

/* ---- maps ---- */
struct prism_map {
	__u32 type, key_size, value_size, max_entries;
	__u32 stride;     /* bytes per array value or hash slot */
	__u32 key_off;    /* hash slot: key offset (after the state word) */
	__u32 value_off;  /* hash slot: value offset */
	__u32 mask;       /* hash: slots - 1 */
	__u32 count;      /* hash, LPM: entries in use */
	__u32 slots;
	unsigned char *data;
};

extern void *calloc(unsigned long n, unsigned long size);

static inline __u32 prism_round8(__u32 n)
{
	return (n + 7) & ~7u;
}

/* What a map variable's first 16 bytes become: arrays, their values and
 * type | value_size << 8 | max_entries << 32 (a value takes value_size rounded up to 8, as the
 * kernel's array elements); other maps, their struct prism_map and the type. */
struct prism_map_ref {
	void *p;
	__u64 info;
};

static inline int prism_is_array(__u32 type)
{
	return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

/* Called from Java once per map, with the map variable's address. Returns 0, or -1 when out of
 * memory or for an array value over 16 MiB (the stride has 24 bits). */
PRISM_EXPORT int prism_map_init(void *map, __u32 type, __u32 key_size, __u32 value_size, __u32 max_entries)
{
	struct prism_map_ref *ref = map;
	struct prism_map *m;
	unsigned long bytes;

	if (prism_is_array(type)) {
		__u32 stride = prism_round8(value_size);

		if (stride >= (1u << 24))
			return -1;
		ref->p = calloc(max_entries ? max_entries : 1, stride);
		ref->info = type | (__u64)value_size << 8 | (__u64)max_entries << 32;
		return ref->p ? 0 : -1;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -1;
	m->type = type;
	m->key_size = key_size;
	m->value_size = value_size;
	m->max_entries = max_entries;
	switch (type) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		m->stride = prism_round8(value_size);
		bytes = (unsigned long)m->stride * max_entries;
		break;
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_HASH: {
		__u32 slots = 16;

		while (slots < 2 * max_entries)
			slots <<= 1;
		m->key_off = 8;
		m->value_off = 8 + prism_round8(key_size);
		m->stride = m->value_off + prism_round8(value_size);
		m->slots = slots;
		m->mask = slots - 1;
		bytes = (unsigned long)m->stride * slots;
		break;
	}
	case BPF_MAP_TYPE_LPM_TRIE:
		m->key_off = 0;
		m->value_off = prism_round8(key_size);
		m->stride = m->value_off + prism_round8(value_size);
		bytes = (unsigned long)m->stride * max_entries;
		break;
	case BPF_MAP_TYPE_ARRAY_OF_MAPS:
	case BPF_MAP_TYPE_PROG_ARRAY:
		/* a slot holds the inner map variable's or the program's address (prism_map_set_inner), or NULL */
		m->stride = sizeof(void *);
		bytes = (unsigned long)m->stride * max_entries;
		break;
	default:
		bytes = 0; /* a map type the baseline lacks: every use says so */
	}
	if (bytes) {
		m->data = calloc(1, bytes);
		if (!m->data)
			return -1;
	}
	ref->p = m;
	ref->info = type;
	return 0;
}

extern void free(void *p);

/* Called from Java for each slot an ARRAY_OF_MAPS or PROG_ARRAY initializer fills
 * (.values = { [i] = &map } or { [i] = &prog }). */
PRISM_EXPORT int prism_map_set_inner(void *outer, __u32 index, void *inner)
{
	struct prism_map_ref *ref = outer;
	struct prism_map *m = ref->p;
	__u32 type = ref->info & 0xff;

	if ((type != BPF_MAP_TYPE_ARRAY_OF_MAPS && type != BPF_MAP_TYPE_PROG_ARRAY) || index >= m->max_entries)
		return -1;
	((void **)m->data)[index] = inner;
	return 0;
}

/* Called from Java when the executable closes: frees what prism_map_init allocated. */
PRISM_EXPORT void prism_map_free(void *map)
{
	struct prism_map_ref *ref = map;
	struct prism_map *m = ref->p;

	if (m && !prism_is_array(ref->info & 0xff))
		free(m->data);
	free(ref->p);
	ref->p = 0;
}

/* Keys are read in 8-, 4- and 1-byte pieces of constant size, which the compiler turns into
 * plain loads (a variable-size memcpy or memcmp would be a call into libc). */
static inline __u64 prism_hash(const unsigned char *k, __u32 n)
{
	__u64 h = 0x9e3779b97f4a7c15ull ^ n;
	__u64 w;
	__u32 w4;

	for (; n >= 8; k += 8, n -= 8) {
		__builtin_memcpy(&w, k, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	w = 0;
	if (n >= 4) {
		__builtin_memcpy(&w4, k, 4);
		w = w4;
		k += 4;
		n -= 4;
	}
	for (__u32 i = 0; i < n; i++)
		w |= (__u64)k[i] << (32 + 8 * i);
	h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
	h ^= h >> 31;
	return h ^ (h >> 29);
}

/* {return whether the n bytes at a and b are equal} */
static inline int prism_key_equal(const unsigned char *a, const unsigned char *b, __u32 n)
{
	__u64 x, y;
	__u32 x4, y4;

	for (; n >= 8; a += 8, b += 8, n -= 8) {
		__builtin_memcpy(&x, a, 8);
		__builtin_memcpy(&y, b, 8);
		if (x != y)
			return 0;
	}
	if (n >= 4) {
		__builtin_memcpy(&x4, a, 4);
		__builtin_memcpy(&y4, b, 4);
		if (x4 != y4)
			return 0;
		a += 4;
		b += 4;
		n -= 4;
	}
	for (__u32 i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* hash slot states (the slot's first word) */
#define PRISM_EMPTY 0
#define PRISM_USED 1
#define PRISM_DELETED 2

/* {return the slot holding key, or NULL}; *free_slot gets the first reusable slot on the way */
static inline unsigned char *prism_hash_find(struct prism_map *m, const void *key, unsigned char **free_slot)
{
	__u32 i = (__u32)prism_hash(key, m->key_size) & m->mask;

	if (free_slot)
		*free_slot = 0;
	for (__u32 probes = 0; probes < m->slots; probes++, i = (i + 1) & m->mask) {
		unsigned char *slot = m->data + (unsigned long)i * m->stride;
		__u32 state = *(__u32 *)slot;

		if (state == PRISM_EMPTY) {
			if (free_slot && !*free_slot)
				*free_slot = slot;
			return 0;
		}
		if (state == PRISM_DELETED) {
			if (free_slot && !*free_slot)
				*free_slot = slot;
			continue;
		}
		if (prism_key_equal(slot + m->key_off, key, m->key_size))
			return slot;
	}
	return 0;
}

static inline int prism_lpm_match(const unsigned char *prefix, const unsigned char *addr, __u32 bits)
{
	__u32 bytes = bits / 8, rest = bits % 8;

	if (__builtin_memcmp(prefix, addr, bytes))
		return 0;
	if (!rest)
		return 1;
	return ((prefix[bytes] ^ addr[bytes]) & (0xff00 >> rest) & 0xff) == 0;
}

static inline unsigned char *prism_lpm_find(struct prism_map *m, const void *key, int exact)
{
	__u32 want = *(const __u32 *)key;
	unsigned char *best = 0;
	__u32 best_len = 0;

	for (__u32 i = 0; i < m->count; i++) {
		unsigned char *e = m->data + (unsigned long)i * m->stride;
		__u32 len = *(__u32 *)e;

		if (exact ? len != want : len > want)
			continue;
		if (!prism_lpm_match(e + 4, (const unsigned char *)key + 4, len))
			continue;
		if (exact)
			return e;
		if (!best || len > best_len) {
			best = e;
			best_len = len;
		}
	}
	return best;
}

static __attribute__((noinline)) void *prism_map_lookup(struct prism_map *m, const void *key);

/* Arrays inline (as the kernel's JIT inlines them), everything else in a call. */
static __always_inline void *bpf_map_lookup_elem(void *map, const void *key)
{
	struct prism_map_ref *ref = map;
	__u64 info = ref->info;

	if (prism_is_array(info & 0xff)) {
		__u32 i = *(const __u32 *)key;

		return i < (__u32)(info >> 32) ? (unsigned char *)ref->p + (unsigned long)i * prism_round8((info >> 8) & 0xffffff) : 0;
	}
	return prism_map_lookup(ref->p, key);
}

static __attribute__((noinline)) void *prism_map_lookup(struct prism_map *m, const void *key)
{
	switch (m->type) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_HASH: {
		unsigned char *slot = prism_hash_find(m, key, 0);

		return slot ? slot + m->value_off : 0;
	}
	case BPF_MAP_TYPE_LPM_TRIE: {
		unsigned char *e = prism_lpm_find(m, key, 0);

		return e ? e + m->value_off : 0;
	}
	case BPF_MAP_TYPE_ARRAY_OF_MAPS: {
		__u32 i = *(const __u32 *)key;

		return i < m->max_entries ? ((void **)m->data)[i] : 0;
	}
	default:
		prism_lacks("bpf_map_lookup_elem on this map type (hash of maps, devmap, cpumap, ...)");
		return 0;
	}
}

static inline long bpf_map_update_elem(void *map, const void *key, const void *value, __u64 flags)
{
	struct prism_map_ref *ref = map;
	__u64 info = ref->info;
	struct prism_map *m;

	if (flags > BPF_EXIST)
		return PRISM_EINVAL;
	if (prism_is_array(info & 0xff)) {
		__u32 i = *(const __u32 *)key;
		__u32 size = (info >> 8) & 0xffffff;

		if (i >= (__u32)(info >> 32))
			return PRISM_E2BIG;
		if (flags == BPF_NOEXIST)
			return PRISM_EEXIST;
		__builtin_memcpy((unsigned char *)ref->p + (unsigned long)i * prism_round8(size), value, size);
		return 0;
	}
	m = ref->p;
	switch (m->type) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_HASH: {
		unsigned char *free_slot;
		unsigned char *slot = prism_hash_find(m, key, &free_slot);

		if (slot) {
			if (flags == BPF_NOEXIST)
				return PRISM_EEXIST;
		} else {
			if (flags == BPF_EXIST)
				return PRISM_ENOENT;
			if (m->count >= m->max_entries) {
				if (m->type != BPF_MAP_TYPE_LRU_HASH)
					return PRISM_E2BIG;
				/* full LRU: evicts the first entry in probe order (not the least recently used) */
				for (__u32 i = 0; i < m->slots; i++) {
					unsigned char *s = m->data + (unsigned long)i * m->stride;

					if (*(__u32 *)s == PRISM_USED) {
						*(__u32 *)s = PRISM_DELETED;
						m->count--;
						break;
					}
				}
				prism_hash_find(m, key, &free_slot);
			}
			if (!free_slot)
				return PRISM_E2BIG;
			slot = free_slot;
			*(__u32 *)slot = PRISM_USED;
			__builtin_memcpy(slot + m->key_off, key, m->key_size);
			m->count++;
		}
		__builtin_memcpy(slot + m->value_off, value, m->value_size);
		return 0;
	}
	case BPF_MAP_TYPE_LPM_TRIE: {
		unsigned char *e = prism_lpm_find(m, key, 1);

		if (e && flags == BPF_NOEXIST)
			return PRISM_EEXIST;
		if (!e) {
			if (flags == BPF_EXIST)
				return PRISM_ENOENT;
			if (m->count >= m->max_entries)
				return PRISM_E2BIG;
			e = m->data + (unsigned long)m->count++ * m->stride;
			__builtin_memcpy(e, key, m->key_size);
		}
		__builtin_memcpy(e + m->value_off, value, m->value_size);
		return 0;
	}
	default:
		prism_lacks("bpf_map_update_elem on this map type");
		return PRISM_EINVAL;
	}
}

static inline long bpf_map_delete_elem(void *map, const void *key)
{
	struct prism_map_ref *ref = map;
	struct prism_map *m;

	if (prism_is_array(ref->info & 0xff))
		return PRISM_EINVAL;
	m = ref->p;
	switch (m->type) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_HASH: {
		unsigned char *slot = prism_hash_find(m, key, 0);

		if (!slot)
			return PRISM_ENOENT;
		*(__u32 *)slot = PRISM_DELETED;
		m->count--;
		return 0;
	}
	case BPF_MAP_TYPE_LPM_TRIE: {
		unsigned char *e = prism_lpm_find(m, key, 1);
		unsigned char *last;

		if (!e)
			return PRISM_ENOENT;
		last = m->data + (unsigned long)--m->count * m->stride;
		if (e != last)
			__builtin_memcpy(e, last, m->stride);
		return 0;
	}
	default:
		prism_lacks("bpf_map_delete_elem on this map type");
		return PRISM_EINVAL;
	}
}

/* ---- helpers ---- */
struct prism_timespec {
	long tv_sec;
	long tv_nsec;
};
extern int clock_gettime(int clock, struct prism_timespec *ts);

static inline __u64 prism_clock(int clock)
{
	struct prism_timespec ts;

	clock_gettime(clock, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static inline __u64 bpf_ktime_get_ns(void)
{
	return prism_clock(1); /* CLOCK_MONOTONIC, as the kernel's ktime_get_mono_fast_ns */
}

static inline __u64 bpf_ktime_get_boot_ns(void)
{
	return prism_clock(7); /* CLOCK_BOOTTIME */
}

static inline __u64 bpf_jiffies64(void)
{
	prism_lacks("bpf_jiffies64");
	return 0;
}

static __u32 prism_random_state = 0x2545f491;

static inline __u32 bpf_get_prandom_u32(void)
{
	__u32 x = prism_random_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return prism_random_state = x;
}

static inline __u32 bpf_get_smp_processor_id(void)
{
	return 0; /* Prism's runs are on CPU 0; per-CPU maps hold one CPU's values */
}

static inline long bpf_trace_printk(const char *fmt, __u32 fmt_size, ...)
{
	prism_lacks("bpf_trace_printk");
	return 0;
}

/* Tail calls: the program in the slot runs on the same context and its r0 is the caller's
 * (a nested call, where the kernel reuses the frame); an empty slot or the 33rd tail call of a
 * chain (MAX_TAIL_CALL_CNT) falls through to the next statement, as in the kernel. A statement
 * only: it returns from the calling program. */
typedef int (*prism_prog_t)(struct xdp_md *);
static int prism_tail_calls;

static inline prism_prog_t prism_tail_target(void *map, __u32 index)
{
	struct prism_map_ref *ref = map;
	struct prism_map *m = ref->p;

	if ((ref->info & 0xff) != BPF_MAP_TYPE_PROG_ARRAY) {
		prism_lacks("bpf_tail_call on a map that is not a prog_array");
		return 0;
	}
	if (index >= m->max_entries || prism_tail_calls >= 33)
		return 0;
	return ((prism_prog_t *)m->data)[index];
}

#define bpf_tail_call(ctx, prog_array_map, index)                                  \
	do {                                                                       \
		prism_prog_t prism_next_ = prism_tail_target((prog_array_map), (index)); \
		if (prism_next_) {                                                 \
			int prism_r0_;                                             \
			prism_tail_calls++;                                        \
			prism_r0_ = prism_next_((struct xdp_md *)(ctx));           \
			prism_tail_calls--;                                        \
			return prism_r0_;                                          \
		}                                                                  \
	} while (0)

static inline long bpf_redirect(__u32 ifindex, __u64 flags)
{
	return flags ? XDP_ABORTED : XDP_REDIRECT;
}

/* __bpf_xdp_redirect_map: XDP_ABORTED for flags other than the default action (and a devmap's
 * broadcast bits, which the baseline lacks); else the default action when the key has no target.
 * Nothing fills a redirect map here (the baseline takes no map writes from user space, and
 * programs cannot write them), so every key misses, as in the bench's empty maps. */
static inline long bpf_redirect_map(void *map, __u64 key, __u64 flags)
{
	struct prism_map_ref *ref = map;
	__u32 type = ref->info & 0xff;
	int devmap = type == BPF_MAP_TYPE_DEVMAP || type == BPF_MAP_TYPE_DEVMAP_HASH;
	__u64 allowed = 3 | (devmap ? (1ull << 3) | (1ull << 4) : 0);

	if (type != BPF_MAP_TYPE_DEVMAP && type != BPF_MAP_TYPE_DEVMAP_HASH && type != BPF_MAP_TYPE_CPUMAP
	    && type != BPF_MAP_TYPE_XSKMAP) {
		prism_lacks("bpf_redirect_map on this map type");
		return XDP_ABORTED;
	}
	if (flags & ~allowed)
		return XDP_ABORTED;
	if (flags & ((1ull << 3) | (1ull << 4))) {
		prism_lacks("bpf_redirect_map with BPF_F_BROADCAST / BPF_F_EXCLUDE_INGRESS");
		return XDP_ABORTED;
	}
	return flags & 3;
}

/* Linux 6.x on x86-64: the one's-complement sum of seed, the "to" words and the complemented
 * "from" words, folded to 16 bits (Prism's StandardHelpers.csumDiff says why). */
static inline __s64 bpf_csum_diff(__be32 *from, __u32 from_size, __be32 *to, __u32 to_size, __wsum seed)
{
	__u64 sum = seed;

	if (((from_size | to_size) & 3) || (__u64)from_size + to_size > 512)
		return PRISM_EINVAL;
	for (__u32 i = 0; i < from_size / 4; i++)
		sum += (__u32)~from[i];
	for (__u32 i = 0; i < to_size / 4; i++)
		sum += to[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static inline long bpf_xdp_adjust_head(struct xdp_md *ctx, int delta)
{
	unsigned long meta_len = ctx->data - ctx->data_meta;
	unsigned long data = ctx->data + delta;

	if (data < ctx->prism_hard_start + PRISM_XDP_FRAME_SIZE + meta_len || data + ETH_HLEN > ctx->data_end)
		return PRISM_EINVAL;
	if (meta_len)
		__builtin_memmove((void *)(ctx->data_meta + delta), (void *)ctx->data_meta, meta_len);
	ctx->data_meta += delta;
	ctx->data = data;
	return 0;
}

static inline long bpf_xdp_adjust_meta(struct xdp_md *ctx, int delta)
{
	unsigned long meta = ctx->data_meta + delta;
	unsigned long meta_len;

	if (meta < ctx->prism_hard_start + PRISM_XDP_FRAME_SIZE || meta > ctx->data)
		return PRISM_EINVAL;
	meta_len = ctx->data - meta;
	if ((meta_len & 3) || meta_len > PRISM_META_MAX)
		return PRISM_EACCES;
	ctx->data_meta = meta;
	return 0;
}

static inline long bpf_xdp_adjust_tail(struct xdp_md *ctx, int delta)
{
	unsigned long end = ctx->data_end + delta;

	if (end > ctx->prism_hard_start + PRISM_FRAME_SIZE - PRISM_TAILROOM || end < ctx->data + ETH_HLEN)
		return PRISM_EINVAL;
	if (delta > 0)
		__builtin_memset((void *)ctx->data_end, 0, delta);
	ctx->data_end = end;
	return 0;
}

static inline long bpf_loop(__u32 nr_loops, void *callback_fn, void *callback_ctx, __u64 flags)
{
	long (*fn)(__u64, void *) = callback_fn;
	__u32 i;

	if (flags)
		return PRISM_EINVAL;
	if (nr_loops > (1u << 23))
		return PRISM_E2BIG;
	for (i = 0; i < nr_loops; i++)
		if (fn(i, callback_ctx))
			return i + 1;
	return i;
}

static inline long bpf_ringbuf_output(void *ringbuf, void *data, __u64 size, __u64 flags)
{
	prism_lacks("bpf_ringbuf_output (ring buffers)");
	return PRISM_EINVAL;
}

static inline void *bpf_ringbuf_reserve(void *ringbuf, __u64 size, __u64 flags)
{
	prism_lacks("bpf_ringbuf_reserve (ring buffers)");
	return 0;
}

static inline void bpf_ringbuf_submit(void *data, __u64 flags)
{
	prism_lacks("bpf_ringbuf_submit (ring buffers)");
}

static inline void bpf_ringbuf_discard(void *data, __u64 flags)
{
	prism_lacks("bpf_ringbuf_discard (ring buffers)");
}

static inline long bpf_perf_event_output(void *ctx, void *map, __u64 flags, void *data, __u64 size)
{
	prism_lacks("bpf_perf_event_output (perf events)");
	return PRISM_EINVAL;
}

/* tc programs are not benchmarked: their helpers only say so */
#define PRISM_TC_ONLY(name) (prism_lacks(name " (tc programs)"), 0)
#define bpf_skb_store_bytes(...) PRISM_TC_ONLY("bpf_skb_store_bytes")
#define bpf_l3_csum_replace(...) PRISM_TC_ONLY("bpf_l3_csum_replace")
#define bpf_l4_csum_replace(...) PRISM_TC_ONLY("bpf_l4_csum_replace")
#define bpf_skb_load_bytes(...) PRISM_TC_ONLY("bpf_skb_load_bytes")
#define bpf_get_hash_recalc(...) PRISM_TC_ONLY("bpf_get_hash_recalc")
#define bpf_skb_change_head(...) PRISM_TC_ONLY("bpf_skb_change_head")
#define bpf_skb_adjust_room(...) PRISM_TC_ONLY("bpf_skb_adjust_room")

#endif /* PRISM_NATIVE_BPF_H */
