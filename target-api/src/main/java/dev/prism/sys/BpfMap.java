package dev.prism.sys;

import dev.prism.program.MapType;

/**
 * A map created in the kernel: its file descriptor and the shape the kernel checks every key
 * and value against. Closing is {@link LinuxBpf#close(int)} on {@link #fd()}, once.
 */
public record BpfMap(int fd, MapType type, int keySize, int valueSize, int maxEntries) {
    /**
     * {@return the bytes of a value as the bpf() syscall reads and writes it: for per-CPU maps one
     * {@code round_up(value_size, 8)} block per possible CPU, else the value size}
     */
    public int userValueSize() {
        return type.perCpu() ? ((valueSize + 7) & ~7) * LinuxBpf.possibleCpus() : valueSize;
    }
}
