package dev.prism.elf;

import static dev.prism.elf.ElfFile.fits;
import static dev.prism.elf.ElfFile.u32;

import dev.prism.error.ElfException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The maps of an object, in the order every program of the object indexes them: BTF-defined
 * ({@code .maps}) and legacy ({@code maps}) maps in symbol-table order, then one single-entry
 * array per non-empty global-data section in section order (libbpf's ".data"/".rodata"/".bss"
 * internal maps). The order is fixed per object, so a prog_array index or a map index means the
 * same thing in each of its programs.
 */
final class MapTable {
    static final String BTF_MAPS = ".maps";
    static final String LEGACY_MAPS = "maps";

    /**
     * Largest global-data section accepted. Linux refuses array values above KMALLOC_MAX_SIZE
     * (4 MiB on x86-64 and arm64: array_map_alloc_check), so a larger .bss could not load there
     * either; the bound also keeps a hostile NOBITS size from turning into an allocation.
     */
    static final long MAX_GLOBAL_DATA = 4L << 20;

    /** struct bpf_map_def: u32 type, key_size, value_size, max_entries, map_flags. */
    private static final int LEGACY_DEF_SIZE = 20;

    private final List<MapDef> defs = new ArrayList<>();
    /** map index by (section index, offset) of its definition, for .maps and maps */
    private final Map<Location, Integer> byDefinition = new HashMap<>();
    /** map index by section index, for global data; -1 where a section is not global data */
    private final int[] dataMaps;
    /** the variables of the BTF DATASEC ".maps" by name, read when the first BTF map is */
    private Map<String, Btf.Member> mapVars;
    /** prog_array slots initialized in the object ({@code .values = { [i] = &prog }}) */
    private final List<ElfObject.ProgramSlot> slots = new ArrayList<>();

    private MapTable(int sectionCount) {
        dataMaps = new int[sectionCount];
        Arrays.fill(dataMaps, -1);
    }

    /** {@return the maps of {@code elf}} @throws ElfException for malformed or unsupported definitions */
    static MapTable build(ElfFile elf, Btf btf) {
        MapTable table = new MapTable(elf.sections().size());
        for (ElfFile.Symbol sym : elf.symbols()) {
            if (!sym.inSection() || sym.type() == ElfFile.STT_SECTION || sym.type() == ElfFile.STT_FILE) {
                continue;
            }
            ElfFile.Section s = elf.section(sym.shndx());
            boolean btfMaps = s.name().equals(BTF_MAPS);
            if (!btfMaps && !s.name().equals(LEGACY_MAPS)) {
                continue;
            }
            Location key = new Location(s.index(), sym.value());
            if (table.byDefinition.containsKey(key)) {
                continue; // an alias of a map already defined at this offset
            }
            MapDef def = btfMaps ? table.btfMap(elf, btf, s, sym) : legacyMap(elf, s, sym);
            table.byDefinition.put(key, table.defs.size());
            table.defs.add(def);
        }
        table.checkInnerMaps(elf);
        for (ElfFile.Section s : elf.sections()) {
            if (!isGlobalData(s) || s.size() == 0) {
                continue;
            }
            if (s.size() > MAX_GLOBAL_DATA) {
                throw ElfFile.error(s.where(), String.format("global data section is 0x%x bytes, more than the 0x%x "
                        + "an array map value may hold", s.size(), MAX_GLOBAL_DATA));
            }
            boolean readOnly = s.name().equals(".rodata") || s.name().startsWith(".rodata.");
            table.dataMaps[s.index()] = table.defs.size();
            table.defs.add(new MapDef(s.name(), MapType.ARRAY, 4, (int) s.size(), 1, 0, elf.contents(s), readOnly));
        }
        return table;
    }

    /** Every map a map-in-map initializer names is a map of the object that fits the template. */
    private void checkInnerMaps(ElfFile elf) {
        ElfFile.Section maps = null;
        for (ElfFile.Section s : elf.sections()) {
            if (s.name().equals(BTF_MAPS)) {
                maps = s;
            }
        }
        for (MapDef outer : defs) {
            if (outer.inner() == null) {
                continue;
            }
            for (var slot : outer.inner().slots().entrySet()) {
                MapDef inner = defs.stream().filter(d -> d.name().equals(slot.getValue())).findFirst().orElse(null);
                String where = maps == null ? "section .maps" : maps.where();
                if (inner == null) {
                    throw ElfFile.error(where, "map '" + outer.name() + "': slot " + slot.getKey() + " names '"
                            + slot.getValue() + "', which is not a map of this object");
                }
                String why = outer.inner().mismatch(inner);
                if (why != null) {
                    throw ElfFile.error(where, "map '" + outer.name() + "': slot " + slot.getKey() + ": " + why);
                }
            }
        }
    }

