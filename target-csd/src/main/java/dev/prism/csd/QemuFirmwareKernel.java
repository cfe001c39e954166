package dev.prism.csd;

import dev.prism.error.TargetException;
import dev.prism.error.TrapException;
import dev.prism.program.CsdContext;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.MapAccess;
import dev.prism.target.RunResult;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Cross-built (aarch64, riscv64) firmware run by the arch's {@link QemuHarness}: the code
 * image is loaded into the harness process once, and every run is a request. Runs are
 * serialized on the harness (one drive core per arch here). The cross builds offer no maps
 * (the csd-aarch64 and csd-riscv64 checks refuse them), so {@link #maps()} lists none.
 */
final class QemuFirmwareKernel implements FirmwareKernel {
    private final Program program;
    private final FirmwareArch arch;
    private final QemuHarness harness;
    private final long id;
    private boolean closed;

    QemuFirmwareKernel(Program program, FirmwareBuild build) {
        if (!program.maps().isEmpty()) {
            throw TargetException.unsupported("maps in " + build.arch().id() + " firmware (only the host build has them)");
        }
        this.program = program;
        this.arch = build.arch();
        this.harness = QemuHarness.of(arch);
        this.id = harness.load(build.image(), build.entry());
    }

    @Override
    public FirmwareArch arch() {
        return arch;
    }

    @Override
    public long run(MemorySegment ns, long chunkOffset, long chunkLength, MemorySegment out, long param0, long param1) {
        if (program.type() != ProgramType.CSD) {
            throw new TargetException("chunks are for csd programs; " + program.name() + " is " + program.type().id());
        }
        HostFirmwareKernel.checkChunk(ns, chunkOffset, chunkLength, out);
        MemorySegment offered = out.asSlice(0, Math.min(out.byteSize(), CsdContext.MAX_REGION));
        QemuHarness.Outcome o = harness.runChunk(id, ns, chunkOffset, chunkLength, offered.toArray(ValueLayout.JAVA_BYTE),
                param0, param1);
        MemorySegment.copy(o.memory(), 0, offered, ValueLayout.JAVA_BYTE, 0, o.memory().length);
        return result(o);
    }

    @Override
    public RunResult runRaw(byte[] mem) {
        if (program.type() != ProgramType.RAW) {
            throw new TargetException("raw runs are for raw programs; " + program.name() + " is " + program.type().id());
        }
        QemuHarness.Outcome o = harness.runRaw(id, mem);
        return new RunResult(result(o), o.memory());
    }

    private long result(QemuHarness.Outcome o) {
        if (o.status() != 0) {
            throw new TrapException((int) o.pc(), "helper failed in the " + arch.id() + " firmware (status " + o.status()
                    + (o.status() == 3 ? ": the helper is not offered to " + arch.id() + " firmware" : "") + ")");
        }
        return o.r0();
    }

    @Override
    public MapAccess maps() {
        return new dev.prism.runtime.MapSetAccess(List.of(), List.of(program));
    }

    @Override
    public String description() {
        return arch.id() + " firmware (" + arch.qemu() + ")";
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            harness.unload(id);
        }
    }
}
