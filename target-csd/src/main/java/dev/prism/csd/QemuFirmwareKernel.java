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
 * serialized on the harness (one drive core per arch here). ARRAY maps live in the harness,
 * synchronized with user space's copy by {@link CrossMaps}; other map types are refused.
 */
final class QemuFirmwareKernel implements FirmwareKernel {
    private final Program program;
    private final FirmwareArch arch;
    private final QemuHarness harness;
    private final long id;
    private final CrossMaps maps;
    private final boolean ownsMaps;
    private boolean closed;

    /** @param maps the maps to share (kept open), or null to create and own them */
    QemuFirmwareKernel(Program program, FirmwareBuild build, CrossMaps maps) {
        this.program = program;
        this.arch = build.arch();
        this.ownsMaps = maps == null;
        this.maps = maps != null ? maps : new CrossMaps(program);
        try {
            this.harness = QemuHarness.of(arch);
            this.id = harness.load(build.image(), build.entry(), this.maps.shapes());
        } catch (RuntimeException e) {
            if (ownsMaps) {
                this.maps.close();
            }
            throw e;
        }
    }

    byte[] getMap(int index) {
        return harness.getMap(id, index);
    }

    void putMap(int index, byte[] bytes) {
        harness.putMap(id, index, bytes);
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
        QemuHarness.Outcome o;
        synchronized (maps) {
            maps.beforeRun(this);
            o = harness.runChunk(id, ns, chunkOffset, chunkLength, offered.toArray(ValueLayout.JAVA_BYTE), param0, param1);
        }
        MemorySegment.copy(o.memory(), 0, offered, ValueLayout.JAVA_BYTE, 0, o.memory().length);
        return result(o);
    }

    @Override
    public RunResult runRaw(byte[] mem) {
        if (program.type() != ProgramType.RAW) {
            throw new TargetException("raw runs are for raw programs; " + program.name() + " is " + program.type().id());
        }
        QemuHarness.Outcome o;
        synchronized (maps) {
            maps.beforeRun(this);
            o = harness.runRaw(id, mem);
        }
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
        return maps.access();
    }

    @Override
    public String description() {
        return arch.id() + " firmware (" + arch.qemu() + ")";
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            maps.forget(this);
            harness.unload(id);
            if (ownsMaps) {
                maps.close();
            }
        }
    }
}
