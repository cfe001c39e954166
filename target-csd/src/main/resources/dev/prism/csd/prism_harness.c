/*
 * Prism csd harness (target-csd): the "drive" side of a cross-built firmware run under
 * qemu-user. A static binary; one process serves many programs and runs, so a suite is not a
 * process per case. It loads firmware code images (position-independent blobs, FirmwareBuild)
 * into executable memory and calls their prism_entry.
 *
 * Protocol on stdin/stdout, every number a little-endian u64 (QemuHarness is the other side):
 *   'L' len entry <len bytes> n (stride max value_size)*n
 *                                             load a code image with n ARRAY maps -> id
 *   'U' id                                    unload                 -> 0
 *   'G' id map                                map memory             -> len <len bytes>
 *   'P' id map len <len bytes>                write map memory       -> 0
 *   'N' len <len bytes>                       the namespace (kept)   -> 0
 *   'R' id len <len bytes>                    raw run: r1 = mem, r2 = len
 *                                                                    -> status pc r0 <len bytes: mem after>
 *   'C' id off len outlen p0 p1 <outlen bytes>  csd run over namespace[off, off + len)
 *                                                                    -> status pc r0 <outlen bytes: out after>
 *   'Q'                                       exit
 * A malformed request ends the process with exit status 2 (the Java side reports it).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

typedef uint64_t u64;
typedef uint8_t u8;

struct prism_rt {
    u64 status;
    u64 pc;
    u64 (*helper)(struct prism_rt *rt, u64 id, u64 r1, u64 r2, u64 r3, u64 r4, u64 r5);
    const u8 *ns;
    u64 ns_len;
    const u64 *maps;
    const u64 *values;
};

typedef u64 (*entry_fn)(u64 r1, u64 r2, struct prism_rt *rt);

/* An ARRAY map in harness memory: max_entries elements of round_up(value_size, 8) bytes, the
   layout of Prism's ArrayMap, so the Java side copies it whole in both directions. */
struct array_map {
    u64 stride, max, value_size;
    u8 *values;
};

#define MAX_PROGRAMS 4096
#define MAX_MAPS 64
static struct {
    void *code;
    size_t size;
    entry_fn entry;
    u64 nmaps;
    struct array_map maps[MAX_MAPS];
    u64 handles[MAX_MAPS];
    u64 values[MAX_MAPS];
} programs[MAX_PROGRAMS];
static u8 *ns;
static u64 ns_len;
static u64 rng = 0x9E3779B97F4A7C15ull;

/* Helpers a drive core answers itself: ARRAY maps in its memory, clocks, randomness, the
   engine number. Other map types are not offered to cross builds (their check refuses them). */
static u64 helper(struct prism_rt *rt, u64 id, u64 r1, u64 r2, u64 r3, u64 r4, u64 r5) {
    (void) r5;
    switch (id) {
    case 1: { /* map_lookup_elem on an ARRAY: the element, or NULL past the end */
        struct array_map *m = (struct array_map *) (uintptr_t) r1;
        u64 i = *(const uint32_t *) (uintptr_t) r2;
        return i < m->max ? (u64) (uintptr_t) (m->values + i * m->stride) : 0;
    }
    case 2: { /* map_update_elem: array_map_update_elem's checks, in its order */
        struct array_map *m = (struct array_map *) (uintptr_t) r1;
        u64 i = *(const uint32_t *) (uintptr_t) r2;
        if ((r4 & ~(u64) 4) > 2) return (u64) -22;  /* flags beyond BPF_EXIST (BPF_F_LOCK aside): EINVAL */
        if (i >= m->max) return (u64) -7;           /* E2BIG */
        if (r4 & 1) return (u64) -17;               /* BPF_NOEXIST: EEXIST, every element exists */
        if (r4 & 4) return (u64) -22;               /* BPF_F_LOCK: no value has a spin lock */
        memcpy(m->values + i * m->stride, (const void *) (uintptr_t) r3, m->value_size);
        return 0;
    }
    case 3: /* map_delete_elem: array elements cannot be deleted */
        return (u64) -22;
    case 5: { /* ktime_get_ns */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (u64) ts.tv_sec * 1000000000ull + (u64) ts.tv_nsec;
    }
    case 7: /* get_prandom_u32: xorshift64 */
        rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
        return rng & 0xffffffffull;
    case 8: /* get_smp_processor_id: one engine per harness */
        return 0;
    default:
        rt->status = 3; /* not supported here */
        return 0;
    }
}

static void die(const char *why) {
    fprintf(stderr, "prism harness: %s\n", why);
    exit(2);
}

static void in(void *p, size_t n) {
    if (n && fread(p, 1, n, stdin) != n) die("short read");
}

