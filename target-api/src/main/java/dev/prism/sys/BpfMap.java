package dev.prism.sys;

import dev.prism.program.MapType;

/**
 * A map created in the kernel: its file descriptor and the shape the kernel checks every key
 * and value against. Closing is {@link LinuxBpf#close(int)} on {@link #fd()}, once.
 */
public record BpfMap(int fd, MapType type, int keySize, int valueSize, int maxEntries) {
}
