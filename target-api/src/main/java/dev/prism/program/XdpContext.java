package dev.prism.program;

/**
 * The XDP context in Linux's user layout ({@code struct xdp_md}, what programs are compiled
 * against) and in Prism's host layout (what every backend reads after the verifier has
 * normalized the program, as Linux's convert_ctx_access rewrites to {@code struct xdp_buff}):
 * <pre>
 *   field             xdp_md (user)      host layout
 *   data              u32 @ 0            u64 @ 0   (a pointer)
 *   data_end          u32 @ 4            u64 @ 8   (a pointer)
 *   data_meta         u32 @ 8            u64 @ 16  (a pointer)
 *   ingress_ifindex   u32 @ 12           u32 @ 24
 *   rx_queue_index    u32 @ 16           u32 @ 28
 * </pre>
 * egress_ifindex (u32 @ 20) exists only for devmap programs and is refused by the verifier.
 * The runtime's block has one field more, past what programs may read: {@link #HOST_FRAME}.
 */
public final class XdpContext {
    /** Bytes of the host layout. */
    public static final int HOST_SIZE = 32;
    /**
     * u64 at 32, after the program-visible fields: the frame's data_hard_start, written by the
     * runtime for helpers compiled to native code (xdp_adjust_head/meta/tail check their limits
     * against it). The verifier bounds context accesses by {@link #HOST_SIZE}, so programs never
     * reach it.
     */
    public static final int HOST_FRAME = 32;
    /** Bytes of the runtime's block: the host layout and {@link #HOST_FRAME}. */
    public static final int RUNTIME_SIZE = HOST_FRAME + 8;

    private XdpContext() {
    }

    /** {@return the host offset of the user field at {@code userOffset}, or -1 for none} */
    public static int hostOffset(int userOffset) {
        return switch (userOffset) {
            case 0 -> 0;
            case 4 -> 8;
            case 8 -> 16;
            case 12 -> 24;
            case 16 -> 28;
            default -> -1;
        };
    }

    /** {@return whether the user field at {@code userOffset} is a pointer (8 bytes in the host layout)} */
    public static boolean isPointer(int userOffset) {
        return userOffset == 0 || userOffset == 4 || userOffset == 8;
    }
}
