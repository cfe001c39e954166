/**
 * Computational storage: the {@code csd} program type's runtime side, the firmware lowering and
 * the {@code csd} targets (DESIGN.md "target-csd").
 *
 * <h2>The csd program type (ABI)</h2>
 * A csd program processes one <em>chunk</em> of a memory range set: the device splits the
 * ranges of an Execute Program command into chunks and runs the program once per chunk, on
 * several compute engines at once ({@link dev.prism.csd.ChunkKernel}). ELF section
 * {@code csd} or {@code csd/*}; {@code --type csd} for assembler text and raw bytes.
 * <pre>
 *   r1 -&gt; struct prism_csd_md {       (dev.prism.program.CsdContext; read-only)
 *            __u64 data;      0   first byte of the chunk             read-only
 *            __u64 data_end;  8   one past its last byte
 *            __u64 out;      16   first byte of the output buffer     writable
 *            __u64 out_end;  24   one past its last byte
 *            __u64 offset;   32   the chunk's byte offset in the namespace
 *            __u64 param0;   40   Execute Program's first 64-bit parameter
 *            __u64 param1;   48   its second
 *         };
 *   r0  =  bytes written to out (0 .. out_end - out), or a negative errno
 * </pre>
 * <ul>
 * <li><b>Why 64-bit fields</b> (unlike {@code struct xdp_md}'s u32 fields, which Linux must
 *     rewrite into 64-bit pointer loads): the layout the program is compiled against is the one
 *     every backend and the firmware entry receive, so the verifier rewrites nothing, the
 *     namespace offset and the command's parameters are 64-bit as NVMe gives them, and C reads
 *     {@code (void *)ctx->data} without casts through {@code long}. Pointers are read with
 *     8-byte loads only; the scalar fields with any naturally aligned load inside the field.</li>
 * <li><b>Bounds.</b> The verifier treats data..data_end and out..out_end as two separate
 *     packets: every access through {@code data} or {@code out} (with constant or variable
 *     offsets) must be proven below {@code data_end} / {@code out_end} by a comparison on the
 *     path, exactly as an XDP program's packet accesses; a comparison of one region's pointer
 *     with the other's end proves nothing and is refused. Stores, atomics and helper writes into
 *     {@code data} are refused ("write to read-only data"). A chunk and an output buffer are at
 *     most {@link dev.prism.program.CsdContext#MAX_REGION} (65535) bytes each, the verifier's
 *     largest packet, on which its packet arithmetic rests; a device splits ranges accordingly
 *     and offers at most that much of its output buffer per chunk.</li>
 * <li><b>Helpers.</b> map_lookup_elem, map_update_elem, map_delete_elem, ktime_get_ns,
 *     get_prandom_u32, get_smp_processor_id (the engine), loop, for_each_map_elem, and Prism's
 *     own {@code long prism_csd_read(u64 ns_offset, void *dst, u32 len)}, id
 *     {@code 0x10001} ({@link dev.prism.runtime.Helpers#CSD_READ}; Prism's helper ids start at
 *     {@code 0x10000}, far above Linux's, which are below 256): it copies {@code len} bytes of
 *     the whole namespace at {@code ns_offset} into {@code dst} (the stack, {@code out} or a
 *     map value; {@code len} a bounded non-zero size the verifier checks against {@code dst}'s
 *     room, as {@code bpf_skb_load_bytes}'s) and returns 0, or zeroes {@code dst} and returns
 *     -EINVAL (-22) when the bytes are not all inside the namespace. Other helpers are refused
 *     in csd programs, and prism_csd_read in every other type. In C:
 *     {@code static long (*prism_csd_read)(__u64, void *, __u32) = (void *) 0x10001;}</li>
 * <li><b>XRP's resubmission.</b> XRP (OSDI '22) lets a program in the NVMe driver's completion
 *     path name the next block to read and have the driver resubmit the I/O, because an
 *     interrupt handler must not block. A drive's compute engine may block on its own flash
 *     reads, so the idea takes a simpler form here: the program reads further namespace bytes
 *     synchronously with prism_csd_read, and a pointer chase (a B-tree descent) is a loop of
 *     reads the verifier bounds, all inside one invocation, with nothing crossing to the host.
 *     What resubmission also gives XRP, a step budget per I/O, is the verifier's bound on the
 *     loop plus the run's instruction budget.</li>
 * </ul>
 * The reference semantics are the interpreter's ({@code Interpreter.Instance.runCsd}, wrapped by
 * {@link dev.prism.csd.InterpreterChunkKernel}): the oracle for every firmware build.
 */
package dev.prism.csd;
