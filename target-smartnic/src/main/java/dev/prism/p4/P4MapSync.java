package dev.prism.p4;

import dev.prism.error.TargetException;
import dev.prism.program.MapDef;
import dev.prism.program.Program;
import dev.prism.runtime.MapSetAccess;
import dev.prism.runtime.maps.BpfMap;
import dev.prism.runtime.maps.BpfMaps;
import dev.prism.target.MapAccess;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The maps of a program running on BMv2, as user space sees them. Prism keeps the contents on
 * the host, in the runtime's own maps (so lookups, updates and errnos are bpf()'s), and mirrors
 * them into the switch: before a batch, changed register bytes ({@code register_write}) and
 * changed tables ({@code table_clear} plus {@code table_add} per entry); after it, every
 * register ({@code register_read}) back into the host maps. Tables are read-only in the data
 * plane, so they never need reading back.
 *
 * <p>LPM tables: key {@code (prefix length of the lookup : range, data : ternary)}, entry
 * {@code plen..max_prefixlen, data &&& mask(plen)} with priority {@code 33 - plen} (BMv2: the
 * lowest number wins), so the longest stored prefix not longer than the lookup's wins, as in
 * Linux's trie.
 */
final class P4MapSync implements MapAccess {
    private static final HexFormat HEX = HexFormat.of();
    private final List<P4Lowering.MapBinding> bindings;
    private final MapSetAccess host;
    private final boolean owner;
    private final byte[][] switchCopy;
    private final boolean[] dirty;
    /** Where the maps' registers and tables live in the switch: {@code PrismIngress.} or a bundle's control instance. */
    private final String scope;

    /**
     * @param host  the host-side maps, in the program's map order
     * @param owner whether {@link #close} frees them
     */
    P4MapSync(List<P4Lowering.MapBinding> bindings, MapSetAccess host, boolean owner) {
        this(bindings, host, owner, "PrismIngress.");
    }

    /** @param scope the prefix of the maps' names in the switch, ending in a dot */
    P4MapSync(List<P4Lowering.MapBinding> bindings, MapSetAccess host, boolean owner, String scope) {
        this.scope = scope;
        this.bindings = bindings;
        this.host = host;
        this.owner = owner;
        this.switchCopy = new byte[bindings.size()][];
        this.dirty = new boolean[bindings.size()];
        for (P4Lowering.MapBinding b : bindings) {
            if (b.binding() == P4Lowering.Binding.REGISTER) {
                switchCopy[b.index()] = new byte[Math.multiplyExact(b.def().maxEntries(), b.def().valueSize())];
            }
            dirty[b.index()] = true;
        }
    }

    /** {@return fresh host-side maps (one CPU, as the interpreter's) for the bindings; closed with their last map} */
    static MapSetAccess hostMaps(List<P4Lowering.MapBinding> bindings, List<Program> programs) {
        Arena arena = Arena.ofAuto(); // freed when the maps are unreachable
        List<BpfMap> maps = new ArrayList<>();
        for (P4Lowering.MapBinding b : bindings) {
            maps.add(BpfMaps.create(b.def(), 1, arena));
        }
        return new MapSetAccess(maps, programs);
    }

    /** Marks a map changed on the host by someone else. */
    void markDirty(String map) {
        dirty[binding(map).index()] = true;
    }

    /** {@return register_write commands for the initial contents of global data} */
    static List<String> initialCommands(List<P4Lowering.MapBinding> bindings) {
        return initialCommands(bindings, "PrismIngress.");
    }

    /** {@return register_write commands for the initial contents of global data, the registers under {@code scope}} */
    static List<String> initialCommands(List<P4Lowering.MapBinding> bindings, String scope) {
        List<String> out = new ArrayList<>();
        for (P4Lowering.MapBinding b : bindings) {
            if (b.binding() == P4Lowering.Binding.REGISTER) {
                byte[] init = b.def().initialData();
                for (int i = 0; i < init.length; i++) {
                    if (init[i] != 0) {
                        out.add("register_write " + scope + b.p4Name() + " " + i + " " + (init[i] & 0xff));
                    }
                }
            }
        }
        return out;
    }

    private P4Lowering.MapBinding binding(String name) {
        for (P4Lowering.MapBinding b : bindings) {
            if (b.def().name().equals(name)) {
                return b;
            }
        }
        throw new TargetException("no map '" + name + "'");
    }

    /** {@return the runtime commands that bring the switch up to the host's contents} */
    String pushCommands() {
        return pushCommands(table -> true);
    }

