/*
 * Prism csd harness (target-csd): the "drive" side of a cross-built firmware run under
 * qemu-user. A static binary; one process serves many programs and runs, so a suite is not a
 * process per case. It loads firmware code images (position-independent blobs, FirmwareBuild)
 * into executable memory and calls their prism_entry.
 *
 * Protocol on stdin/stdout, every number a little-endian u64 (QemuHarness is the other side):
 *   'L' len entry <len bytes>                 load a code image      -> id
 *   'U' id                                    unload                 -> 0
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

#define MAX_PROGRAMS 4096
static struct { void *code; size_t size; entry_fn entry; } programs[MAX_PROGRAMS];
static u8 *ns;
static u64 ns_len;
static u64 rng = 0x9E3779B97F4A7C15ull;

/* Helpers a drive core answers itself: clocks, randomness, the engine number. Maps are not
   offered to cross builds (the csd-aarch64/-riscv64 check refuses them). */
static u64 helper(struct prism_rt *rt, u64 id, u64 r1, u64 r2, u64 r3, u64 r4, u64 r5) {
    (void) r1; (void) r2; (void) r3; (void) r4; (void) r5;
    switch (id) {
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

static entry_fn program(u64 id) {
    if (id >= MAX_PROGRAMS || !programs[id].entry) die("no such program");
    return programs[id].entry;
}

static void run(entry_fn f, u64 r1, u64 r2) {
    struct prism_rt rt = { 0, 0, helper, ns, ns_len, 0, 0 };
    u64 r0 = f(r1, r2, &rt);
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
            programs[id].entry = 0;
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
            entry_fn f = program(in64());
            u64 len = in64();
            u8 *mem = buffer(len);
            in(mem, len);
            run(f, len ? (u64) (uintptr_t) mem : 0, len);
            out(mem, len);
            free(mem);
            break;
        }
        case 'C': {
            entry_fn f = program(in64());
            u64 off = in64(), len = in64(), outlen = in64(), p0 = in64(), p1 = in64();
            if (off > ns_len || len > ns_len - off) die("chunk outside the namespace");
            u8 *o = buffer(outlen);
            in(o, outlen);
            u64 ctx[7] = { (u64) (uintptr_t) (ns + off), (u64) (uintptr_t) (ns + off + len),
                           (u64) (uintptr_t) o, (u64) (uintptr_t) (o + outlen), off, p0, p1 };
            run(f, (u64) (uintptr_t) ctx, 0);
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