static u64 in64(void) {
    u8 b[8];
    u64 v = 0;
    in(b, 8);
    for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
    return v;
}

static void out(const void *p, size_t n) {
    if (n && fwrite(p, 1, n, stdout) != n) die("short write");
}

static void out64(u64 v) {
    u8 b[8];
    for (int i = 0; i < 8; i++) { b[i] = (u8) v; v >>= 8; }
    out(b, 8);
}

static void *buffer(u64 n) {
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory");
    return p;
}

static u64 program(u64 id) {
    if (id >= MAX_PROGRAMS || !programs[id].entry) die("no such program");
    return id;
}

static struct array_map *map(u64 id, u64 index) {
    if (index >= programs[program(id)].nmaps) die("no such map");
    return &programs[id].maps[index];
}

static void run(u64 id, u64 r1, u64 r2) {
    struct prism_rt rt = { 0, 0, helper, ns, ns_len, programs[id].handles, programs[id].values };
    u64 r0 = programs[id].entry(r1, r2, &rt);
    out64(rt.status);
    out64(rt.pc);
    out64(r0);
}

int main(void) {
    for (;;) {
        int op = getchar();
        if (op == EOF || op == 'Q') return 0;
        switch (op) {
        case 'L': {
            u64 len = in64(), entry = in64();
            if (len == 0 || len > (64u << 20) || entry >= len) die("bad code image");
            size_t size = (len + 4095) & ~(size_t) 4095;
            void *code = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (code == MAP_FAILED) die("mmap failed");
            in(code, len);
            /* never writable and executable at once */
            if (mprotect(code, size, PROT_READ | PROT_EXEC) != 0) die("mprotect failed");
            __builtin___clear_cache((char *) code, (char *) code + len);
            u64 id = 0;
            while (id < MAX_PROGRAMS && programs[id].entry) id++;
            if (id == MAX_PROGRAMS) die("too many programs");
            u64 n = in64();
            if (n > MAX_MAPS) die("too many maps");
            for (u64 k = 0; k < n; k++) {
                struct array_map *m = &programs[id].maps[k];
                m->stride = in64();
                m->max = in64();
                m->value_size = in64();
                if (m->stride == 0 || m->stride % 8 || m->value_size > m->stride || m->max > (1u << 24)) die("bad map");
                m->values = buffer(m->stride * m->max);
                memset(m->values, 0, m->stride * m->max);
                programs[id].handles[k] = (u64) (uintptr_t) m;
                programs[id].values[k] = (u64) (uintptr_t) m->values;
            }
            programs[id].nmaps = n;
            programs[id].code = code;
            programs[id].size = size;
            programs[id].entry = (entry_fn) (void *) ((u8 *) code + entry);
            out64(id);
            break;
        }
        case 'U': {
            u64 id = in64();
            program(id);
            munmap(programs[id].code, programs[id].size);
            for (u64 k = 0; k < programs[id].nmaps; k++) free(programs[id].maps[k].values);
            programs[id].nmaps = 0;
            programs[id].entry = 0;
            out64(0);
            break;
        }
        case 'G': {
            u64 id = in64();
            struct array_map *m = map(id, in64());
            out64(m->stride * m->max);
            out(m->values, m->stride * m->max);
            break;
        }
        case 'P': {
            u64 id = in64();
            struct array_map *m = map(id, in64());
            if (in64() != m->stride * m->max) die("map size mismatch");
            in(m->values, m->stride * m->max);
            out64(0);
            break;
        }
        case 'N': {
            u64 len = in64();
            free(ns);
            ns = buffer(len);
            ns_len = len;
            in(ns, len);
            out64(0);
            break;
        }
        case 'R': {
            u64 id = program(in64());
            u64 len = in64();
            u8 *mem = buffer(len);
            in(mem, len);
            run(id, len ? (u64) (uintptr_t) mem : 0, len);
            out(mem, len);
            free(mem);
            break;
        }
        case 'C': {
            u64 id = program(in64());
            u64 off = in64(), len = in64(), outlen = in64(), p0 = in64(), p1 = in64();
            if (off > ns_len || len > ns_len - off) die("chunk outside the namespace");
            u8 *o = buffer(outlen);
            in(o, outlen);
            u64 ctx[7] = { (u64) (uintptr_t) (ns + off), (u64) (uintptr_t) (ns + off + len),
                           (u64) (uintptr_t) o, (u64) (uintptr_t) (o + outlen), off, p0, p1 };
            run(id, (u64) (uintptr_t) ctx, 0);
            out(o, outlen);
            free(o);
            break;
        }
        default:
            die("unknown request");
        }
        fflush(stdout);
    }
}