    /** {@return whether a section holds global variables that become an array map} */
    static boolean isGlobalData(ElfFile.Section s) {
        if (s.executable() || (s.type() != ElfFile.SHT_PROGBITS && s.type() != ElfFile.SHT_NOBITS)) {
            return false;
        }
        String n = s.name();
        for (String prefix : List.of(".data", ".rodata", ".bss")) {
            if (n.equals(prefix) || n.startsWith(prefix + ".")) {
                return true;
            }
        }
        return false;
    }

    /** {@return whether a section holds map definitions} */
    static boolean isMapSection(ElfFile.Section s) {
        return s.name().equals(BTF_MAPS) || s.name().equals(LEGACY_MAPS);
    }

    List<MapDef> defs() {
        return List.copyOf(defs);
    }

    /** {@return the index of the map defined at {@code offset} of map section {@code section}, or -1} */
    int mapAt(int section, long offset) {
        return byDefinition.getOrDefault(new Location(section, offset), -1);
    }

    /** {@return the index of the global-data map of {@code section}, or -1} */
    int dataMap(int section) {
        return dataMaps[section];
    }

    private record Location(int section, long offset) {
    }

    // ---------------------------------------------------------------------------------------

    private static MapDef legacyMap(ElfFile elf, ElfFile.Section s, ElfFile.Symbol sym) {
        String where = s.where(sym.value());
        if (s.nobits() || !fits(sym.value(), LEGACY_DEF_SIZE, s.size())) {
            throw ElfFile.error(where, String.format("map '%s': struct bpf_map_def at 0x%x (20 bytes) is outside "
                    + "section %s (0x%x bytes%s)", sym.name(), sym.value(), s.name(), s.size(),
                    s.nobits() ? ", NOBITS" : ""));
        }
        byte[] d = elf.contents(s);
        int at = (int) sym.value();
        return define(where, sym.name(), u32(d, at), u32(d, at + 4), u32(d, at + 8), u32(d, at + 12),
                u32(d, at + 16));
    }

    /** {@return the prog_array slots the object initializes, in relocation order} */
    List<ElfObject.ProgramSlot> slots() {
        return List.copyOf(slots);
    }

    private MapDef btfMap(ElfFile elf, Btf btf, ElfFile.Section s, ElfFile.Symbol sym) {
        String where = s.where(Math.max(0, Math.min(sym.value(), s.size())));
        String name = sym.name();
        if (btf == null) {
            throw ElfFile.error(where, "map '" + name + "': BTF-defined maps need a .BTF section, and there is none");
        }
        // clang leaves each DATASEC entry's offset 0 and relocates it (R_BPF_64_NODYLD32 in
        // .rel.BTF) against the variable's symbol, so the variable is found by name, as libbpf
        // does after btf_fixup_datasec.
        if (mapVars == null) {
            int datasec = btf.datasec(BTF_MAPS);
            if (datasec == 0) {
                throw ElfFile.error(where, "map '" + name + "': .BTF has no DATASEC '.maps'");
            }
            mapVars = new HashMap<>();
            for (Btf.Member m : btf.members(datasec)) {
                if (m.type() > 0 && m.type() <= btf.count() && btf.kind(m.type()) == Btf.VAR) {
                    mapVars.putIfAbsent(btf.name(m.type()), m);
                }
            }
        }
        Btf.Member entry = mapVars.get(name);
        if (entry == null) {
            throw ElfFile.error(where, "map '" + name + "': no variable of that name in the BTF DATASEC '.maps'");
        }
        if (btf.kind(entry.type()) != Btf.VAR) {
            throw ElfFile.error(where, "map '" + name + "': DATASEC entry is " + btf.describe(entry.type())
                    + ", not a variable");
        }
        int def = btf.skipModifiers(btf.referenced(entry.type()));
        if (def == 0 || btf.kind(def) != Btf.STRUCT) {
            throw ElfFile.error(where, "map '" + name + "': definition is " + btf.describe(def) + ", not a struct");
        }
        Fields f = fields(btf, where, name, def, true);
        MapDef made;
        if (f.values != null && f.type == MapType.ARRAY_OF_MAPS.code() || f.values != null && f.type == MapType.HASH_OF_MAPS.code()) {
            MapDef template = innerTemplate(btf, where, name, f.values);
            MapDef outer = define(where, name, MapType.ARRAY.code(), Math.max(f.keySize, 0), 4, f.maxEntries, f.flags);
            java.util.SortedMap<Integer, String> init = new java.util.TreeMap<>();
            for (ElfObject.ProgramSlot slot : initializers(elf, s, sym, f.values, outer)) {
                init.put(slot.index(), slot.program());
            }
            made = MapDef.ofMaps(name, MapType.ofCode((int) f.type), outer.keySize(), outer.maxEntries(), outer.flags(),
                    new MapDef.Inner(template, init));
        } else {
            made = define(where, name, f.type, Math.max(f.keySize, 0), Math.max(f.valueSize, 0), f.maxEntries, f.flags);
        }
        if (f.values != null && made.type() == MapType.PROG_ARRAY) {
            slots.addAll(initializers(elf, s, sym, f.values, made));
        } else if (f.values != null && !made.type().ofMaps()) {
            throw ElfFile.error(where, "map '" + name + "': not supported: initial values (.values) for a map of type "
                    + made.type().id());
        }
        return made;
    }

