package dev.prism.runtime.maps;

import dev.prism.program.MapDef;
import dev.prism.runtime.Region;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A BPF map living off-heap, in a layout that Java, native JIT code and device copies share
 * (DESIGN.md, "Maps and helpers"). Each implementation documents its layout with a byte diagram.
 *
 * <p>Two sides, as in Linux:
 * <ul>
 *   <li>the program side ({@link #lookup}, {@link #update}, {@link #delete}): what the helpers
 *       {@code bpf_map_lookup_elem}, {@code bpf_map_update_elem} and {@code bpf_map_delete_elem}
 *       do. Keys and values are memory the program points at. Results are native addresses or
 *       0, and 0 or a negative errno ({@link MapErrno}) with the kernel's numbers;</li>
 *   <li>the user-space side ({@link #lookupUser}, {@link #updateUser}, {@link #deleteUser},
 *       {@link #keys}): what the {@code bpf()} syscall does, with byte arrays. For per-CPU maps
 *       a value is every CPU's copy in CPU order, each rounded up to 8 bytes.</li>
 * </ul>
 *
 * <p>Key and value sizes are checked: a key or value shorter than the map's sizes (program
 * side) or of another length (user side) is an {@link IllegalArgumentException}, because it is
 * a bug in the caller, which the verifier or the syscall layer would have refused.
 *
 * <p>Every map is safe for concurrent use by several threads running programs and by user-space
 * calls; each implementation says which operations take its lock.
 *
 * <p>The memory comes from the {@link java.lang.foreign.Arena} the map was created with;
 * closing that arena frees it. {@link #close()} drops what the map holds on the Java heap.
 */
public sealed interface BpfMap extends AutoCloseable
        permits ArrayMap, HashTableMap, LpmTrieMap, RingBufMap, ProgArrayMap, MapOfMaps, RedirectMap, PerfEventArrayMap {

    /** {@return the definition the map was created from} */
    MapDef def();

    /**
     * {@code bpf_map_lookup_elem} from a program.
     *
     * @param key the key ({@code def().keySize()} bytes are read)
     * @param cpu the CPU whose copy to return, for per-CPU maps; ignored otherwise
     * @return the native address of the value, or 0 when the key is absent
     */
    long lookup(MemorySegment key, int cpu);

    /**
     * {@code bpf_map_update_elem} from a program.
     *
     * @param flags BPF_ANY (0), BPF_NOEXIST (1) or BPF_EXIST (2); anything else is -EINVAL
     * @param cpu   the CPU running the program: per-CPU maps update that CPU's copy only
     * @return 0, or a negative errno as the kernel returns it
     */
    int update(MemorySegment key, MemorySegment value, long flags, int cpu);

    /** {@return 0, or a negative errno: {@code bpf_map_delete_elem} from a program or the syscall} */
    int delete(MemorySegment key);

    /**
     * {@code BPF_MAP_LOOKUP_ELEM} from user space.
     *
     * @return a copy of the value ({@link #userValueSize()} bytes), or null when the key is absent
     */
    byte[] lookupUser(byte[] key);

    /** {@return 0, or a negative errno: {@code BPF_MAP_UPDATE_ELEM} from user space} */
    int updateUser(byte[] key, byte[] value, long flags);

    /** {@return 0, or a negative errno: {@code BPF_MAP_DELETE_ELEM} from user space} */
    default int deleteUser(byte[] key) {
        BpfMaps.checkUserKey(def(), key);
        return delete(MemorySegment.ofArray(key));
    }

    /**
     * {@return copies of the keys, in the order {@code BPF_MAP_GET_NEXT_KEY} would visit them:
     * arrays by index (every index), hash maps in a stable order of this implementation}
     */
    List<byte[]> keys();

    /**
     * {@return the memory program pointers into this map may touch, named "map value NAME",
     * writable unless the map is read-only to programs; their bases are native addresses}
     */
    List<Region> regions();

    /** {@return the length of a user-space value: per-CPU maps: cpus * round_up(value_size, 8)} */
    default int userValueSize() {
        return def().valueSize();
    }

    @Override
    void close();
}
