/* Map-in-map (BPF_MAP_TYPE_ARRAY_OF_MAPS 12, HASH_OF_MAPS 13) in libbpf's BTF form: the
 * outer map's values are declared with __array(values, struct inner), an anonymous inner
 * definition that is the template every inner map must match, and .values initializes slots
 * (relocations in .rel.maps against the inner maps). A lookup in the outer map gives the inner
 * map or NULL; after a null check it is a map like any other. Self-contained: the harness
 * compiles a copy of this file alone. */
typedef unsigned int __u32;
typedef unsigned long long __u64;
#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]

struct xdp_md;

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *) 1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *) 2;

struct inner {
	__uint(type, 2); /* BPF_MAP_TYPE_ARRAY */
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner in_a SEC(".maps"), in_b SEC(".maps");

struct {
	__uint(type, 12); /* BPF_MAP_TYPE_ARRAY_OF_MAPS */
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [1] = &in_a, [2] = &in_b },
};

struct hinner {
	__uint(type, 1); /* BPF_MAP_TYPE_HASH */
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
};

struct hinner by_tenant SEC(".maps");

struct {
	__uint(type, 13); /* BPF_MAP_TYPE_HASH_OF_MAPS */
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct hinner);
} tenants SEC(".maps") = {
	.values = { [3] = &by_tenant },
};

/* outer[slot][2] + 1, or 100 + slot when the slot is empty or out of range */
static __attribute__((always_inline)) inline int read_slot(__u32 slot)
{
	__u32 k = 2;
	void *m = bpf_map_lookup_elem(&outer, &slot);
	__u64 *v;

	if (!m)
		return 100 + slot;
	v = bpf_map_lookup_elem(m, &k);
	if (!v)
		return 99;
	return *v + 1;
}

SEC("xdp")
int slot1(struct xdp_md *ctx)
{
	return read_slot(1);
}

SEC("xdp")
int slot2(struct xdp_md *ctx)
{
	return read_slot(2);
}

SEC("xdp")
int slot3_empty(struct xdp_md *ctx)
{
	return read_slot(3);
}

SEC("xdp")
int slot9_out_of_range(struct xdp_md *ctx)
{
	return read_slot(9);
}

/* writes 0x77 into element 3 of the map in slot 2 through the inner pointer */
SEC("xdp")
int write_inner(struct xdp_md *ctx)
{
	__u32 slot = 2, k = 3;
	__u64 v = 0x77;
	void *m = bpf_map_lookup_elem(&outer, &slot);

	if (!m)
		return 1;
	return bpf_map_update_elem(m, &k, &v, 0);
}

/* tenants{3}: insert key 5 -> 0x55 into the inner hash, read it back */
SEC("xdp")
int hash_of_maps(struct xdp_md *ctx)
{
	__u32 tenant = 3, k = 5, v = 0x55;
	__u32 *got;
	void *m = bpf_map_lookup_elem(&tenants, &tenant);

	if (!m)
		return 1;
	if (bpf_map_update_elem(m, &k, &v, 0))
		return 2;
	got = bpf_map_lookup_elem(m, &k);
	return got ? *got : 3;
}

/* tenants{4} holds no map */
SEC("xdp")
int hash_of_maps_missing(struct xdp_md *ctx)
{
	__u32 tenant = 4;

	return bpf_map_lookup_elem(&tenants, &tenant) ? 1 : 0;
}
