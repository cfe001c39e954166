package dev.prism.perf;

import dev.prism.error.TargetException;
import dev.prism.program.MapDef;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.XdpBuffer;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A native build of an XDP program ({@link NativeBaseline}) loaded with dlopen: its maps are
 * set up by the shim's {@code prism_map_init}, its entry is called as a critical FFM function
 * with a host-layout {@code struct xdp_md}.
 *
 * <pre>
 *   struct xdp_md (48 bytes)          frame (4096 bytes, XdpBuffer's geometry)
 *    0 data       ───────────────┐    0      xdp_frame (40) | headroom
 *    8 data_end                  └──▶ 256    packet ... data_end
 *   16 data_meta                      3776   tailroom (320)
 *   24 ingress_ifindex (1: lo)
 *   28 rx_queue_index, 32 egress_ifindex
 *   40 hard_start: the frame's first byte
 * </pre>
 *
 * <p>A helper the shim lacks records its name in {@code prism_unsupported}; every run and timing
 * checks it and fails with "not supported: ...". Not thread-safe.
 */
final class NativeExecutable implements Executable {
    private static final long CTX_SIZE = 48;
    private static final long DATA = 0;
    private static final long DATA_END = 8;
    private static final long DATA_META = 16;
    private static final long INGRESS_IFINDEX = 24;
    private static final long HARD_START = 40;

    /**
     * {@code int entry(struct xdp_md *)}, the entry's address as the first argument: a constant
     * handle the JIT inlines (an instance field would be called through a non-constant handle,
     * tens of ns a call), critical as the x86-64 JIT's calls (ExecutableMemory). The entry is a
     * global-scope segment and the context goes as its address (a long, the same register as a
     * pointer in both ABIs), so a call checks no arena's liveness: {@link #checkOpen} does,
     * once per run or timed loop.
     */
    private static final MethodHandle CALL = Linker.nativeLinker().downcallHandle(
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG), Linker.Option.critical(false));

    private final Arena arena;
    private final MemorySegment entry;
    private final MethodHandle mapFree;
    private final List<MemorySegment> maps;
    private final MemorySegment unsupported;
    private final MemorySegment ctx;
    private final long ctxAddress;
    private final MemorySegment frame;
    private final String name;
    private boolean closed;

    private NativeExecutable(Arena arena, MemorySegment entry, MethodHandle mapFree, List<MemorySegment> maps,
                             MemorySegment unsupported, String name) {
        this.arena = arena;
        this.entry = entry;
        this.mapFree = mapFree;
        this.maps = maps;
        this.unsupported = unsupported;
        this.name = name;
        this.ctx = arena.allocate(CTX_SIZE, 8);
        this.ctxAddress = ctx.address();
        this.frame = arena.allocate(XdpBuffer.FRAME_SIZE, 64);
    }

    /**
     * {@return {@code library} loaded, its maps set up from {@code entry}'s map definitions and
     * its prog_array slots filled with the programs {@code slots} name (as libbpf fills them)}
     *
     * @throws TargetException "not supported" for a non-XDP program or a map that is not an
     *                         exported symbol of the build
     */
    static NativeExecutable load(Path library, Program entry, List<dev.prism.elf.ElfObject.ProgramSlot> slots) {
        if (entry.type() != ProgramType.XDP) {
            throw TargetException.unsupported("native baseline: " + entry.type().id() + " programs (xdp only)");
        }
        Arena arena = Arena.ofShared();
        try {
            SymbolLookup lib = SymbolLookup.libraryLookup(library, arena);
            // Without the shim, struct xdp_md is the kernel's (32-bit data pointers): calling the
            // entry would make it dereference half a pointer. The shim defines prism_unsupported.
            MemorySegment flag = lib.find("prism_unsupported").map(s -> s.reinterpret(8)).orElseThrow(() ->
                    TargetException.unsupported("native baseline: " + library.getFileName()
                            + " was not built with the native prism_bpf.h (its source does not include \"prism_bpf.h\")"));
            Linker linker = Linker.nativeLinker();
            MemorySegment fn = lib.find(entry.name()).orElseThrow(() -> new TargetException(
                    "native baseline: the build of " + library.getFileName() + " has no function " + entry.name()));
            List<MemorySegment> maps = new ArrayList<>();
            MethodHandle free = null;
            List<MapDef> defs = entry.maps().stream().filter(d -> !isGlobalData(d)).toList();
            if (!defs.isEmpty()) {
                MethodHandle init = linker.downcallHandle(symbol(lib, "prism_map_init", library),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
                free = linker.downcallHandle(symbol(lib, "prism_map_free", library),
                        FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
                for (MapDef d : defs) {
                    MemorySegment map = lib.find(d.name()).orElseThrow(() -> TargetException.unsupported(
                            "native baseline: map " + d.name() + " is not an exported symbol of the build"));
                    int rc = (int) init.invokeExact(map, d.type().code(), d.keySize(), d.valueSize(), d.maxEntries());
                    if (rc != 0) {
                        throw new TargetException("native baseline: cannot allocate map " + d.name());
                    }
                    maps.add(map);
                }
                MethodHandle setInner = linker.downcallHandle(symbol(lib, "prism_map_set_inner", library),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
                for (MapDef d : defs) {
                    if (d.type() != dev.prism.program.MapType.ARRAY_OF_MAPS || d.inner() == null) {
                        continue;
                    }
                    MemorySegment outer = lib.find(d.name()).orElseThrow();
                    for (var slot : d.inner().slots().entrySet()) {
                        // inner maps by name; a prog_array's slots come from the object (below)
                        MemorySegment inner = lib.find(slot.getValue()).orElseThrow(() -> TargetException.unsupported(
                                "native baseline: inner map " + slot.getValue() + " of " + d.name() + " is not an exported symbol"));
                        int rc = (int) setInner.invokeExact(outer, (int) slot.getKey(), inner);
                        if (rc != 0) {
                            throw new TargetException("native baseline: cannot put " + slot.getValue() + " in " + d.name()
                                    + "[" + slot.getKey() + "]");
                        }
                    }
                }
                for (var slot : slots) {
                    MemorySegment table = lib.find(slot.map()).orElseThrow();
                    MemorySegment prog = lib.find(slot.program()).orElseThrow(() -> TargetException.unsupported(
                            "native baseline: program " + slot.program() + " is not an exported symbol"));
                    int rc = (int) setInner.invokeExact(table, slot.index(), prog);
                    if (rc != 0) {
                        throw new TargetException("native baseline: cannot put " + slot.program() + " in "
                                + slot.map() + "[" + slot.index() + "]");
                    }
                }
            }
            return new NativeExecutable(arena, MemorySegment.ofAddress(fn.address()), free, maps, flag, entry.name());
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        } catch (Throwable t) {
            arena.close();
            throw new TargetException("native baseline: " + t, t);
        }
    }

    /** .rodata, .data, .bss and the like are C globals of the build, initialized by the loader. */
    private static boolean isGlobalData(MapDef d) {
        return d.name().startsWith(".") || d.name().contains(".");
    }

    private static MemorySegment symbol(SymbolLookup lib, String symbol, Path library) {
        return lib.find(symbol).orElseThrow(() -> new TargetException(
                "native baseline: " + library.getFileName() + " lacks " + symbol + " (not built with the native prism_bpf.h)"));
    }

    /** Lays {@code packet} into the frame at the headroom and points the context at it. */
    private void prepare(RunInput input) {
        checkOpen();
        byte[] packet = input.packet();
        if (packet == null) {
            throw new TargetException("an XDP program needs a packet");
        }
        if (packet.length < XdpBuffer.MIN_PACKET || packet.length > XdpBuffer.MAX_PACKET) {
            throw new TargetException("packet of " + packet.length + " bytes; XDP frames take "
                    + XdpBuffer.MIN_PACKET + ".." + XdpBuffer.MAX_PACKET);
        }
        frame.fill((byte) 0);
        MemorySegment.copy(packet, 0, frame, ValueLayout.JAVA_BYTE, XdpBuffer.HEADROOM, packet.length);
        long base = frame.address();
        ctx.fill((byte) 0);
        ctx.set(ValueLayout.JAVA_LONG, DATA, base + XdpBuffer.HEADROOM);
        ctx.set(ValueLayout.JAVA_LONG, DATA_END, base + XdpBuffer.HEADROOM + packet.length);
        ctx.set(ValueLayout.JAVA_LONG, DATA_META, base + XdpBuffer.HEADROOM);
        ctx.set(ValueLayout.JAVA_INT, INGRESS_IFINDEX, 1); // Linux's test run: loopback
        ctx.set(ValueLayout.JAVA_LONG, HARD_START, base);
    }

    private int invoke() {
        try {
            return (int) CALL.invokeExact(entry, ctxAddress);
        } catch (Throwable t) {
            throw new TargetException("native baseline: the call into " + name + " failed: " + t, t);
        }
    }

    /** @throws TargetException "not supported" once the program called a helper the shim lacks */
    private void checkSupported() {
        if (unsupported == null) {
            return;
        }
        MemorySegment what = unsupported.get(ValueLayout.ADDRESS, 0);
        if (!what.equals(MemorySegment.NULL)) {
            throw TargetException.unsupported("native baseline: " + what.reinterpret(256).getString(0));
        }
    }

    @Override
    public RunResult run(RunInput input) {
        prepare(input);
        long r0 = Integer.toUnsignedLong(invoke());
        checkSupported();
        long base = frame.address();
        long meta = ctx.get(ValueLayout.JAVA_LONG, DATA_META) - base;
        long end = ctx.get(ValueLayout.JAVA_LONG, DATA_END) - base;
        byte[] after = frame.asSlice(meta, end - meta).toArray(ValueLayout.JAVA_BYTE);
        return new RunResult(r0, new byte[0], after);
    }

    /** Times a loop of calls on one prepared frame, as the JITs time theirs. */
    @Override
    public double nanosPerRun(RunInput input, int repeat) {
        if (repeat <= 0) {
            throw new IllegalArgumentException("repeat must be positive, was " + repeat);
        }
        prepare(input);
        long t0 = System.nanoTime();
        for (int i = 0; i < repeat; i++) {
            invoke();
        }
        double ns = (System.nanoTime() - t0) / (double) repeat;
        checkSupported();
        return ns;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            for (MemorySegment m : maps) {
                mapFree.invokeExact(m);
            }
        } catch (Throwable t) {
            // the library goes anyway; its tables leak
        } finally {
            arena.close();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new TargetException("the native build of " + name + " is closed");
        }
    }
}
