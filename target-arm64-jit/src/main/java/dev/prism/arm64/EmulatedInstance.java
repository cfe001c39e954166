package dev.prism.arm64;

import dev.prism.arm64.emu.A64Machine;
import dev.prism.arm64.emu.Unicorn;
import dev.prism.program.Program;
import dev.prism.runtime.Environment;
import dev.prism.runtime.Helper;
import dev.prism.runtime.Region;
import dev.prism.runtime.jit.JitInstance;
import dev.prism.runtime.jit.RunContext;
import dev.prism.runtime.maps.BpfMap;
import dev.prism.runtime.maps.HashTableMap;
import dev.prism.runtime.maps.LpmTrieMap;
import dev.prism.verifier.VerifiedProgram;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Programs of one object as AArch64 code in the in-process emulator: {@link JitInstance} holds
 * the maps, the {@link RunContext run context} and the Java helpers, exactly as for native
 * x86-64 code; this class runs the code on an {@link A64Machine}, which maps host memory at its
 * own addresses, so every pointer the shared half hands out (map handles, the XDP context,
 * values helpers return) is valid as it is.
 *
 * <p>Mapped for the instance's life: the run context, the host-layout XDP context, every map
 * region, each hash map's whole table (header and buckets, which generated lookups read),
 * each array of maps' handle slots (read by inlined outer lookups),
 * every PROG_ARRAY table, each LPM map's native index (its handle, and its current block,
 * mapped again whenever a rebuild moves it: at each run and after each helper call), the
 * machine's stack, and each program's code (read + execute). Mapped for one run: its raw
 * memory (placed at the end of its own pages, with an unmapped guard page after them) or its
 * XDP frame. Helper slots hold the machine's helper
 * traps, except those of the helpers {@link A64NativeHelpers} implements (their code, copied
 * into the machine, as on an aarch64 host); the trap hook calls {@link JitInstance#callHelper}, which reports failures through the
 * status word as the x86-64 upcalls do. Runs are serialized; close it to free the engine, code
 * and maps.
 */
final class EmulatedInstance extends JitInstance<A64Machine.Loaded> {
    private final A64Jit.Options options;
    private final A64Machine machine;
    /** Java helpers by id, for the trap hook. */
    private final Helper[] bound = new Helper[A64Machine.HELPER_IDS];
    /** Each LPM map with a native index, and the index block mapped for it last. */
    private final java.util.Map<LpmTrieMap, Long> lpmBlocks = new java.util.LinkedHashMap<>();
    /** Page ranges mapped for the current run. */
    private List<long[]> runMappings = List.of();

    private EmulatedInstance(List<Program> programs, Environment env, Integer fixedSize, A64Jit.Options options,
                             long budget) {
        super("arm64", programs, env, fixedSize);
        this.options = options;
        A64Machine m = null;
        try {
            m = new A64Machine(options.lse() ? Unicorn.CpuModel.MAX : Unicorn.CpuModel.CORTEX_A57, budget, this::onHelper);
            m.map(context().address(), context().byteSize());
            m.map(hostContext().address(), hostContext().byteSize());
            for (Region r : mapRegions()) {
                m.map(r.base(), r.segment().byteSize());
            }
            for (BpfMap b : bpfMaps()) {
                if (b instanceof HashTableMap h) {
                    // the whole table: generated lookups read the header and the buckets too
                    m.map(h.address(), tableEnd(h) - h.address());
                }
                if (b instanceof dev.prism.runtime.maps.MapOfMaps o && o.def().type() == dev.prism.program.MapType.ARRAY_OF_MAPS) {
                    // the inner map handles an inlined outer lookup reads (8 bytes per slot)
                    m.map(o.handlesAddress(), 8L * o.def().maxEntries());
                }
            }
            for (MemorySegment t : progTables()) {
                if (t != null) {
                    m.map(t.address(), t.byteSize());
                }
            }
            for (BpfMap b : bpfMaps()) {
                if (b instanceof LpmTrieMap l && l.nativeAddress() != 0) {
                    m.map(l.nativeAddress(), 8);
                    lpmBlocks.put(l, 0L);
                }
            }
        } catch (RuntimeException e) {
            if (m != null) {
                m.close();
            }
            super.close();
            throw e;
        }
        this.machine = m;
        try {
            mapLpmIndexes();
            bindHelpers();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** {@return programs of one object, verified and compiled now (raw ones: per memory size, when run)} */
    static EmulatedInstance of(List<Program> programs, Environment env, A64Jit.Options options, long budget) {
        EmulatedInstance e = new EmulatedInstance(programs, env, null, options, budget);
        try {
            e.compileEager();
            return e;
        } catch (RuntimeException ex) {
            e.close();
            throw ex;
        }
    }

    /** {@return one program compiled from its proof} */
    static EmulatedInstance of(VerifiedProgram verified, A64Jit.Compiled compiled, Environment env, long budget) {
        EmulatedInstance e = new EmulatedInstance(List.of(verified.program()), env, verified.memSize(), compiled.options(), budget);
        try {
            e.install(verified.memSize(), e.machine.load(compiled));
            return e;
        } catch (RuntimeException ex) {
            e.close();
            throw ex;
        }
    }

    /** {@return one past the last byte of a hash map's block: its last entry's end} */
    static long tableEnd(HashTableMap h) {
        return h.entriesAddress() + (long) h.def().maxEntries() * h.entrySize();
    }

    private long onHelper(int id, long r1, long r2, long r3, long r4, long r5) {
        Helper h = bound[id];
        if (h == null) {
            failHelper(new IllegalStateException("helper " + id + " is not bound"));
            return 0;
        }
        long r0 = callHelper(h, r1, r2, r3, r4, r5);
        mapLpmIndexes(); // an update may have rebuilt an index the generated lookups read
        return r0;
    }

    /**
     * Maps each LPM map's current native index block, which generated lookups read: a rebuild
     * moves it. Old blocks stay valid memory until the map closes, so their mappings stay too.
     * Updates from other threads while a run is under way can move a block the emulator has not
     * mapped yet; the lookup then faults and the run traps (native code has no such window).
     */
    private void mapLpmIndexes() {
        for (java.util.Map.Entry<LpmTrieMap, Long> e : lpmBlocks.entrySet()) {
            MemorySegment block = e.getKey().nativeIndex();
            if (block.address() != e.getValue()) {
                machine.map(block.address(), block.byteSize());
                e.setValue(block.address());
            }
        }
    }

    @Override
    protected A64Machine.Loaded compile(VerifiedProgram verified) {
        return machine.load(A64Jit.compile(verified, options));
    }

    /** Code copies live in the machine's arena, freed with it. */
    @Override
    protected void free(A64Machine.Loaded code) {
    }

    @Override
    protected long tailEntry(A64Machine.Loaded code) {
        return code.base() + code.compiled().tailEntry();
    }

    @Override
    protected int callPcAt(List<A64Machine.Loaded> code, long address) {
        return machine.callPcAt(address);
    }

    @Override
    protected Region stack() {
        MemorySegment s = machine.stack();
        return new Region("stack", s.address(), s, true);
    }

    /**
     * Helper {@code id}'s AArch64 code from {@link A64NativeHelpers} (xdp_adjust_*, ringbuf_*),
     * copied into the machine, as a native instance on an aarch64 host binds it; else the
     * machine's trap for it. The code works on memory mapped for the instance's life (the
     * host-layout context, ring headers, which share a page with the ring's data) or the run
     * (the XDP frame). Unlike on a host, a ring lock held elsewhere makes the code spin on the
     * run's instruction budget.
     */
    @Override
    protected long helperEntry(int id, Helper helper) {
        bound[id] = helper;
        byte[] code = A64NativeHelpers.code(id, programs().get(0).type());
        return code != null ? machine.loadRaw(code) : A64Machine.helperTrap(id);
    }

    /** Raw memory at the end of its own pages, followed by a guard page that is never mapped. */
    @Override
    protected MemorySegment allocateMem(Arena runArena, int size) {
        long pages = (size + A64Machine.PAGE - 1) & -A64Machine.PAGE;
        MemorySegment host = runArena.allocate(pages + A64Machine.PAGE, A64Machine.PAGE);
        return host.asSlice(pages - ((size + 7L) & ~7L), size);
    }

    @Override
    protected void enter(Prepared<A64Machine.Loaded> run) {
        mapLpmIndexes();
        List<long[]> added = new ArrayList<>();
        runMappings = added;
        if (mem() != null) {
            added.addAll(machine.map(mem().address(), mem().byteSize()));
        }
        if (xdp() != null) {
            added.addAll(machine.map(xdp().frame().address(), xdp().frame().byteSize()));
        }
        if (skb() != null) {
            added.addAll(machine.map(skb().frame().address(), skb().frame().byteSize()));
            added.addAll(machine.map(skb().ctx().address(), skb().ctx().byteSize()));
        }
    }

    @Override
    protected void leave(Prepared<A64Machine.Loaded> run) {
        machine.unmap(runMappings);
        runMappings = List.of();
    }

    @Override
    protected long invoke(Prepared<A64Machine.Loaded> run) {
        return machine.call(run.code().get(0).base(), run.r1(), run.r2(), context().address());
    }

    @Override
    public synchronized void close() {
        if (machine != null) {
            machine.close();
        }
        super.close();
    }
}
