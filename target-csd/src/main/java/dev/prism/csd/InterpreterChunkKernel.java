package dev.prism.csd;

import dev.prism.error.TargetException;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Environment;
import dev.prism.runtime.HelperTable;
import dev.prism.runtime.Interpreter;
import dev.prism.runtime.MapSetAccess;
import dev.prism.target.MapAccess;
import dev.prism.verifier.VerifiedProgram;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A {@code csd} program on the reference interpreter: the oracle the firmware builds are held
 * to. Runs are serialized (the interpreter's instance is), so it is thread-safe but not
 * parallel; a trap becomes a {@link dev.prism.error.TrapException} from {@link #run}.
 */
public final class InterpreterChunkKernel implements ChunkKernel {
    private final Interpreter.Instance instance;

    private InterpreterChunkKernel(Interpreter.Instance instance) {
        this.instance = instance;
    }

    /**
     * {@return the verified csd program on the interpreter, its maps created empty}
     *
     * @param budget instructions one chunk may execute before it traps
     * @throws TargetException when the program is not a csd program or its maps cannot be made
     */
    public static InterpreterChunkKernel of(VerifiedProgram verified, long budget) {
        Program p = verified.normalized();
        if (p.type() != ProgramType.CSD) {
            throw new TargetException("a chunk kernel runs csd programs; " + p.name() + " is " + p.type().id());
        }
        try {
            return new InterpreterChunkKernel(new Interpreter(HelperTable.standard(), budget, Environment.host()).instantiate(List.of(p)));
        } catch (IllegalArgumentException e) {
            throw new TargetException("cannot create the maps: " + e.getMessage(), e);
        }
    }

    /** {@return the program with the interpreter's default budget} */
    public static InterpreterChunkKernel of(VerifiedProgram verified) {
        return of(verified, Interpreter.DEFAULT_BUDGET);
    }

    @Override
    public long run(MemorySegment namespace, long chunkOffset, long chunkLength, MemorySegment out, long param0, long param1) {
        return instance.runCsd(namespace, chunkOffset, chunkLength, out, param0, param1).r0();
    }

    @Override
    public MapAccess maps() {
        return new MapSetAccess(instance.maps(), instance.programs());
    }

    @Override
    public String description() {
        return "reference interpreter";
    }

    @Override
    public void close() {
        instance.close();
    }
}
