package dev.prism.runtime;

import dev.prism.runtime.maps.BpfMap;
import java.lang.foreign.MemorySegment;

/**
 * What a helper may reach of the calling program: its memory (every access checked like the
 * interpreter's own), its maps, its XDP frame and its environment. Addresses are the program's
 * (virtual) addresses.
 */
public interface HelperContext {
    /** {@return {@code size} bytes at {@code address}} @throws dev.prism.error.TrapException when outside every region */
    byte[] read(long address, int size);

    /** Writes {@code bytes} at {@code address}. @throws dev.prism.error.TrapException when not writable */
    void write(long address, byte[] bytes);

    /** {@return the memory at [address, address + size) itself, checked} */
    MemorySegment memory(long address, int size, boolean write);

    /** {@return the map a handle from {@code lddw map_idx} refers to} @throws dev.prism.error.TrapException for anything else */
    BpfMap map(long handle);

    /** {@return the map whose memory holds {@code programAddress}} @throws dev.prism.error.TrapException when none does */
    BpfMap mapOwning(long programAddress);

    /** {@return the program address of native map memory (a value from lookup, a ringbuf record), 0 for 0} */
    long programAddress(long nativeAddress);

    /** {@return the native address behind a program address inside map memory} */
    long nativeAddress(long programAddress);

    /** {@return the XDP frame, or null when the program is not XDP} */
    XdpBuffer xdp();

    /** {@return the skb of a tc program's run, or null for other program types} */
    default SkbBuffer skb() {
        return null;
    }

    /** {@return a csd program's namespace (what prism_csd_read reads), or null for other program types} */
    default MemorySegment csdNamespace() {
        return null;
    }

    /** {@return time, randomness, CPU, trace output} */
    Environment env();
}
