package dev.prism.gpu;

import dev.prism.runtime.Environment;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.verifier.VerifiedProgram;

/**
 * OpenCL C (id {@code opencl}): {@link OpenClC} lowers a verified {@code raw} or {@code xdp}
 * program to a kernel, one work-item per input; {@link DeviceExecutable} runs batches on the
 * first OpenCL device with 64-bit atomics (PoCL's CPU device here) through {@link OpenCl}.
 *
 * <p>What it takes is {@link GpuTarget#DEVICE}, shared with ptx: map lookup/update/delete on
 * ARRAY, PERCPU_ARRAY, HASH, LRU_HASH and LPM_TRIE (lookups only), ring buffers
 * (output/reserve/submit/discard), ktime (the batch's launch time: OpenCL C has no device
 * clock), get_prandom_u32 (xorshift per work-item, seeded per batch), get_smp_processor_id (the
 * work-group), csum_diff, the three XDP adjust helpers, bpf_loop, tail calls (PROG_ARRAY) and
 * bpf-to-bpf calls. It refuses through {@link #check}, with the pc: tc programs, legacy packet
 * loads, callx, lddw by fd or variable, other helpers and other map types.
 */
public final class OpenClTarget extends GpuTarget {
    /** The target with the host's clock (ServiceLoader constructor). */
    public OpenClTarget() {
        this(Environment.host());
    }

    /** The target with an injected environment (its clock is ktime's launch time). */
    public OpenClTarget(Environment env) {
        super(env);
    }

    @Override
    public String id() {
        return "opencl";
    }

    @Override
    public String description() {
        return "OpenCL C kernel, one work-item per input (PoCL or any OpenCL device with 64-bit atomics)";
    }

    @Override
    public Availability availability() {
        String why = OpenCl.unavailable();
        return why == null ? Availability.yes(OpenCl.device().name()) : Availability.no(why);
    }

    @Override
    public Capabilities capabilities() {
        return GpuTarget.DEVICE;
    }

    @Override
    String lower(java.util.List<VerifiedProgram> verified, DeviceLayout layout) {
        return OpenClC.lower(verified, layout);
    }

    @Override
    Gpu gpu() {
        return new OpenClGpu();
    }
}
