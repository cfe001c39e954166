/* prism_csd.h: the csd program type (computational storage, target-csd).
 *
 * A csd program runs over one chunk of an NVMe memory range set on a drive's compute
 * engine. r1 points to struct prism_csd_md (dev.prism.program.CsdContext): the chunk
 * [data, data_end) (read-only), the output buffer [out, out_end) in subsystem local
 * memory, the chunk's byte offset in the namespace and the two 64-bit parameters of
 * the Execute Program command. Return the number of bytes written to out, or a
 * negative errno. Accesses through data and out are proven against data_end / out_end,
 * as XDP's packet accesses are. Chunks and out buffers are at most 65,535 bytes.
 */
#ifndef PRISM_CSD_H
#define PRISM_CSD_H

#include "prism_bpf.h"

struct prism_csd_md {
	__u64 data;
	__u64 data_end;
	__u64 out;
	__u64 out_end;
	__u64 offset;
	__u64 param0;
	__u64 param1;
};

/* Prism's own helper (id 0x10001): len bytes of the namespace at ns_offset into dst;
 * 0, or -EINVAL with dst zeroed when they are not all inside the namespace. */
static long (*prism_csd_read)(__u64 ns_offset, void *dst, __u32 len) = (void *) 0x10001;

#define CSD_ENOSPC 28

/* The fixed-size record of csd_filter.c and csd_aggregate.c (32 bytes, little-endian). */
struct csd_record {
	__u64 id;
	__u32 kind;
	__u32 amount;
	__u64 timestamp;
	__u64 flags;
};

#endif
