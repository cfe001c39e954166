/* An array of maps whose initializer names a map of another shape than its inner template:
 * libbpf's load (BPF_MAP_UPDATE_ELEM) fails with EINVAL; Prism refuses the object. */
#define SEC(n) __attribute__((section(n), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]

typedef unsigned int __u32;
typedef unsigned long long __u64;

struct { __uint(type, 2); __uint(max_entries, 4); __type(key, __u32); __type(value, __u32); } small SEC(".maps");

struct inner { __uint(type, 2); __uint(max_entries, 4); __type(key, __u32); __type(value, __u64); };

struct {
    __uint(type, 12);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, struct inner);
} outer SEC(".maps") = { .values = { [1] = &small } };

static void *(*bpf_map_lookup_elem_ptr)(void *map, const void *key) = (void *) 1;

SEC("xdp")
int entry(void *ctx)
{
    __u32 k = 1;

    return bpf_map_lookup_elem_ptr(&outer, &k) ? 1 : 2;
}