    /** The fields of a BTF map definition struct. */
    private record Fields(long type, long keySize, long valueSize, long maxEntries, long flags, Btf.Member values) {
    }

    /** {@return the fields of struct {@code def}}; {@code values} is allowed only in an outer definition */
    private static Fields fields(Btf btf, String where, String name, int def, boolean outer) {
        long type = -1;
        long keySize = -1;
        long valueSize = -1;
        long maxEntries = 0;
        long flags = 0;
        Btf.Member values = null;
        for (Btf.Member m : btf.members(def)) {
            switch (m.name()) {
                case "type" -> type = intField(btf, where, name, m);
                case "max_entries" -> maxEntries = intField(btf, where, name, m);
                case "map_flags" -> flags = intField(btf, where, name, m);
                case "key_size" -> keySize = agree(where, name, "key", keySize, intField(btf, where, name, m));
                case "value_size" -> valueSize = agree(where, name, "value", valueSize, intField(btf, where, name, m));
                case "key" -> keySize = agree(where, name, "key", keySize, pointeeSize(btf, where, name, m));
                case "value" -> valueSize = agree(where, name, "value", valueSize, pointeeSize(btf, where, name, m));
                // pinning (a bpffs path policy), numa_node and map_extra do not change what a
                // program computes; they are checked for form and otherwise ignored.
                case "pinning", "numa_node", "map_extra" -> intField(btf, where, name, m);
                // values: the initial slots of a prog_array or a map-in-map, an array of pointers
                // filled by .rel.maps relocations against program or map symbols; the value
                // itself is a 4-byte fd, as libbpf sets it (parse_btf_map_def).
                case "values" -> {
                    if (!outer) {
                        throw ElfFile.error(where, "map '" + name + "': not supported: a map-in-map inside a map-in-map");
                    }
                    values = m;
                    valueSize = agree(where, name, "value", valueSize, 4);
                }
                default -> throw ElfFile.error(where, "map '" + name + "': unknown field '" + m.name() + "'");
            }
        }
        if (type < 0) {
            throw ElfFile.error(where, "map '" + name + "': no 'type' field");
        }
        return new Fields(type, keySize, valueSize, maxEntries, flags, values);
    }

    /**
     * {@return the inner map template of {@code __array(values, struct inner_def)}}: the member is
     * an array (of 0 elements, or as many as the initializer names) of pointers to the inner
     * definition struct, which has the fields of an ordinary map definition.
     */
    private static MapDef innerTemplate(Btf btf, String where, String name, Btf.Member values) {
        int array = skipModifiers(btf, where, name, values);
        if (array == 0 || btf.kind(array) != Btf.ARRAY) {
            throw ElfFile.error(where, "map '" + name + "': field 'values' is " + btf.describe(array)
                    + ", not an array of pointers (__array)");
        }
        int ptr;
        int inner;
        try {
            ptr = btf.skipModifiers(btf.arrayElement(array));
            inner = ptr == 0 || btf.kind(ptr) != Btf.PTR ? 0 : btf.skipModifiers(btf.referenced(ptr));
        } catch (ElfException e) {
            throw ElfFile.error(where, "map '" + name + "': field 'values': " + e.getMessage());
        }
        if (inner == 0 || btf.kind(inner) != Btf.STRUCT) {
            throw ElfFile.error(where, "map '" + name + "': the elements of 'values' are " + btf.describe(ptr == 0 ? array : ptr)
                    + ", not pointers to an inner map definition struct");
        }
        String innerName = name + ".inner";
        Fields f = fields(btf, where, innerName, inner, false);
        MapDef t = define(where, innerName, f.type, Math.max(f.keySize, 0), Math.max(f.valueSize, 0), f.maxEntries, f.flags);
        if (t.type().ofMaps() || t.type() == MapType.PROG_ARRAY) {
            throw ElfFile.error(where, "map '" + name + "': not supported: inner maps of type " + t.type().id());
        }
        return t;
    }

