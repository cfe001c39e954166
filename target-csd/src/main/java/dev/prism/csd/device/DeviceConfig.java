package dev.prism.csd.device;

import java.util.List;
import java.util.Objects;

/**
 * The shape of an emulated device.
 *
 * @param programSlots      program slots of the compute namespace (Program Index 0..n-1)
 * @param engines           compute engines: host threads that run chunks in parallel
 * @param slmBytes          size of the memory namespace (subsystem local memory)
 * @param maxImageBytes     the largest program image Load Program takes
 * @param chunkBytes        the default chunk size of Execute Program
 * @param maxRangeSets      how many memory range sets may exist at once
 * @param trustedKeys       raw Ed25519 public keys whose signatures the device accepts
 * @param loader            how loaded images become runnable programs
 */
public record DeviceConfig(int programSlots, int engines, long slmBytes, int maxImageBytes, long chunkBytes,
                           int maxRangeSets, List<byte[]> trustedKeys, KernelLoader loader) {
    public DeviceConfig {
        if (programSlots < 1 || engines < 1 || slmBytes < 0 || maxImageBytes < 1 || chunkBytes < 1 || maxRangeSets < 1) {
            throw new IllegalArgumentException("a device needs at least one slot, engine and range set, and positive sizes");
        }
        if (chunkBytes > CsdDevice.MAX_CHUNK) {
            throw new IllegalArgumentException("chunks are at most " + CsdDevice.MAX_CHUNK + " bytes, not " + chunkBytes);
        }
        trustedKeys = trustedKeys.stream().map(byte[]::clone).toList();
        Objects.requireNonNull(loader);
    }

    /** {@return a device with 8 slots, one engine per CPU, 64 MiB of SLM, 32 KiB chunks, 4 MiB images, 16 range sets} */
    public static DeviceConfig defaults(List<byte[]> trustedKeys, KernelLoader loader) {
        return new DeviceConfig(8, Runtime.getRuntime().availableProcessors(), 64L << 20, 4 << 20, 32L << 10, 16,
                trustedKeys, loader);
    }

    public DeviceConfig withEngines(int n) {
        return new DeviceConfig(programSlots, n, slmBytes, maxImageBytes, chunkBytes, maxRangeSets, trustedKeys, loader);
    }

    public DeviceConfig withSlmBytes(long n) {
        return new DeviceConfig(programSlots, engines, n, maxImageBytes, chunkBytes, maxRangeSets, trustedKeys, loader);
    }

    public DeviceConfig withChunkBytes(long n) {
        return new DeviceConfig(programSlots, engines, slmBytes, maxImageBytes, n, maxRangeSets, trustedKeys, loader);
    }

    public DeviceConfig withMaxImageBytes(int n) {
        return new DeviceConfig(programSlots, engines, slmBytes, n, chunkBytes, maxRangeSets, trustedKeys, loader);
    }
}
