package dev.prism.gpu;

import dev.prism.error.TargetException;
import dev.prism.program.MapDef;
import dev.prism.runtime.maps.BpfMap;
import dev.prism.runtime.maps.BpfMaps;
import dev.prism.runtime.maps.RingBufMap;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Copies the host's maps (the {@link BpfMap}s user space sees through {@code Executable.maps()})
 * into the device layout of {@link DeviceLayout} before a batch, and back after it. The host
 * copy is the one of record between batches; the device copy is the one of record during one.
 */
final class DeviceMaps {
    private DeviceMaps() {
    }

    private static byte[] index(int i) {
        return new byte[] {(byte) i, (byte) (i >>> 8), (byte) (i >>> 16), (byte) (i >>> 24)};
    }

    /** FNV-1a over the key, as the kernel's {@code hkey}. */
    static int hash(byte[] key) {
        int h = 0x811C9DC5;
        for (byte b : key) {
            h ^= b & 0xff;
            h *= 16777619;
        }
        return h;
    }

    /** Writes every map into {@code region} (the arena from offset 0 up to the items). */
    static void upload(DeviceLayout layout, List<BpfMap> maps, MemorySegment region) {
        region.fill((byte) 0);
        for (int m = 0; m < maps.size(); m++) {
            BpfMap map = maps.get(m);
            MapDef d = map.def();
            long off = layout.mapOffset(m);
            int stride = DeviceLayout.round8(d.valueSize());
            switch (d.type()) {
                case ARRAY -> {
                    for (int i = 0; i < d.maxEntries(); i++) {
                        byte[] v = map.lookupUser(index(i));
                        MemorySegment.copy(v, 0, region, ValueLayout.JAVA_BYTE, off + (long) i * stride, d.valueSize());
                    }
                }
                case PERCPU_ARRAY -> {
                    for (int i = 0; i < d.maxEntries(); i++) {
                        byte[] v = map.lookupUser(index(i));
                        for (int cpu = 0; cpu < DeviceLayout.CPUS; cpu++) {
                            MemorySegment.copy(v, cpu * stride, region, ValueLayout.JAVA_BYTE,
                                    off + ((long) cpu * d.maxEntries() + i) * stride, d.valueSize());
                        }
                    }
                }
                case HASH, LRU_HASH -> {
                    int mask = DeviceLayout.hashCapacity(d) - 1;
                    int slot = DeviceLayout.hashSlot(d);
                    int count = 0;
                    for (byte[] key : map.keys()) {
                        byte[] v = map.lookupUser(key);
                        if (v == null) {
                            continue;
                        }
                        int i = hash(key) & mask;
                        while (region.get(ValueLayout.JAVA_INT_UNALIGNED, off + 8 + (long) i * slot) != 0) {
                            i = (i + 1) & mask;
                        }
                        long s = off + 8 + (long) i * slot;
                        region.set(ValueLayout.JAVA_INT_UNALIGNED, s, 2);
                        MemorySegment.copy(key, 0, region, ValueLayout.JAVA_BYTE, s + 8, key.length);
                        MemorySegment.copy(v, 0, region, ValueLayout.JAVA_BYTE, s + 8 + DeviceLayout.round8(d.keySize()),
                                d.valueSize());
                        count++;
                    }
                    region.set(ValueLayout.JAVA_INT_UNALIGNED, off, count);
                }
                case LPM_TRIE -> {
                    List<byte[]> keys = new java.util.ArrayList<>(map.keys());
                    keys.sort((x, y) -> Integer.compareUnsigned(prefix(y), prefix(x)));
                    int slot = DeviceLayout.lpmSlot(d);
                    int at = 0;
                    for (byte[] key : keys) {
                        byte[] v = map.lookupUser(key);
                        long s = off + 8 + (long) at * slot;
                        region.set(ValueLayout.JAVA_INT_UNALIGNED, s, prefix(key));
                        MemorySegment.copy(key, 4, region, ValueLayout.JAVA_BYTE, s + 8, key.length - 4);
                        MemorySegment.copy(v, 0, region, ValueLayout.JAVA_BYTE, s + 8 + DeviceLayout.round8(d.keySize() - 4),
                                d.valueSize());
                        at++;
                    }
                    region.set(ValueLayout.JAVA_INT_UNALIGNED, off, at);
                }
                case PROG_ARRAY -> {
                    dev.prism.runtime.maps.ProgArrayMap pa = (dev.prism.runtime.maps.ProgArrayMap) map;
                    for (int i = 0; i < d.maxEntries(); i++) {
                        if (pa.get(i) instanceof Integer k) {
                            region.set(ValueLayout.JAVA_INT_UNALIGNED, off + 4L * i, k + 1);
                        }
                    }
                }
                case RINGBUF -> {
                    RingBufMap ring = (RingBufMap) map;
                    long used = ring.producerPosition() - ring.consumerPosition();
                    // the host ring's rule: a record fits while producer - consumer stays at most size - 1
                    region.set(ValueLayout.JAVA_LONG_UNALIGNED, off + 8, Math.max(0, ring.size() - 1 - used));
                }
                default -> throw new TargetException("not supported: map type " + d.type().id() + " on the device");
            }
        }
    }

    private static int prefix(byte[] key) {
        return (key[0] & 0xff) | (key[1] & 0xff) << 8 | (key[2] & 0xff) << 16 | (key[3] & 0xff) << 24;
    }

