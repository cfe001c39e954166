package dev.prism.p4;

import dev.prism.asm.Assembler;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Environment;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class P4ScratchTest {
    @Test
    void scratch() {
        String text = """
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 14
                jgt %r4, %r3, drop
                ldxb %r5, [%r2+12]
                ldxh %r6, [%r2+12]
                stxb [%r2+0], %r6
                mov %r7, 100
                div %r7, %r5
                stxb [%r2+1], %r7
                stw [%r10-4], 1
                mov %r2, %r10
                add %r2, -4
                lddw %r1, map_idx 0
                call 1
                jeq %r0, 0, pass
                mov %r1, 5
                lock add [%r0+0], %r1
                pass:
                mov %r0, 2
                exit
                drop:
                mov %r0, 1
                exit
                """;
        Program p = Program.builder("scratch", ProgramType.XDP, Assembler.assemble(text))
                .maps(List.of(MapDef.of("counts", MapType.ARRAY, 4, 8, 4, 0))).build();
        var vp = Verifier.verify(p, Profile.RFC9669);
        P4Lowering.Result r = P4Lowering.lower(vp);
        System.out.println(r.refusals());
        System.out.println(r.source()); try { java.nio.file.Files.writeString(java.nio.file.Path.of("/tmp/h17p4/s.p4"), r.source()); } catch (Exception ex) { }
        P4Target t = new P4Target();
        System.out.println(t.availability());
        P4Artifact a = (P4Artifact) t.compile(vp);
        System.out.println("p4c ms " + a.p4cNanos() / 1e6);
        try (Executable e = a.load(); Executable ref = new InterpreterTarget(Environment.deterministic(0, 1)).load(List.of(p))) {
            for (int i = 0; i < 3; i++) {
                byte[] pkt = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f10" + "11".repeat(i * 3));
                long t0 = System.nanoTime();
                RunResult g = e.run(RunInput.ofPacket(pkt));
                System.out.println("bmv2 ms " + (System.nanoTime() - t0) / 1e6);
                RunResult w = ref.run(RunInput.ofPacket(pkt));
                System.out.println(g.r0() + " " + (g.packetAfter() == null ? null : HexFormat.of().formatHex(g.packetAfter())));
                System.out.println(w.r0() + " " + HexFormat.of().formatHex(w.packetAfter()));
                System.out.println(HexFormat.of().formatHex(e.maps().lookup("counts", new byte[4])) + " vs "
                        + HexFormat.of().formatHex(ref.maps().lookup("counts", new byte[4])));
            }
        }
    }
}
