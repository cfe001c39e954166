package dev.prism.conformance.nfp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.conformance.examples.Examples;
import dev.prism.conformance.examples.PacketGenerator;
import dev.prism.conformance.linux.LinuxTarget;
import dev.prism.elf.ElfObject;
import dev.prism.isa.Insn;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.nfp.NfpChecker;
import dev.prism.nfp.NfpTarget;
import dev.prism.program.MapDef;
import dev.prism.program.Program;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The nfp target's artifact, the ELF object for {@code ip link set dev X xdpoffload obj F sec S},
 * read back by Prism's own ELF loader and loaded into the running kernel (not offloaded: there is
 * no NFP here) with its maps: the kernel's verifier takes the legalized program, and it runs
 * there as it runs on the interpreter. Also the object's form: ET_REL, EM_BPF, the program in
 * its section, BTF-defined maps in {@code .maps} described by {@code .BTF} (no legacy
 * {@code maps}), map flags 0, an R_BPF_64_64 relocation per map reference. That {@code ip}
 * attaches it is {@code NfpObjectIpTest}'s.
 */
class NfpObjectKernelTest {
    /** An independent reader: llvm-objdump-19 disassembles the section and names each relocation's map. */
    private static void objdumpReadsIt(byte[] bytes, int slots) {
        Host.require("llvm", Host.onPath("llvm-objdump-19"), "llvm-objdump-19 (Debian llvm-19) reads the object");
        try {
            java.nio.file.Path f = java.nio.file.Files.createTempFile("nfp", ".o");
            try {
                java.nio.file.Files.write(f, bytes);
                Process p = new ProcessBuilder("llvm-objdump-19", "-dr", f.toString()).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertEquals(0, p.waitFor(), out);
                assertTrue(out.contains("file format elf64-bpf") && out.contains("Disassembly of section xdp:"), out);
                for (String map : List.of("config", "blocked", "class_bytes")) {
                    assertTrue(out.contains("R_BPF_64_64\t" + map) || out.contains("R_BPF_64_64	" + map), map + ":\n" + out);
                }
                assertTrue(out.contains((slots - 1) + ":\t95 00 00 00 00 00 00 00\texit"), "the last slot is an exit:\n" + out);
            } finally {
                java.nio.file.Files.delete(f);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Test
    void theObjectLoadsIntoTheKernelAndRunsAsOnTheInterpreter() {
        ElfObject obj = ElfObject.load(Examples.object("nfp_sampler"));
        Program original = obj.program("xdp");
        NfpTarget nfp = new NfpTarget(null, NfpChecker.Options.STRICT, "interpreter");
        NfpTarget.NfpArtifact art = nfp.compile(Verifier.verify(original, Profile.RFC9669));
        byte[] bytes = art.bytes();

        ByteBuffer h = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x464c457f, h.getInt(0), "ELF magic");
        assertEquals(2, bytes[4], "ELFCLASS64");
        assertEquals(1, bytes[5], "little-endian");
        assertEquals(1, h.getShort(16), "ET_REL");
        assertEquals(247, h.getShort(18), "EM_BPF");
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        assertFalse(text.contains("\0maps\0"), "no legacy maps section");
        assertTrue(text.contains("\0.maps\0") && text.contains("\0.BTF\0") && text.contains("\0.relxdp\0")
                && text.contains("\0license\0"), "sections");

        ElfObject back = ElfObject.parse("nfp_sampler.nfp.o", bytes);
        Program loaded = back.program("xdp");
        assertEquals(art.legalized().length(), loaded.length());
        assertEquals(original.maps().size(), loaded.maps().size());
        for (int i = 0; i < loaded.maps().size(); i++) {
            MapDef a = original.maps().get(i);
            MapDef b = loaded.maps().get(i);
            assertEquals(List.of(a.name(), a.type(), a.keySize(), a.valueSize(), a.maxEntries(), 0),
                    List.of(b.name(), b.type(), b.keySize(), b.valueSize(), b.maxEntries(), b.flags()), "map " + i);
        }
        int references = 0;
        for (int pc = 0; pc < loaded.length(); pc++) {
            if (loaded.at(pc) instanceof Insn.LoadImm64 l && l.kind() == LoadImm64Kind.MAP_BY_IDX) {
                references++;
                assertEquals(art.legalized().at(pc), l, "pc " + pc + ": the relocated map reference");
            } else {
                assertEquals(art.legalized().at(pc), loaded.at(pc), "pc " + pc);
            }
        }
        assertEquals(4, references, "nfp_sampler looks up maps at four sites");

        objdumpReadsIt(bytes, art.legalized().length());

        Host.requireLinuxBpf();
        Examples.PacketFile crafted = Examples.packets("nfp_sampler");
        PacketGenerator gen = new PacketGenerator(13);
        try (Executable kernel = new LinuxTarget().load(List.of(loaded));
             Executable interp = new InterpreterTarget().load(List.of(art.legalized()))) {
            for (Examples.MapInit m : crafted.setup()) {
                kernel.maps().update(m.map(), m.key(), m.value(), 0);
                interp.maps().update(m.map(), m.key(), m.value(), 0);
            }
            for (int i = 0; i < 300; i++) {
                byte[] p = i < crafted.packets().size() ? crafted.packets().get(i) : gen.next();
                RunResult a = kernel.run(RunInput.ofPacket(p));
                RunResult b = interp.run(RunInput.ofPacket(p));
                assertEquals(b.r0(), a.r0(), "packet " + i);
                assertArrayEquals(b.packetAfter(), a.packetAfter(), "packet " + i);
            }
            for (byte[] key : interp.maps().keys("class_bytes")) {
                assertArrayEquals(interp.maps().lookup("class_bytes", key), kernel.maps().lookup("class_bytes", key));
            }
        }
    }
}
