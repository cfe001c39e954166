package dev.prism.runtime.maps;

/**
 * The errno values the kernel's map operations return, as the negative numbers a program (or
 * the bpf() syscall) sees them (include/uapi/asm-generic/errno-base.h, errno.h, and for
 * ENOTSUPP the kernel-internal include/linux/errno.h). The numbers are the generic ones that
 * x86-64 and arm64 share.
 */
public final class MapErrno {
    /** No such element: BPF_EXIST on a missing key, delete of a missing key. */
    public static final int ENOENT = 2;
    /** Hash map full (non-LRU), or array index at or past max_entries on update. */
    public static final int E2BIG = 7;
    /** Ring buffer full ({@code bpf_ringbuf_output}). */
    public static final int EAGAIN = 11;
    /** BPF_NOEXIST on a key that exists (every array index exists). */
    public static final int EEXIST = 17;
    /** Unknown flags, BPF_F_LOCK without a spin lock, delete on an array, prefix too long. */
    public static final int EINVAL = 22;
    /** LPM trie full. */
    public static final int ENOSPC = 28;
    /** An operation the map type does not have (ring buffer lookup, update, delete). */
    public static final int ENOTSUPP = 524;

    private MapErrno() {
    }
}
