/* Global data: .data, .rodata, .bss, .rodata.str1.1, static variables (section symbol + addend). */
#define SEC(n) __attribute__((section(n), used))

typedef unsigned int __u32;
typedef unsigned long long __u64;

struct config { __u32 mode; __u32 pad; __u64 limit; __u32 ports[4]; };

struct config cfg = { 1, 0, 1000, { 22, 80, 443, 8080 } };
static __u64 hits = 5;
const volatile __u32 threshold = 77;
__u64 drops;
static __u32 scratch[8];

static __attribute__((noinline)) __u64 bump(__u64 *p, __u64 by)
{
    *p += by;
    return *p;
}

static __attribute__((noinline)) int char_at(const char *s, int i)
{
    return s[i];
}

SEC("raw") int globals(void *mem)
{
    long i = (long)mem & 3;
    __u64 total = bump(&hits, 1) + bump(&cfg.limit, 2) + bump((__u64 *)&scratch[4], 3);
    drops += threshold;
    return total + char_at("alpha", i) + char_at("bravo charlie", i + 1) + cfg.ports[2];
}

char _license[] SEC("license") = "GPL";
