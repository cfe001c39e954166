package dev.prism.conformance;

import dev.prism.asm.Assembler;
import dev.prism.elf.ElfObject;
import dev.prism.isa.Insn;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * One conformance case: a program (assembler text, raw bytes or a C source compiled to an ELF
 * object), its input (memory for {@code raw} programs, a packet for {@code xdp} ones), the maps
 * it uses and their initial contents, and what must happen: a 64-bit result in r0 (u32 for
 * xdp), or an error whose message contains a substring; after a result, optionally the packet
 * and map contents (conformance/README.md, "Extensions").
 *
 * @param file        the {@code .data} file
 * @param id          the file's path relative to its suite root, e.g. "4.1-arithmetic/add.data"
 * @param line        the 1-based line of the program section, used in test names {@code id:line}
 * @param source      the program as written
 * @param type        the program type ({@code -- type}): raw or xdp; for {@code -- elf} cases the
 *                    section decides and this is {@link ProgramType#RAW} as written
 * @param mem         input memory of raw programs (empty when none)
 * @param packet      input packet of xdp programs, or null
 * @param maps        the {@code -- maps} declarations, in declaration (= index = fd table) order
 * @param mapInit     the {@code -- map-init} lines, applied in order before the run
 * @param mapsAfter   the {@code -- maps-after} checks
 * @param packetAfter the expected packet after the run ({@code -- packet-after}), or null
 * @param expected    the expected outcome
 * @param skb         tc cases: mark, priority and cb at the start ({@code -- skb}), or null (all zero)
 * @param skbAfter    tc cases: mark, priority, cb and tc_classid expected after the run
 *                    ({@code -- skb-after}), or null for no check
 */
public record ConformanceCase(Path file, String id, int line, Source source, ProgramType type, byte[] mem,
                              byte[] packet, List<MapDecl> maps, List<MapInit> mapInit, List<MapCheck> mapsAfter,
                              byte[] packetAfter, Expected expected, dev.prism.target.SkbFields skb,
                              dev.prism.target.SkbFields skbAfter) {

    public ConformanceCase {
        Objects.requireNonNull(file);
        Objects.requireNonNull(type);
        mem = mem.clone();
        packet = packet == null ? null : packet.clone();
        packetAfter = packetAfter == null ? null : packetAfter.clone();
        maps = List.copyOf(maps);
        mapInit = List.copyOf(mapInit);
        mapsAfter = List.copyOf(mapsAfter);
    }

    /** A case without skb fields. */
    public ConformanceCase(Path file, String id, int line, Source source, ProgramType type, byte[] mem,
                           byte[] packet, List<MapDecl> maps, List<MapInit> mapInit, List<MapCheck> mapsAfter,
                           byte[] packetAfter, Expected expected) {
        this(file, id, line, source, type, mem, packet, maps, mapInit, mapsAfter, packetAfter, expected, null, null);
    }

    /** A raw case without maps: the original bpf_conformance shape. */
    public ConformanceCase(Path file, String id, int line, Source source, byte[] mem, Expected expected) {
        this(file, id, line, source, ProgramType.RAW, mem, null, List.of(), List.of(), List.of(), null, expected);
    }

    @Override
    public byte[] mem() {
        return mem.clone();
    }

    @Override
    public byte[] packet() {
        return packet == null ? null : packet.clone();
    }

    @Override
    public byte[] packetAfter() {
        return packetAfter == null ? null : packetAfter.clone();
    }

    /** {@return "id:line", the name that points at the exact line to open} */
    public String name() {
        return id + ":" + line;
    }

    /** The program as the file gives it. */
    public sealed interface Source {
        /** {@code -- asm}: assembler text; {@code firstLine} is the line of its first instruction. */
        record Asm(String text, int firstLine) implements Source {
        }

        /** {@code -- raw}: instruction bytes as they lie in memory. */
        record Raw(byte[] bytes) implements Source {
            public Raw {
                bytes = bytes.clone();
            }
        }

        /**
         * {@code -- elf}: a C source next to the {@code .data} file, compiled by the harness
         * ({@link ElfCompiler}); {@code sections} name the programs to load (section or function
         * name), the first being the entry that runs.
         *
         * @param file     the C file as written, relative to the {@code .data} file's directory
         * @param sections the programs to load, entry first
         */
        record Elf(String file, List<String> sections) implements Source {
            public Elf {
                Objects.requireNonNull(file);
                sections = List.copyOf(sections);
                if (sections.isEmpty()) {
                    throw new IllegalArgumentException("an -- elf source names at least one section");
                }
            }
        }
    }

    /**
     * A {@code -- maps} line: {@code NAME TYPE key K value V entries N [flags F]}.
     *
     * @param name       the map's name, as map-init and maps-after use it
     * @param type       the map type
     * @param keySize    key bytes
     * @param valueSize  value bytes
     * @param maxEntries max_entries (for a ring buffer: its size in bytes)
     * @param flags      map_flags
     */
    public record MapDecl(String name, MapType type, int keySize, int valueSize, int maxEntries, int flags, MapDef inner) {
        public MapDecl(String name, MapType type, int keySize, int valueSize, int maxEntries, int flags) {
            this(name, type, keySize, valueSize, maxEntries, flags, null);
        }

        /** {@return the definition Program.maps() carries; a map-in-map's inner template has no slots filled} */
        public MapDef def() {
            return inner == null ? MapDef.of(name, type, keySize, valueSize, maxEntries, flags)
                    : new MapDef(name, type, keySize, valueSize, maxEntries, flags, null, false,
                    new MapDef.Inner(inner, new java.util.TreeMap<>()));
        }
    }

    /**
     * A {@code -- map-init} line {@code NAME KEY_HEX VALUE}: VALUE is hex bytes, or for a
     * prog_array the name of a program of the same object. Which one is decided when the map's
     * type is known (for {@code -- elf} cases only after the object is loaded).
     *
     * @param map   the map's name
     * @param key   the key bytes
     * @param value the value token as written
     * @param line  the line in the {@code .data} file, for messages
     */
    public record MapInit(String map, byte[] key, String value, int line) {
        public MapInit {
            key = key.clone();
        }

        @Override
        public byte[] key() {
            return key.clone();
        }
    }

    /** A {@code -- maps-after} check. */
    public sealed interface MapCheck {
        /** The map the check reads. */
        String map();

        /** {@code NAME KEY_HEX VALUE_HEX}: the key is present with exactly this value. */
        record Value(String map, byte[] key, byte[] value) implements MapCheck {
            public Value {
                key = key.clone();
                value = value.clone();
            }

            @Override
            public byte[] key() {
                return key.clone();
            }

            @Override
            public byte[] value() {
                return value.clone();
            }
        }

        /** {@code NAME KEY_HEX absent}: the key is not in the map. */
        record Absent(String map, byte[] key) implements MapCheck {
            public Absent {
                key = key.clone();
            }

            @Override
            public byte[] key() {
                return key.clone();
            }
        }

        /**
         * {@code ringbuf NAME RECORD_HEX} lines (or one {@code ringbuf NAME none}): draining the
         * ring buffer yields exactly these records, in this order.
         */
        record Ring(String map, List<byte[]> records) implements MapCheck {
            public Ring {
                records = records.stream().map(byte[]::clone).toList();
            }
        }
    }

    /** What the case expects. */
    public sealed interface Expected {
        /** r0 at exit. */
        record Result(long r0) implements Expected {
            @Override
            public String toString() {
                return String.format("0x%x", r0);
            }
        }

        /** An error (malformed program, assembler error, trap) whose message contains {@code substring}. */
        record Error(String substring) implements Expected {
            @Override
            public String toString() {
                return "error containing \"" + substring + "\"";
            }
        }
    }

    /** {@return whether the program comes from a C source ({@code -- elf})} */
    public boolean isElf() {
        return source instanceof Source.Elf;
    }

    /** {@return the maps declared with {@code -- maps}, as definitions, in declaration order} */
    public List<MapDef> mapDefs() {
        return maps.stream().map(MapDecl::def).toList();
    }

    /**
     * {@return the entry program as written}: for {@code -- asm}/{@code -- raw} with the case's
     * type and declared maps and without {@link #fdToIndex} applied (so coverage and selection
     * see the instructions the file holds); for {@code -- elf} the entry program of the compiled
     * object
     *
     * @throws dev.prism.error.AssemblerException or
     *         {@link dev.prism.error.MalformedProgramException} when the source is invalid (some
     *         cases expect exactly that)
     * @throws ElfCompiler.ClangMissing when an {@code -- elf} case cannot be compiled on this host
     * @throws ElfCompiler.CompileFailed when its C source does not compile
     */
    public Program program() {
        return switch (source) {
            case Source.Asm a -> Assembler.assemble(id, type, a.text()).toBuilder().maps(mapDefs()).build();
            case Source.Raw r -> Program.decode(id, type, r.bytes()).toBuilder().maps(mapDefs()).build();
            case Source.Elf e -> programs().getFirst();
        };
    }

    /**
     * {@return the programs as the runner loads them, entry first}: for {@code -- asm}/
     * {@code -- raw} the one program, with {@link #fdToIndex} applied when the case declares
     * maps; for {@code -- elf} the named programs of the compiled object, whose map references
     * the ELF loader already resolved to indices
     */
    public List<Program> programs() {
        return switch (source) {
            case Source.Asm a -> List.of(asLoaded(Assembler.assemble(id, type, a.text()).slots()));
            case Source.Raw r -> List.of(asLoaded(Program.decode(id, type, r.bytes()).slots()));
            case Source.Elf e -> {
                ElfObject object = ElfObject.load(ElfCompiler.compile(file.resolveSibling(e.file())));
                List<Program> out = new ArrayList<>();
                for (String s : e.sections()) {
                    out.add(object.program(s));
                }
                yield out;
            }
        };
    }

    private Program asLoaded(Insn[] slots) {
        Insn[] loaded = maps.isEmpty() ? slots : fdToIndex(slots);
        return Program.builder(id, type, loaded).maps(mapDefs()).build();
    }

    /**
     * The harness's fd table: rewrites {@code lddw map_fd N} (src 1) to {@code lddw map_idx N}
     * (src 5) and {@code lddw map_value_fd N, OFF} (src 2) to {@code lddw map_value_idx N, OFF}
     * (src 6), keeping N and OFF. A file descriptor only means something to a kernel; Prism
     * programs reference maps by index into {@link Program#maps()}. A case's {@code -- maps}
     * declarations are numbered in order, and that number serves as both its index and its
     * "fd", so after the rewrite the interpreter resolves N to the N-th declared map. On the
     * Linux target the same rewrite is exact: the kernel loads the program with
     * {@code fd_array} holding the maps' real fds in declaration order, which is what it does
     * for src 5/6 (BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE). Applied only to cases that
     * declare {@code -- maps}; coverage and selection see the program as written.
     *
     * @return a copy of {@code slots} with the rewrite applied
     */
    public static Insn[] fdToIndex(Insn[] slots) {
        Insn[] out = slots.clone();
        for (int i = 0; i < out.length; i++) {
            if (out[i] instanceof Insn.LoadImm64 l) {
                LoadImm64Kind kind = switch (l.kind()) {
                    case MAP_BY_FD -> LoadImm64Kind.MAP_BY_IDX;
                    case MAP_VALUE_BY_FD -> LoadImm64Kind.MAP_VALUE_BY_IDX;
                    default -> l.kind();
                };
                if (kind != l.kind()) {
                    out[i] = new Insn.LoadImm64(kind, l.dst(), l.imm(), l.nextImm());
                }
            }
        }
        return out;
    }

    /**
     * {@return the entry program's slots as written, or null when it does not assemble, decode
     * or (for {@code -- elf}) compile}
     */
    public Insn[] slotsOrNull() {
        try {
            return program().slots();
        } catch (RuntimeException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return name() + " " + expected + (mem.length > 0 ? " mem=" + HexFormat.of().formatHex(mem) : "")
                + (packet != null ? " packet=" + HexFormat.of().formatHex(packet) : "");
    }
}
