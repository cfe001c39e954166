package dev.prism.runtime.maps;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.runtime.Region;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;
import java.util.function.ToLongFunction;

/**
 * BPF_MAP_TYPE_ARRAY_OF_MAPS and BPF_MAP_TYPE_HASH_OF_MAPS (kernel/bpf/map_in_map.c,
 * arraymap.c, hashtab.c): each value is another map, of the shape of the definition's
 * {@link MapDef.Inner#template() template}.
 *
 * <h2>Layout</h2>
 * The slots are an 8-byte-valued {@link ArrayMap} (ARRAY_OF_MAPS) or {@link HashTableMap}
 * (HASH_OF_MAPS) whose values are <em>handles</em>: whatever the runtime that created the maps
 * uses for a map in a register after {@code lddw map_idx} (the interpreter's virtual map
 * address, a JIT's native map handle), or 0 for an empty slot. So a program-side lookup
 * returns the inner map's handle or 0, and a JIT inlines the outer array lookup as Linux's
 * {@code array_of_map_gen_lookup} does:
 * <pre>
 *  i = *(u32 *)key;  r0 = i < max_entries ? *(u64 *)(handlesAddress + 8 * i) : 0
 * </pre>
 * The runtime {@link #bind binds} the map to its map list once every map exists; the object's
 * initializers ({@link MapDef.Inner#slots()}) are applied then, as libbpf does at load time.
 *
 * <h2>User space</h2>
 * Linux takes an inner map fd in BPF_MAP_UPDATE_ELEM and returns the inner map's id from
 * BPF_MAP_LOOKUP_ELEM. Prism has neither: a user-space value is the inner map's index in the
 * object's map list (u32), in both directions. An inner map that does not match the template
 * is refused with -EINVAL (bpf_map_meta_equal), an index that is no map with -EBADF.
 */
public final class MapOfMaps implements BpfMap {
    /** EBADF: the "fd" names no map. */
    static final int EBADF = 9;

    private final MapDef def;
    private final BpfMap slots;
    private final Map<String, BpfMap> inner = new ConcurrentHashMap<>();
    private final Map<BpfMap, Integer> indexOf = new ConcurrentHashMap<>();
    private volatile IntFunction<BpfMap> maps;
    private volatile ToLongFunction<BpfMap> handles;
    private volatile int mapCount;

    MapOfMaps(MapDef def, Arena arena) {
        if (!def.type().ofMaps()) {
            throw new IllegalArgumentException("map " + def.name() + ": not a map-in-map: " + def.type().id());
        }
        this.def = def;
        // fd_array_map_alloc_check / htab_of_map_alloc: the value is a u32 fd; programs never
        // write the slots, so BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG are refused.
        BpfMaps.require(def, def.valueSize() == 4, "value size must be 4 (a map reference), was " + def.valueSize());
        BpfMaps.require(def, (def.flags() & (BpfMaps.BPF_F_RDONLY_PROG | BpfMaps.BPF_F_WRONLY_PROG)) == 0,
                "map_flags BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG are not allowed for " + def.type().id());
        MapDef backing = new MapDef(def.name(), def.type() == MapType.ARRAY_OF_MAPS ? MapType.ARRAY : MapType.HASH,
                def.keySize(), 8, def.maxEntries(), def.flags(), null, false);
        this.slots = BpfMaps.create(backing, 1, arena);
    }

    @Override
    public MapDef def() {
        return def;
    }

    /**
     * Connects the map to the runtime's maps and fills the slots the object initializes.
     *
     * @param byIndex the map with an index of the object's map list (null past the end)
     * @param count   how many maps the list has
     * @param handle  the handle a program holds for a map
     * @throws IllegalArgumentException when an initializer names no map or a map that does not fit
     */
    public void bind(IntFunction<BpfMap> byIndex, int count, ToLongFunction<BpfMap> handle) {
        this.maps = byIndex;
        this.mapCount = count;
        this.handles = handle;
        for (int i = 0; i < count; i++) {
            indexOf.putIfAbsent(byIndex.apply(i), i);
        }
        for (var slot : def.inner().slots().entrySet()) {
            int index = -1;
            for (int i = 0; i < count; i++) {
                if (byIndex.apply(i).def().name().equals(slot.getValue())) {
                    index = i;
                    break;
                }
            }
            int rc = index < 0 ? -EBADF : set(FdArrays.u32(slot.getKey()), index);
            BpfMaps.require(def, rc == 0, "cannot put map '" + slot.getValue() + "' in slot " + slot.getKey()
                    + " (errno " + -rc + ")");
        }
    }