    /** Reads every map back from {@code region} into the host maps. */
    static void download(DeviceLayout layout, List<BpfMap> maps, MemorySegment region) {
        for (int m = 0; m < maps.size(); m++) {
            BpfMap map = maps.get(m);
            MapDef d = map.def();
            long off = layout.mapOffset(m);
            int stride = DeviceLayout.round8(d.valueSize());
            switch (d.type()) {
                case ARRAY -> {
                    for (int i = 0; i < d.maxEntries(); i++) {
                        byte[] v = region.asSlice(off + (long) i * stride, d.valueSize()).toArray(ValueLayout.JAVA_BYTE);
                        require(map.updateUser(index(i), v, BpfMaps.BPF_ANY), d);
                    }
                }
                case PERCPU_ARRAY -> {
                    for (int i = 0; i < d.maxEntries(); i++) {
                        byte[] v = new byte[DeviceLayout.CPUS * stride];
                        for (int cpu = 0; cpu < DeviceLayout.CPUS; cpu++) {
                            MemorySegment.copy(region, ValueLayout.JAVA_BYTE, off + ((long) cpu * d.maxEntries() + i) * stride,
                                    v, cpu * stride, d.valueSize());
                        }
                        require(map.updateUser(index(i), v, BpfMaps.BPF_ANY), d);
                    }
                }
                case HASH, LRU_HASH -> {
                    for (byte[] key : map.keys()) {
                        map.deleteUser(key);
                    }
                    int cap = DeviceLayout.hashCapacity(d);
                    int slot = DeviceLayout.hashSlot(d);
                    for (int i = 0; i < cap; i++) {
                        long s = off + 8 + (long) i * slot;
                        if (region.get(ValueLayout.JAVA_INT_UNALIGNED, s) == 2) {
                            byte[] key = region.asSlice(s + 8, d.keySize()).toArray(ValueLayout.JAVA_BYTE);
                            byte[] v = region.asSlice(s + 8 + DeviceLayout.round8(d.keySize()), d.valueSize())
                                    .toArray(ValueLayout.JAVA_BYTE);
                            require(map.updateUser(key, v, BpfMaps.BPF_ANY), d);
                        }
                    }
                }
                case LPM_TRIE -> {
                    // read only on the device (check refuses update and delete): values may have
                    // been written through lookup pointers, so they come back
                    int n = region.get(ValueLayout.JAVA_INT_UNALIGNED, off);
                    int slot = DeviceLayout.lpmSlot(d);
                    for (int e = 0; e < n; e++) {
                        long s = off + 8 + (long) e * slot;
                        byte[] key = new byte[d.keySize()];
                        int p = region.get(ValueLayout.JAVA_INT_UNALIGNED, s);
                        key[0] = (byte) p;
                        key[1] = (byte) (p >>> 8);
                        key[2] = (byte) (p >>> 16);
                        key[3] = (byte) (p >>> 24);
                        MemorySegment.copy(region, ValueLayout.JAVA_BYTE, s + 8, key, 4, d.keySize() - 4);
                        byte[] v = region.asSlice(s + 8 + DeviceLayout.round8(d.keySize() - 4), d.valueSize())
                                .toArray(ValueLayout.JAVA_BYTE);
                        require(map.updateUser(key, v, BpfMaps.BPF_ANY), d);
                    }
                }
                case RINGBUF -> appendRecords((RingBufMap) map, region, off);
                case PROG_ARRAY -> {
                    // the host's slots are the ones of record: the device only reads them
                }
                default -> throw new TargetException("not supported: map type " + d.type().id() + " on the device");
            }
        }
    }

    /**
     * Appends the device ring's records at {@code off} to {@code ring} in claim order (reserved,
     * copied, then submitted or discarded, so that discarded records take the host ring's room
     * as they would have), and empties the device ring.
     */
    private static void appendRecords(RingBufMap ring, MemorySegment region, long off) {
        long used = region.get(ValueLayout.JAVA_LONG_UNALIGNED, off);
        long at = 0;
        while (at < used) {
            long rec = off + DeviceLayout.RING_HEADER + at;
            int hdr = region.get(ValueLayout.JAVA_INT_UNALIGNED, rec);
            int len = hdr & ~(RingBufMap.BUSY_BIT | RingBufMap.DISCARD_BIT);
            if ((hdr & RingBufMap.BUSY_BIT) != 0) {
                throw new TargetException("ring " + ring.def().name() + ": a record at " + at + " was never submitted");
            }
            long address = ring.reserve(len);
            if (address == 0) {
                throw new TargetException("ring " + ring.def().name() + ": no room on the host for a device record of " + len
                        + " bytes");
            }
            MemorySegment.ofAddress(address).reinterpret(len).copyFrom(region.asSlice(rec + RingBufMap.RECORD_HEADER, len));
            if ((hdr & RingBufMap.DISCARD_BIT) != 0) {
                ring.discard(address);
            } else {
                ring.submit(address);
            }
            at += (len + RingBufMap.RECORD_HEADER + 7) & ~7L;
        }
        region.set(ValueLayout.JAVA_LONG_UNALIGNED, off, 0);
    }

    private static void require(int rc, MapDef d) {
        if (rc != 0) {
            throw new TargetException("copying map " + d.name() + " back failed with errno " + -rc);
        }
    }
}
