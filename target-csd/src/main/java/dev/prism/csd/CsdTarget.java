package dev.prism.csd;

import dev.prism.error.TargetException;
import dev.prism.error.VerificationException;
import dev.prism.isa.AtomicOp;
import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.program.CsdContext;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Helpers;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code csd} targets: a program as computational-storage firmware (package docs). One
 * target per arch, so the conformance matrix and the planner name each build:
 * <ul>
 * <li>{@code csd}: the x86-64 (host) build, loaded in-process through FFM; maps and the Java
 *     helpers through an upcall;</li>
 * <li>{@code csd-aarch64}, {@code csd-riscv64}: the cross builds, run by a qemu-user harness;
 *     ARRAY maps (in the harness, synchronized with user space's copy), helpers map
 *     lookup/update/delete, ktime_get_ns, get_prandom_u32, get_smp_processor_id and
 *     prism_csd_read.</li>
 * </ul>
 * Programs: {@code raw} (the conformance cases: the run's memory is the one chunk, r1 its
 * address, r2 its length) and {@code csd}. {@link Executable#run} of a csd program treats the
 * input memory as a single chunk at namespace offset 0 (the namespace is that memory), offers an
 * output buffer of the same length (at most {@link CsdContext#MAX_REGION}, zeroed), parameters
 * 0; the result's memAfter is that output buffer and r0 all 64 bits.
 */
public sealed class CsdTarget implements Target permits CsdTarget.Aarch64, CsdTarget.Riscv64 {
    private final FirmwareArch arch;

    /** The host build ({@code csd}), for ServiceLoader. */
    public CsdTarget() {
        this(FirmwareArch.X86_64);
    }

    public CsdTarget(FirmwareArch arch) {
        this.arch = arch;
    }

    /** {@code csd-aarch64} for ServiceLoader, which needs a class with a no-argument constructor. */
    public static final class Aarch64 extends CsdTarget {
        public Aarch64() {
            super(FirmwareArch.AARCH64);
        }
    }

    /** {@code csd-riscv64} for ServiceLoader. */
    public static final class Riscv64 extends CsdTarget {
        public Riscv64() {
            super(FirmwareArch.RISCV64);
        }
    }

    /** {@return the arch this target builds for} */
    public FirmwareArch arch() {
        return arch;
    }

    @Override
    public String id() {
        return arch.host() ? "csd" : "csd-" + arch.id();
    }

    @Override
    public String description() {
        return "computational-storage firmware: freestanding C built by " + arch.gcc()
                + (arch.host() ? ", loaded in-process (x86-64)" : ", run under " + arch.qemu());
    }

    @Override
    public Availability availability() {
        String why = arch.unavailable();
        return why == null ? Availability.yes(arch.gcc() + (arch.host() ? "" : " + " + arch.qemu())) : Availability.no(why);
    }

    @Override
    public Capabilities capabilities() {
        Capabilities.Builder b = Capabilities.builder()
                .programTypes(ProgramType.RAW, ProgramType.CSD)
                .groups(Group.BASE32, Group.BASE64, Group.ATOMIC32, Group.ATOMIC64, Group.DIVMUL32, Group.DIVMUL64)
                .maxVersion(CpuVersion.V4)
                // kfuncs, callbacks (lddw code: bpf_loop, for_each), fd and variable references
                .lacking(o -> o.mnemonic().startsWith("call btf") || o.mnemonic().startsWith("lddw dst, map_fd")
                        || o.mnemonic().startsWith("lddw dst, map_value_fd") || o.mnemonic().startsWith("lddw dst, var")
                        || o.mnemonic().startsWith("lddw dst, code"))
                .atomics(AtomicOp.values())
                .calls(new Capabilities.Calls(true, false, false));
        if (arch.host()) {
            b.helpers(Helpers.MAP_LOOKUP_ELEM, Helpers.MAP_UPDATE_ELEM, Helpers.MAP_DELETE_ELEM, Helpers.KTIME_GET_NS,
                            Helpers.KTIME_GET_BOOT_NS, Helpers.JIFFIES64, Helpers.GET_PRANDOM_U32, Helpers.GET_SMP_PROCESSOR_ID,
                            Helpers.CSUM_DIFF, Helpers.CSD_READ)
                    .maps(Capabilities.MapRule.of(MapType.ARRAY), Capabilities.MapRule.of(MapType.PERCPU_ARRAY),
                            Capabilities.MapRule.of(MapType.HASH), Capabilities.MapRule.of(MapType.PERCPU_HASH),
                            Capabilities.MapRule.of(MapType.LRU_HASH), Capabilities.MapRule.of(MapType.LPM_TRIE));
        } else {
            b.helpers(Helpers.MAP_LOOKUP_ELEM, Helpers.MAP_UPDATE_ELEM, Helpers.MAP_DELETE_ELEM, Helpers.KTIME_GET_NS,
                            Helpers.GET_PRANDOM_U32, Helpers.GET_SMP_PROCESSOR_ID, Helpers.CSD_READ)
                    .maps(Capabilities.MapRule.of(MapType.ARRAY));
        }
        return b.build();
    }

    @Override
    public Artifact compile(VerifiedProgram verified) {
        requireSupported(verified);
        String source = FirmwareC.lower(verified);
        FirmwareBuild build = FirmwareBuild.of(source, arch);
        return new CsdArtifact(verified, build);
    }

    /** What {@link #compile} makes: the firmware C and its build for the target's arch. */
    public final class CsdArtifact implements Artifact {
        private final VerifiedProgram verified;
        private final FirmwareBuild build;

        CsdArtifact(VerifiedProgram verified, FirmwareBuild build) {
            this.verified = verified;
            this.build = build;
        }

        /** {@return the build: source, code image, entry, and for x86-64 the shared object} */
        public FirmwareBuild build() {
            return build;
        }

        @Override
        public String listing() {
            return build.source();
        }

        /** {@return the code image (what a firmware image carries for this arch)} */
        @Override
        public byte[] bytes() {
            return build.image();
        }

        @Override
        public Executable load() {
            requireAvailable();
            return new FirmwareExecutable(Firmware.load(verified, build), verified.program().type());
        }
    }

    private void requireAvailable() {
        Availability a = availability();
        if (!a.available()) {
            throw new TargetException(id() + " is unavailable: " + a.reason());
        }
    }

    /**
     * Loads one program. A raw program is verified for the size of the memory each run brings
     * and built once per resulting C source (the same for every size, in practice), all builds
     * sharing one set of maps.
     */
    @Override
    public Executable load(List<Program> programs) {
        if (programs.size() != 1) {
            throw TargetException.unsupported("tail calls on " + id() + " (it loads one program at a time)");
        }
        requireAvailable();
        Program p = programs.get(0);
        if (p.type() != ProgramType.RAW) {
            return compile(verify(p, -1)).load();
        }
        return new BySize(p);
    }

    private VerifiedProgram verify(Program p, int memSize) {
        VerifiedProgram v;
        try {
            v = Verifier.verify(p, Profile.RFC9669, memSize, null);
        } catch (VerificationException e) {
            throw new TargetException("rejected by the verifier: " + e.getMessage(), e);
        }
        requireSupported(v);
        return v;
    }

    /** One loaded firmware as an {@link Executable}. */
    private static final class FirmwareExecutable implements Executable {

    /** The work runs on a device or in another process, which the thread's CPU time does not see. */
    @Override
    public boolean runsOnCallingThread() {
        return false;
    }
        private final FirmwareKernel kernel;
        private final boolean csd;

        FirmwareExecutable(FirmwareKernel kernel, ProgramType type) {
            this.kernel = kernel;
            this.csd = type == ProgramType.CSD;
        }

        @Override
        public RunResult run(RunInput input) {
            if (input.packet() != null) {
                throw new TargetException("a csd target takes memory, not a packet");
            }
            return csd ? runChunkOf(kernel, input.mem()) : kernel.runRaw(input.mem());
        }

        @Override
        public MapAccess maps() {
            return kernel.maps();
        }

        @Override
        public void close() {
            kernel.close();
        }
    }

    /** A csd program's single-chunk run of {@code mem}: the output buffer comes back as memAfter. */
    static RunResult runChunkOf(ChunkKernel kernel, byte[] mem) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ns = arena.allocate(Math.max(1, mem.length), 8).asSlice(0, mem.length);
            MemorySegment.copy(mem, 0, ns, ValueLayout.JAVA_BYTE, 0, mem.length);
            int outLen = Math.min(mem.length, CsdContext.MAX_REGION);
            MemorySegment out = arena.allocate(Math.max(1, outLen), 8).asSlice(0, outLen);
            long r0 = kernel.run(ns, 0, Math.min(mem.length, CsdContext.MAX_REGION), out, 0, 0);
            return new RunResult(r0, out.toArray(ValueLayout.JAVA_BYTE));
        } catch (IllegalArgumentException e) {
            throw new TargetException(e.getMessage(), e);
        }
    }

    /** A raw program built per memory size on first use, sharing one set of maps. */
    private final class BySize implements Executable {

    /** The work runs on a device or in another process, which the thread's CPU time does not see. */
    @Override
    public boolean runsOnCallingThread() {
        return false;
    }
        private final Program program;
        private final HostMaps maps;
        private final CrossMaps crossMaps;
        private final Map<String, FirmwareKernel> bySource = new HashMap<>();
        private final Map<Integer, FirmwareKernel> bySize = new HashMap<>();

        BySize(Program program) {
            this.program = program;
            this.maps = arch.host() ? new HostMaps(program) : null;
            this.crossMaps = arch.host() ? null : new CrossMaps(program);
        }

        private FirmwareKernel at(int size) {
            FirmwareKernel k = bySize.get(size);
            if (k == null) {
                VerifiedProgram v = verify(program, size);
                String source = FirmwareC.lower(v);
                k = bySource.get(source);
                if (k == null) {
                    k = arch.host() ? new HostFirmwareKernel(v.normalized(), FirmwareBuild.sharedObject(source), maps)
                            : new QemuFirmwareKernel(v.normalized(), FirmwareBuild.of(source, arch), crossMaps);
                    bySource.put(source, k);
                }
                bySize.put(size, k);
            }
            return k;
        }

        @Override
        public synchronized RunResult run(RunInput input) {
            if (input.packet() != null) {
                throw new TargetException("a raw program takes memory, not a packet");
            }
            byte[] mem = input.mem();
            return at(mem.length).runRaw(mem);
        }

        @Override
        public MapAccess maps() {
            return maps != null ? maps.access() : crossMaps.access();
        }

        @Override
        public synchronized void close() {
            bySource.values().forEach(FirmwareKernel::close);
            bySource.clear();
            bySize.clear();
            if (maps != null) {
                maps.close();
            }
            if (crossMaps != null) {
                crossMaps.close();
            }
        }
    }
}
