package dev.prism.csd.image;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * What a firmware image says about the program it carries (DESIGN.md "target-csd"): the program
 * type, the entry function, the maps the device must create, the helpers and features the code
 * needs, and one code section per architecture with its SHA-256. The signature covers all of it.
 *
 * @param programType the program type id ("csd")
 * @param entry       the entry function's name
 * @param maps        the maps, in the program's map index order
 * @param functions   the BPF functions by start slot (for the {@code bpf} section), entry first
 * @param helpers     the helper ids the program calls
 * @param features    required features (instruction groups, "loops", ...), as the verifier names them
 * @param code        the code sections, in image order
 */
public record Manifest(String programType, String entry, List<MapEntry> maps, List<FunctionEntry> functions,
                       List<Integer> helpers, List<String> features, List<CodeEntry> code) {
    /** The architecture id of the eBPF bytecode section (the vendor-specific program type the device downloads). */
    public static final String ARCH_BPF = "bpf";

    public Manifest {
        Objects.requireNonNull(programType);
        Objects.requireNonNull(entry);
        maps = List.copyOf(maps);
        functions = List.copyOf(functions);
        helpers = List.copyOf(helpers);
        features = List.copyOf(features);
        code = List.copyOf(code);
    }

    /**
     * One map the program uses (a {@link dev.prism.program.MapDef} without map-in-map templates).
     *
     * @param type BPF_MAP_TYPE_* as the kernel numbers it
     */
    public record MapEntry(String name, int type, int keySize, int valueSize, int maxEntries, int flags,
                           boolean readOnly, byte[] initialData) {
        public MapEntry {
            Objects.requireNonNull(name);
            initialData = initialData.clone();
        }

        @Override
        public byte[] initialData() {
            return initialData.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof MapEntry m && m.name.equals(name) && m.type == type && m.keySize == keySize
                    && m.valueSize == valueSize && m.maxEntries == maxEntries && m.flags == flags
                    && m.readOnly == readOnly && Arrays.equals(m.initialData, initialData);
        }

        @Override
        public int hashCode() {
            return Objects.hash(name, type, keySize, valueSize, maxEntries, flags, readOnly, Arrays.hashCode(initialData));
        }
    }

    /** One BPF function: its name and first slot. */
    public record FunctionEntry(String name, int start) {
        public FunctionEntry {
            Objects.requireNonNull(name);
        }
    }

    /**
     * One code section's description.
     *
     * @param arch   "bpf", "x86-64", "aarch64", "riscv64", ...
     * @param sha256 the SHA-256 of the section's bytes (32 bytes)
     * @param length the section's length in bytes
     */
    public record CodeEntry(String arch, byte[] sha256, int length) {
        public CodeEntry {
            Objects.requireNonNull(arch);
            if (sha256.length != 32) {
                throw new IllegalArgumentException("a SHA-256 is 32 bytes, not " + sha256.length);
            }
            sha256 = sha256.clone();
        }

        @Override
        public byte[] sha256() {
            return sha256.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof CodeEntry c && c.arch.equals(arch) && Arrays.equals(c.sha256, sha256) && c.length == length;
        }

        @Override
        public int hashCode() {
            return Objects.hash(arch, Arrays.hashCode(sha256), length);
        }

        @Override
        public String toString() {
            return arch + " (" + length + " bytes, sha256 " + HexFormat.of().formatHex(sha256) + ")";
        }
    }
}
