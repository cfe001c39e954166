package dev.prism.conformance.linux;

import dev.prism.error.TargetException;
import dev.prism.isa.AluOp;
import dev.prism.isa.CallKind;
import dev.prism.isa.CpuVersion;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.InsnCodec;
import dev.prism.isa.Reg;
import dev.prism.isa.Width;
import dev.prism.runtime.HelperProto;
import dev.prism.runtime.Helpers;
import dev.prism.sys.LinuxBpf;
import dev.prism.sys.ProgType;
import dev.prism.target.Availability;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the running kernel can do, asked of the kernel itself by probe loads (as bpftool's
 * {@code feature probe} does), once per JVM:
 * <ul>
 * <li>a helper exists for XDP when {@code call N; r0 = 0; exit} is not refused with
 *     "unknown func" / "invalid func" or, on newer kernels, "program of this type cannot use
 *     helper" (a refusal for anything else, e.g. its arguments being
 *     unset, means the verifier found the prototype);</li>
 * <li>callx exists when {@code callx r1} is not refused as an unknown opcode or for using
 *     reserved fields (what Linux 6.x says of 0x8d);</li>
 * <li>cpu v4 exists when a {@code movsx} is not refused the same way.</li>
 * </ul>
 * Only helpers Prism's verifier knows (it refuses calls to any other) are asked about.
 *
 * @param release  the kernel release ({@code /proc/sys/kernel/osrelease})
 * @param probed   whether the probes ran (false when bpf() is unavailable: the other fields
 *                 then say what a current kernel has, and {@code note} says why)
 * @param helpers  the helper ids the kernel has for XDP
 * @param callx    whether it has callx
 * @param version  the highest cpu version it loads
 * @param note     how the answer was obtained
 */
public record KernelProbe(String release, boolean probed, Set<Integer> helpers, boolean callx, CpuVersion version,
                          String note) {
    private static final class Holder {
        static final KernelProbe RESULT = run();
    }

    /** {@return the kernel's answers, probed at the first call in this JVM} */
    public static KernelProbe get() {
        return Holder.RESULT;
    }

    private static KernelProbe run() {
        String release = osRelease();
        Availability a = LinuxBpf.availability();
        Set<Integer> known = new TreeSet<>();
        Helpers.all().forEach(h -> known.add(h.id()));
        if (!a.available()) {
            return new KernelProbe(release, false, known, false, CpuVersion.V4,
                    "not probed (" + a.reason() + "): assuming every helper Prism knows, v4, no callx");
        }
        Set<Integer> helpers = new TreeSet<>();
        for (HelperProto h : Helpers.all()) {
            if (hasHelper(h.id())) {
                helpers.add(h.id());
            }
        }
        boolean callx = refusalMentions(new Insn[] {new Insn.Alu(AluOp.MOV, Width.W64, Reg.R1, new Imm(0)),
                new Insn.CallX(Reg.R1), mov0(), new Insn.Exit()}, "unknown opcode", "reserved fields") == null;
        boolean v4 = refusalMentions(new Insn[] {mov0(), new Insn.MovSx(Width.W64, 8, Reg.R0, Reg.R0), new Insn.Exit()},
                "unknown opcode", "reserved fields") == null;
        return new KernelProbe(release, true, helpers, callx, v4 ? CpuVersion.V4 : CpuVersion.V3,
                "probed: " + helpers.size() + " of " + known.size() + " helpers, callx " + (callx ? "yes" : "no") + ", "
                        + (v4 ? "v4" : "no v4"));
    }

    /**
     * {@return whether the running kernel knows helper {@code id} for XDP or tc programs}, asked by
     * one or two probe loads (not cached; {@link #get()} caches the answers for Prism's helpers)
     *
     * @throws dev.prism.error.TargetException when bpf() is unavailable
     */
    public static boolean hasHelper(int id) {
        Availability a = LinuxBpf.availability();
        if (!a.available()) {
            throw new TargetException("cannot probe the kernel: " + a.reason());
        }
        // an XDP probe first, then a tc one: the skb helpers exist for tc programs only
        Insn[] probe = {new Insn.Call(CallKind.HELPER, id), mov0(), new Insn.Exit()};
        return refusalMentions(ProgType.XDP, probe, "unknown func", "invalid func", "cannot use helper") == null
                || refusalMentions(ProgType.SCHED_CLS, probe, "unknown func", "invalid func", "cannot use helper") == null;
    }

    /**
     * {@return the helpers {@code programs} call that the running kernel lacks (by {@link #get()}'s
     * probes), ascending; empty when the probes did not run}: such programs cannot be loaded
     * into this kernel, whatever Prism's verdict, so a differential test cannot ask it about them
     */
    public static Set<Integer> missingHelpers(java.util.List<dev.prism.program.Program> programs) {
        KernelProbe k = get();
        Set<Integer> missing = new TreeSet<>();
        for (dev.prism.program.Program p : programs) {
            for (int pc = 0; pc < p.length(); pc++) {
                if (p.at(pc) instanceof Insn.Call c && c.kind() == CallKind.HELPER && c.imm() < Helpers.PRISM_BASE
                        && Helpers.proto(c.imm()).isPresent() && k.probed() && !k.helpers().contains(c.imm())) {
                    missing.add(c.imm());
                }
            }
        }
        return missing;
    }

    /** {@return why this kernel cannot run programs calling {@code helpers}: "kernel R lacks bpf_x (id N), ..."} */
    public static String lacking(Set<Integer> helpers) {
        return "kernel " + get().release() + " lacks " + String.join(", ", helpers.stream()
                .map(id -> "bpf_" + Helpers.proto(id).map(HelperProto::name).orElse("?") + " (helper " + id + ")").toList());
    }

    private static Insn mov0() {
        return new Insn.Alu(AluOp.MOV, Width.W64, Reg.R0, new Imm(0));
    }

    /**
     * Loads a probe as XDP. {@return null when the kernel accepts it or refuses it for another
     * reason, else the refusal that mentions one of {@code words}}
     */
    private static String refusalMentions(Insn[] probe, String... words) {
        return refusalMentions(ProgType.XDP, probe, words);
    }

    /** {@link #refusalMentions(Insn[], String...)} for a probe of program type {@code type}. */
    private static String refusalMentions(ProgType type, Insn[] probe, String... words) {
        try {
            LinuxBpf.close(LinuxBpf.progLoad(type, InsnCodec.encode(probe), "prism_probe"));
            return null;
        } catch (TargetException e) {
            String m = e.getMessage();
            for (String w : words) {
                if (m.contains(w)) {
                    return m;
                }
            }
            return null;
        }
    }

    private static String osRelease() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        } catch (IOException | RuntimeException e) {
            return System.getProperty("os.version", "unknown");
        }
    }
}
