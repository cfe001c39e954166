package dev.prism.gpu;

import dev.prism.runtime.Environment;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.verifier.VerifiedProgram;

/**
 * PTX (id {@code ptx}): {@link PtxC} lowers a verified {@code raw} or {@code xdp} program to a
 * PTX module for sm_90, one thread per input, with the arena, map layouts and helpers of the
 * opencl target ({@link DeviceLayout}, {@link DeviceMaps}); {@link DeviceExecutable} runs
 * batches on the first CUDA device through the driver API ({@link Cuda}, FFM into
 * {@code libcuda.so.1}). It takes what opencl takes ({@link GpuTarget#DEVICE}) and refuses the
 * rest through {@link #check} with the pc.
 *
 * <p>Without a driver or a device, {@link #availability} says which ("libcuda.so.1 not found: no
 * NVIDIA driver", "no CUDA device"), and {@link #compile} still gives the PTX text.
 */
public final class PtxTarget extends GpuTarget {
    /** The target with the host's clock (ServiceLoader constructor). */
    public PtxTarget() {
        this(Environment.host());
    }

    /** The target with an injected environment (the seed of get_prandom_u32). */
    public PtxTarget(Environment env) {
        super(env);
    }

    @Override
    public String id() {
        return "ptx";
    }

    @Override
    public String description() {
        return "PTX for sm_90, one thread per input, run through the CUDA driver (libcuda.so.1)";
    }

    @Override
    public Availability availability() {
        String why = Cuda.unavailable();
        return why == null ? Availability.yes(Cuda.device().name()) : Availability.no(why + "; ptx programs can still be compiled");
    }

    @Override
    public Capabilities capabilities() {
        return GpuTarget.DEVICE;
    }

    @Override
    String lower(java.util.List<VerifiedProgram> verified, DeviceLayout layout) {
        return PtxC.lower(verified, layout);
    }

    @Override
    Gpu gpu() {
        return new CudaGpu();
    }
}