    /**
     * Reads {@code .values = { [i] = &prog }} (or {@code &inner_map}): each relocation inside the
     * values array (8-byte pointers, starting at the member's byte offset) names the program or
     * map for slot i.
     */
    private static List<ElfObject.ProgramSlot> initializers(ElfFile elf, ElfFile.Section s, ElfFile.Symbol sym,
                                                           Btf.Member values, MapDef map) {
        List<ElfObject.ProgramSlot> slots = new ArrayList<>();
        long start = sym.value() + values.offset() / 8;
        long end = sym.value() + sym.size();
        for (ElfFile.Reloc r : elf.relocations(s.index())) {
            if (r.offset() < start || r.offset() >= end) {
                continue;
            }
            long slot = (r.offset() - start) / 8;
            if ((r.offset() - start) % 8 != 0 || slot >= map.maxEntries()) {
                throw ElfFile.error(s.where(r.offset()), "map '" + map.name() + "': initializer relocation at 0x"
                        + Long.toHexString(r.offset()) + " is not a slot of 0.." + (map.maxEntries() - 1));
            }
            if (r.symbol() <= 0 || r.symbol() >= elf.symbols().size()) {
                throw ElfFile.error(s.where(r.offset()), "map '" + map.name() + "': initializer relocation names symbol "
                        + r.symbol() + ", outside the symbol table");
            }
            ElfFile.Symbol target = elf.symbols().get(r.symbol());
            slots.add(new ElfObject.ProgramSlot(map.name(), (int) slot, target.name()));
        }
        return slots;
    }

    private static long agree(String where, String map, String what, long previous, long now) {
        if (previous >= 0 && previous != now) {
            throw ElfFile.error(where, "map '" + map + "': conflicting " + what + " sizes " + previous + " and " + now);
        }
        return now;
    }

    /** {@code __uint(name, N)} is {@code int (*name)[N]}: a pointer to an array of N elements. */
    private static long intField(Btf btf, String where, String map, Btf.Member m) {
        int ptr = skipModifiers(btf, where, map, m);
        if (ptr == 0 || btf.kind(ptr) != Btf.PTR) {
            throw ElfFile.error(where, "map '" + map + "': field '" + m.name() + "' is " + btf.describe(ptr)
                    + ", not a pointer to an array (__uint)");
        }
        int array = btf.referenced(ptr);
        if (array == 0 || btf.kind(array) != Btf.ARRAY) {
            throw ElfFile.error(where, "map '" + map + "': field '" + m.name() + "' points to "
                    + btf.describe(array) + ", not an array (__uint)");
        }
        return btf.arrayLength(array);
    }

    private static int skipModifiers(Btf btf, String where, String map, Btf.Member m) {
        try {
            return btf.skipModifiers(m.type());
        } catch (ElfException e) {
            throw ElfFile.error(where, "map '" + map + "': field '" + m.name() + "': " + e.getMessage());
        }
    }

    /** {@code __type(name, T)} is {@code T *name}: the field's size is that of T. */
    private static long pointeeSize(Btf btf, String where, String map, Btf.Member m) {
        int ptr = skipModifiers(btf, where, map, m);
        if (ptr == 0 || btf.kind(ptr) != Btf.PTR) {
            throw ElfFile.error(where, "map '" + map + "': field '" + m.name() + "' is " + btf.describe(ptr)
                    + ", not a pointer (__type)");
        }
        try {
            return btf.size(btf.referenced(ptr));
        } catch (ElfException e) {
            throw ElfFile.error(where, "map '" + map + "': " + m.name() + " type: " + e.getMessage());
        }
    }

    private static MapDef define(String where, String name, long type, long keySize, long valueSize, long maxEntries,
                                 long flags) {
        MapType t = type > Integer.MAX_VALUE ? null : MapType.ofCode((int) type);
        if (t == null) {
            throw ElfFile.error(where, "map '" + name + "': unsupported map type " + type + " (supported: "
                    + Arrays.stream(MapType.values()).map(MapType::id).collect(Collectors.joining(", ")) + ")");
        }
        if (t.ofMaps()) {
            // the BTF path builds map-in-maps itself; anywhere else the template is missing
            throw ElfFile.error(where, "map '" + name + "': " + t.id()
                    + " needs its inner map as __array(values, struct inner_def) in a BTF-defined map");
        }
        if (keySize > Integer.MAX_VALUE || valueSize > Integer.MAX_VALUE) {
            throw ElfFile.error(where, "map '" + name + "': key size " + keySize + " or value size " + valueSize
                    + " is too large");
        }
        if (maxEntries <= 0 || maxEntries > Integer.MAX_VALUE) {
            throw ElfFile.error(where, "map '" + name + "': max_entries " + maxEntries + " is out of range (1.."
                    + Integer.MAX_VALUE + ")");
        }
        try {
            return MapDef.of(name, t, (int) keySize, (int) valueSize, (int) maxEntries, (int) flags);
        } catch (IllegalArgumentException e) {
            // e.g. a map-in-map type in a legacy definition, which has no place for an inner template
            throw ElfFile.error(where, "map '" + name + "': " + e.getMessage());
        }
    }
}