    /**
     * {@return the runtime commands that bring the switch up to the host's contents}, leaving
     * out the tables {@code present} says the compiled switch lacks: p4c removes a table whose
     * apply it proves unreachable, and the CLI refuses commands naming it ("Invalid table name")
     */
    String pushCommands(java.util.function.Predicate<String> present) {
        StringBuilder sb = new StringBuilder();
        for (P4Lowering.MapBinding b : bindings) {
            MapDef d = b.def();
            if ((b.binding() == P4Lowering.Binding.EXACT_TABLE || b.binding() == P4Lowering.Binding.LPM_TABLE)
                    && !present.test(scope + b.table())) {
                continue;
            }
            switch (b.binding()) {
                case REGISTER -> {
                    byte[] now = hostBytes(b);
                    byte[] was = switchCopy[b.index()];
                    for (int i = 0; i < now.length; i++) {
                        if (now[i] != was[i]) {
                            sb.append("register_write ").append(scope).append(b.p4Name()).append(' ').append(i).append(' ')
                                    .append(now[i] & 0xff).append('\n');
                        }
                    }
                    switchCopy[b.index()] = now;
                }
                case EXACT_TABLE, LPM_TABLE -> {
                    if (!dirty[b.index()]) {
                        continue;
                    }
                    sb.append("table_clear ").append(scope).append(b.table()).append('\n');
                    for (byte[] key : host.keys(d.name())) {
                        byte[] value = host.lookup(d.name(), key);
                        sb.append("table_add ").append(scope).append(b.table()).append(' ').append(scope).append(b.hitAction())
                                .append(' ');
                        if (b.binding() == P4Lowering.Binding.EXACT_TABLE) {
                            sb.append("0x").append(HEX.formatHex(key));
                        } else {
                            int plen = (key[0] & 0xff) | (key[1] & 0xff) << 8 | (key[2] & 0xff) << 16 | (key[3] & 0xff) << 24;
                            byte[] data = java.util.Arrays.copyOfRange(key, 4, key.length);
                            byte[] mask = new byte[data.length];
                            for (int bit = 0; bit < Math.min(plen, 8 * data.length); bit++) {
                                mask[bit / 8] |= (byte) (0x80 >>> (bit % 8));
                            }
                            // a lookup whose prefixlen exceeds max_prefixlen matches nothing (as Linux's trie)
                            sb.append(plen).append("->").append(8 * data.length).append(" 0x").append(HEX.formatHex(data)).append("&&&0x")
                                    .append(HEX.formatHex(mask));
                        }
                        sb.append(" => 0x").append(HEX.formatHex(value));
                        if (b.binding() == P4Lowering.Binding.LPM_TABLE) {
                            int plen = (key[0] & 0xff) | (key[1] & 0xff) << 8 | (key[2] & 0xff) << 16 | (key[3] & 0xff) << 24;
                            sb.append(' ').append(lpmPriority(plen, 8 * (d.keySize() - 4)));
                        }
                        sb.append('\n');
                    }
                    dirty[b.index()] = false;
                }
                case HOST_ONLY -> {
                }
            }
        }
        return sb.toString();
    }

    /** BMv2 picks the matching entry with the lowest priority number: longer prefixes first. */
    static int lpmPriority(int plen, int bits) {
        return 1 + bits - Math.min(plen, bits);
    }

    /** The value bytes of every entry of a register-held map, on the host. */
    private byte[] hostBytes(P4Lowering.MapBinding b) {
        MapDef d = b.def();
        byte[] out = new byte[d.maxEntries() * d.valueSize()];
        for (int i = 0; i < d.maxEntries(); i++) {
            byte[] v = host.lookup(d.name(), key(i));
            System.arraycopy(v, 0, out, i * d.valueSize(), d.valueSize());
        }
        return out;
    }

    private static byte[] key(int i) {
        return new byte[] {(byte) i, (byte) (i >>> 8), (byte) (i >>> 16), (byte) (i >>> 24)};
    }

    /** {@return the prefix of the maps' names in the switch} */
    String scope() {
        return scope;
    }

    /** {@return the register-held maps, for {@link #pull}} */
    List<P4Lowering.MapBinding> registers() {
        return bindings.stream().filter(b -> b.binding() == P4Lowering.Binding.REGISTER).toList();
    }

    /** Takes a register's contents read from the switch into the host map. */
    void pull(P4Lowering.MapBinding b, byte[] bytes) {
        MapDef d = b.def();
        byte[] was = switchCopy[b.index()];
        for (int i = 0; i < d.maxEntries(); i++) {
            int from = i * d.valueSize();
            if (!java.util.Arrays.equals(bytes, from, from + d.valueSize(), was, from, from + d.valueSize())) {
                host.update(d.name(), key(i), java.util.Arrays.copyOfRange(bytes, from, from + d.valueSize()), 0);
            }
        }
        switchCopy[b.index()] = bytes.clone();
    }

    @Override
    public List<MapDef> defs() {
        return host.defs();
    }

    @Override
    public byte[] lookup(String map, byte[] key) {
        return host.lookup(map, key);
    }

    @Override
    public void update(String map, byte[] key, byte[] value, long flags) {
        host.update(map, key, value, flags);
        dirty[binding(map).index()] = true;
    }

    @Override
    public boolean delete(String map, byte[] key) {
        boolean was = host.delete(map, key);
        dirty[binding(map).index()] = true;
        return was;
    }

    @Override
    public List<byte[]> keys(String map) {
        return host.keys(map);
    }

    @Override
    public List<byte[]> drain(String ringbuf) {
        throw TargetException.unsupported("ring buffers on the p4 target");
    }

    @Override
    public void setProgram(String progArray, int index, String program) {
        throw TargetException.unsupported("tail calls on the p4 target");
    }

    void close() {
        if (owner) {
            for (BpfMap m : host.maps()) {
                m.close();
            }
        }
    }
}
