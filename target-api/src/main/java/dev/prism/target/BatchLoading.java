package dev.prism.target;

import dev.prism.program.Program;
import java.util.List;

/**
 * A target that builds many programs together faster than one by one (p4: one p4c run and one
 * switch for many programs). A runner that knows which programs it will load next (the
 * conformance runner: every case of a suite) says so with {@link #prepare}; the target's
 * {@link Target#load} then serves those programs from the batch. Preparing changes no result:
 * a program the batch cannot take is loaded as without it, and its refusal, if any, comes from
 * {@link Target#load} or the run as always.
 */
public interface BatchLoading {
    /**
     * One load to come.
     *
     * @param programs what {@link Target#load} will get
     * @param memSize  the memory size its runs bring (raw programs), -1 for packets
     */
    record Load(List<Program> programs, int memSize) {
        public Load {
            programs = List.copyOf(programs);
        }
    }

    /** Announces the loads that come next, replacing what an earlier call announced. */
    void prepare(List<Load> loads);
}
