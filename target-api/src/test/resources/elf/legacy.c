/* A legacy "maps" section (struct bpf_map_def) used from a socket filter. */
#define SEC(n) __attribute__((section(n), used))

struct bpf_map_def {
    unsigned int type, key_size, value_size, max_entries, map_flags;
};

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *) 1;

struct bpf_map_def SEC("maps") ports = {
    .type = 2, .key_size = 4, .value_size = 8, .max_entries = 64,
};
struct bpf_map_def SEC("maps") seen = {
    .type = 5, .key_size = 16, .value_size = 4, .max_entries = 4096, .map_flags = 1,
};

SEC("socket") int filter(void *skb)
{
    unsigned int key = 7;
    unsigned long long *v = bpf_map_lookup_elem(&ports, &key);
    char k2[16] = {};
    unsigned int *w = bpf_map_lookup_elem(&seen, k2);
    return (v ? *v : 0) + (w ? *w : 0);
}

SEC("kprobe/do_sys_open") int probe(void *regs)
{
    return 0;
}

char _license[] SEC("license") = "Dual BSD/GPL";