    /** {@return the address of slot 0's handle (ARRAY_OF_MAPS; 8 bytes per slot), for JIT-inlined lookups} */
    public long handlesAddress() {
        if (slots instanceof ArrayMap a) {
            return a.valuesAddress();
        }
        throw new IllegalStateException("map " + def.name() + ": a hash of maps has no handle array");
    }

    /** {@return the hash table holding the handles (HASH_OF_MAPS)} */
    public BpfMap slotTable() {
        return slots;
    }

    /** {@return the inner map under {@code key} (user-space bytes), or null when the slot is empty} */
    public BpfMap innerAt(byte[] key) {
        BpfMaps.checkUserKey(def, key);
        return inner.get(HexFormat.of().formatHex(key));
    }

    /** {@return the handle of the inner map under the key, or 0 when there is none: bpf_map_lookup_elem} */
    @Override
    public long lookup(MemorySegment key, int cpu) {
        long at = slots.lookup(key, 0);
        return at == 0 ? 0 : MemorySegment.ofAddress(at).reinterpret(8).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
    }

    /** {@return -EINVAL: programs cannot write a map-in-map (the verifier refuses the call)} */
    @Override
    public int update(MemorySegment key, MemorySegment value, long flags, int cpu) {
        return FdArrays.refusedUpdate(def, key);
    }

    /** Empties a slot (fd_array_map_delete_elem: -E2BIG past the end, -ENOENT when empty), or deletes a hash key. */
    @Override
    public int delete(MemorySegment key) {
        BpfMaps.checkKey(def, key);
        byte[] k = key.asSlice(0, def.keySize()).toArray(ValueLayout.JAVA_BYTE);
        String name = HexFormat.of().formatHex(k);
        if (def.type() == MapType.ARRAY_OF_MAPS) {
            int rc = FdArrays.delete(def, key, i -> inner.remove(name) != null);
            return rc != 0 ? rc : slots.updateUser(k, new byte[8], BpfMaps.BPF_ANY);
        }
        inner.remove(name);
        return slots.delete(key);
    }

    /** {@return the inner map's index in the object's map list (u32), or null when the slot is empty} */
    @Override
    public byte[] lookupUser(byte[] key) {
        BpfMap m = innerAt(key);
        Integer index = m == null ? null : indexOf.get(m);
        return index == null ? null : FdArrays.u32(index);
    }

    /** Puts the map with index {@code value} (u32) of the object's map list under {@code key}. */
    @Override
    public int updateUser(byte[] key, byte[] value, long flags) {
        BpfMaps.checkUserKey(def, key);
        BpfMaps.checkUserValue(def, value, 4);
        if (BpfMaps.above(flags, BpfMaps.BPF_EXIST)) {
            return -MapErrno.EINVAL;
        }
        if (def.type() == MapType.ARRAY_OF_MAPS && flags == BpfMaps.BPF_NOEXIST) {
            return -MapErrno.EEXIST; // every array slot exists (bpf_fd_array_map_update_elem)
        }
        String name = HexFormat.of().formatHex(key);
        if (def.type() == MapType.HASH_OF_MAPS) {
            boolean present = inner.containsKey(name);
            if (flags == BpfMaps.BPF_NOEXIST && present) {
                return -MapErrno.EEXIST;
            }
            if (flags == BpfMaps.BPF_EXIST && !present) {
                return -MapErrno.ENOENT;
            }
        }
        return set(key, MemorySegment.ofArray(value).get(ValueLayout.JAVA_INT_UNALIGNED, 0));
    }

    private int set(byte[] key, int index) {
        if (maps == null) {
            throw new IllegalStateException("map " + def.name() + ": not bound to a runtime's maps yet");
        }
        if (index < 0 || index >= mapCount) {
            return -EBADF;
        }
        BpfMap m = maps.apply(index);
        if (def.inner().mismatch(m.def()) != null) {
            return -MapErrno.EINVAL;
        }
        byte[] handle = new byte[8];
        MemorySegment.ofArray(handle).set(ValueLayout.JAVA_LONG_UNALIGNED, 0, handles.applyAsLong(m));
        int rc = slots.updateUser(key, handle, BpfMaps.BPF_ANY);
        if (rc == 0) {
            inner.put(HexFormat.of().formatHex(key), m);
        }
        return rc;
    }

    /** {@return ARRAY_OF_MAPS: every index; HASH_OF_MAPS: the keys present} */
    @Override
    public List<byte[]> keys() {
        return slots.keys();
    }

    /** {@return no regions: a program holds inner map handles, never pointers into the slots} */
    @Override
    public List<Region> regions() {
        return List.of();
    }

    @Override
    public void close() {
        inner.clear();
        slots.close();
    }

    @Override
    public String toString() {
        return def.toString();
    }
}
