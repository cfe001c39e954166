package dev.prism.target;

import dev.prism.program.MapDef;
import java.util.List;

/**
 * User-space access to the maps of a loaded program, as the bpf() syscall gives it: what a
 * test pre-populates and inspects, and what {@code prism run --map / --dump-maps} use. Maps are
 * named as in the object ({@link MapDef#name()}).
 */
public interface MapAccess {
    /** {@return the maps, in the program's map index order} */
    List<MapDef> defs();

    /**
     * {@return the value of {@code key}, or null when absent}; per-CPU maps give one
     * {@code round_up(value_size, 8)} block per CPU, as bpf() does
     */
    byte[] lookup(String map, byte[] key);

    /**
     * Writes one element with BPF_ANY / BPF_NOEXIST / BPF_EXIST semantics.
     *
     * @throws dev.prism.error.TargetException naming the errno when the map refuses
     */
    void update(String map, byte[] key, byte[] value, long flags);

    /** Deletes one element. @return whether it was present */
    boolean delete(String map, byte[] key);

    /** {@return every key present (arrays: every index)} */
    List<byte[]> keys(String map);

    /** {@return the records a ring buffer holds, oldest first, consuming them} */
    List<byte[]> drain(String ringbuf);

    /**
     * Points slot {@code index} of a PROG_ARRAY at one of the loaded programs, by name (what
     * user space does with a program fd).
     */
    void setProgram(String progArray, int index, String program);
}
