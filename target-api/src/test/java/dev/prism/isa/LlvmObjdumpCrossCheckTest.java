package dev.prism.isa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.error.MalformedProgramException;
import dev.prism.testing.Host;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.io.TempDir;

/**
 * Differential test of {@link InsnCodec#decode} against llvm-objdump-19: the C programs under
 * {@code src/test/resources/llvm-crosscheck} are compiled by clang-19 at every -mcpu level, the
 * bytes of each code section are extracted with llvm-objcopy-19 (until Prism has an ELF loader),
 * decoded by Prism, rendered in LLVM's syntax ({@link LlvmSyntax}) and compared line by line
 * with llvm-objdump-19's listing of the same section: same instruction count, same text, same
 * raw bytes per instruction, and every jump landing on the slot LLVM's {@code <symbol+offset>}
 * label names. One dynamic test per file and cpu, named {@code file.c [vN]}; a last test per cpu
 * asserts that the objects exercised every instruction family, so the suite cannot pass on
 * near-empty objects.
 *
 * <p>llvm-objdump always runs with {@code --mcpu=v4}: the object's bytes, not the level it was
 * compiled for, identify the instruction, and below v3 llvm-objdump prints 32-bit atomics other
 * than add as {@code <unknown>} (those encodings are only in its alu32 decoder tables).
 */
class LlvmObjdumpCrossCheckTest {
    private static final String RESOURCES = "/llvm-crosscheck/";
    private static final List<String> SOURCES = List.of("arith.c", "bytes.c", "control.c", "atomics.c", "rare.c");
    private static final List<String> CPUS = List.of("v1", "v2", "v3", "v4");
    private static final long TIMEOUT_SECONDS = 30;

    /** Instruction line with raw bytes: {@code "      51:\t18 01 ... 00\tr1 = 0x1234500000000 ll"}. */
    private static final Pattern INSN = Pattern.compile("^\\s*(\\d+):\\t([0-9a-f]{2}(?: [0-9a-f]{2})*)\\s*\\t(.*)$");
    /** Relocation line printed by -r after the instruction it applies to; the address is in bytes. */
    private static final Pattern RELOC = Pattern.compile("^\\s+([0-9a-f]+):\\s+(R_BPF_\\S+)\\s+(\\S+).*$");
    private static final Pattern SYMBOL = Pattern.compile("^([0-9a-f]{16}) <(.+)>:$");
    private static final Pattern SECTION = Pattern.compile("^Disassembly of section (.+):$");
    /** A jump's target as LLVM symbolises it: {@code goto +0x1 <clamp_u64+0x18>}. */
    private static final Pattern LABEL = Pattern.compile("^(.*) <([^<>+]+)(?:\\+0x([0-9a-f]+))?>$");
    /** Operand registers of a memory instruction, which LLVM prints as wN or rN for one encoding. */
    private static final Pattern SUBREGISTER = Pattern.compile("\\bw(\\d+)\\b");
    private static final Pattern MEMORY_FORM = Pattern.compile("\\*\\(|atomic_|xchg|skb\\[");

    @TempDir
    static Path work;

    /** Decoded instructions per cpu, over all files and sections, for the coverage check. */
    private static final Map<String, List<Insn>> SEEN = new TreeMap<>();

    @TestFactory
    Stream<DynamicTest> decodesLikeLlvmObjdump(TestReporter reporter) {
        // Checked once, required in every dynamic test so that each one reports as skipped.
        String missing = Stream.of("clang-19", "llvm-objdump-19", "llvm-objcopy-19")
                .filter(tool -> !runs(tool, "--version")).collect(Collectors.joining(", "));
        Stream<DynamicTest> perFile = CPUS.stream().flatMap(cpu -> SOURCES.stream().map(source ->
                DynamicTest.dynamicTest(source + " [" + cpu + "]", () -> {
                    requireTools(missing);
                    crossCheck(source, cpu);
                })));
        Stream<DynamicTest> coverage = CPUS.stream().map(cpu ->
                DynamicTest.dynamicTest("coverage [" + cpu + "]", () -> {
                    requireTools(missing);
                    checkCoverage(cpu, reporter);
                }));
        return Stream.concat(perFile, coverage);
    }

    private static void requireTools(String missing) {
        Host.require("clang", missing.isEmpty(), missing + " not installed");
    }

    // -------------------------------------------------------------------------------------------
    // One object

    private static void crossCheck(String source, String cpu) throws IOException {
        Path dir = Files.createDirectories(work.resolve(cpu));
        Path c = dir.resolve(source);
        try (InputStream in = LlvmObjdumpCrossCheckTest.class.getResourceAsStream(RESOURCES + source)) {
            assertTrue(in != null, "missing test resource " + RESOURCES + source);
            Files.write(c, in.readAllBytes());
        }
        Path object = dir.resolve(source.replace(".c", ".o"));
        run("clang-19", "-O2", "-target", "bpf", "-mcpu=" + cpu, "-c", c.toString(), "-o", object.toString());

        List<String> codeSections = codeSections(run("llvm-objdump-19", "-h", object.toString()));
        String listingText = run("llvm-objdump-19", "-d", "-r", "--mcpu=v4", object.toString());
        Map<String, Listing> listings = parseListing(listingText);
        assertEquals(new HashSet<>(codeSections), listings.keySet(),
                "code sections (llvm-objdump -h) and disassembled sections differ in " + object.getFileName());

        List<String> problems = new ArrayList<>();
        for (String section : codeSections) {
            Path bin = dir.resolve(object.getFileName() + "." + section.replace('.', '_') + ".bin");
            run("llvm-objcopy-19", "-O", "binary", "--only-section=" + section, object.toString(), bin.toString());
            byte[] code = Files.readAllBytes(bin);
            Insn[] slots;
            // The section is decoded unlinked. A call into .text carries a relocation placeholder
            // for an imm (see checkTarget), which InsnCodec checks as a relative target all the
            // same; with these sources pc + 1 + imm stays inside the section, but a larger .text
            // could push it out, and then only relocating first (the ELF loader) would help.
            try {
                slots = InsnCodec.decode(code);
            } catch (MalformedProgramException e) {
                problems.add(section + ": prism rejects the section: " + e.getMessage());
                continue;
            }
            synchronized (SEEN) {
                List<Insn> seen = SEEN.computeIfAbsent(cpu, k -> new ArrayList<>());
                Arrays.stream(slots).filter(i -> i != null).forEach(seen::add);
            }
            compareSection(section, code, slots, listings, problems);
        }
        if (!problems.isEmpty()) {
            fail(source + " at -mcpu=" + cpu + ": " + problems.size() + " disagreement(s) with llvm-objdump-19\n  "
                    + String.join("\n  ", problems) + "\n\nllvm-objdump-19 -d -r --mcpu=v4 " + object.getFileName()
                    + ":\n" + listingText);
        }
    }

    private static void compareSection(String section, byte[] code, Insn[] slots, Map<String, Listing> listings,
            List<String> problems) {
        Listing listing = listings.get(section);
        List<Line> lines = listing.lines();
        int prismCount = (int) Arrays.stream(slots).filter(i -> i != null).count();
        if (prismCount != lines.size()) {
            problems.add(section + ": prism decodes " + prismCount + " instructions, llvm-objdump lists " + lines.size());
        }
        int next = 0;
        for (int pc = 0; pc < slots.length; pc++) {
            Insn insn = slots[pc];
            if (insn == null) {
                continue;
            }
            if (next >= lines.size()) {
                problems.add(section + " " + pc + ": llvm-objdump's listing ended, prism has " + LlvmSyntax.format(insn));
                return;
            }
            Line line = lines.get(next++);
            String where = section + " " + pc + ": ";
            if (line.slot() != pc) {
                problems.add(where + "prism's instruction starts at slot " + pc + ", llvm-objdump's at " + line.slot()
                        + " (" + line.text() + "); stopping this section");
                return;
            }
            int length = insn.slots() * InsnCodec.SLOT;
            byte[] ours = Arrays.copyOfRange(code, pc * InsnCodec.SLOT, Math.min(code.length, pc * InsnCodec.SLOT + length));
            if (!Arrays.equals(ours, line.raw())) {
                problems.add(where + "llvm-objcopy's bytes " + HexFormat.of().formatHex(ours) + " are not llvm-objdump's "
                        + HexFormat.of().formatHex(line.raw()));
            }
            Matcher label = LABEL.matcher(line.text());
            String llvm = normalise(label.matches() ? label.group(1) : line.text());
            String prism;
            try {
                prism = LlvmSyntax.format(insn);
            } catch (IllegalArgumentException e) {
                prism = "<" + e.getMessage() + ">";
            }
            if (!prism.equals(llvm)) {
                problems.add(where + "prism \"" + prism + "\" vs llvm \"" + llvm + "\"  [" + HexFormat.of().formatHex(ours)
                        + ", prism " + insn + "]");
            }
            checkTarget(where, pc, insn, label.matches() ? label : null, listing, listings, problems);
        }
    }

    /**
     * A jump must land where LLVM's label says: pc + 1 + offset is the slot of
     * {@code <symbol+0xbytes>}. A local call without a relocation must land on a function
     * symbol of the section. A call with an R_BPF_64_32 relocation against a section symbol
     * (a call into .text) is not relative to the call yet: its callee is at byte
     * {@code (imm + 1) * 8} of that section, which the loader turns into a relative offset; that
     * must be a function too. A helper call must carry no relocation.
     */
    private static void checkTarget(String where, int pc, Insn insn, Matcher label, Listing listing,
            Map<String, Listing> listings, List<String> problems) {
        long prismTarget = switch (insn) {
            case Insn.Ja j -> pc + 1L + j.offset();
            case Insn.Jump j -> pc + 1L + j.offset();
            default -> -1;
        };
        if (prismTarget >= 0) {
            if (label == null) {
                problems.add(where + "llvm-objdump printed no <label> for a jump");
                return;
            }
            Long symbol = listing.symbols().get(label.group(2));
            if (symbol == null) {
                problems.add(where + "llvm label <" + label.group(2) + "> is not a symbol of the section");
                return;
            }
            long bytes = symbol + (label.group(3) == null ? 0 : Long.parseLong(label.group(3), 16));
            if (bytes % InsnCodec.SLOT != 0 || bytes / InsnCodec.SLOT != prismTarget) {
                problems.add(where + "prism's jump lands on slot " + prismTarget + ", llvm's label <" + label.group(2)
                        + (label.group(3) == null ? "" : "+0x" + label.group(3)) + "> is byte " + bytes + " (slot "
                        + bytes / InsnCodec.SLOT + ")");
            }
            return;
        }
        if (label != null) {
            problems.add(where + "llvm-objdump labels an instruction prism does not decode as a jump");
        }
        if (insn instanceof Insn.Call call) {
            String relocation = listing.relocations().get(pc);
            if (call.kind() != CallKind.LOCAL) {
                if (relocation != null) {
                    problems.add(where + "call relocated against " + relocation + " decoded as " + call.kind() + ", not LOCAL");
                }
            } else if (relocation == null) {
                long target = (pc + 1L + call.imm()) * InsnCodec.SLOT;
                if (!listing.symbols().containsValue(target)) {
                    problems.add(where + "local call lands on byte " + target + ", where the section has no function");
                }
            } else if (listings.containsKey(relocation)) {
                long target = (call.imm() + 1L) * InsnCodec.SLOT;
                if (!listings.get(relocation).symbols().containsValue(target)) {
                    problems.add(where + "call relocated against " + relocation + " names byte " + target
                            + " of it, where it has no function");
                }
            }
        }
    }

    /**
     * LLVM's cosmetic ambiguity, and the only normalisation: in loads, stores, atomics and packet
     * loads the register operands of one encoding print as {@code wN} or {@code rN} depending on
     * which LLVM definition (e.g. LDW vs LDW32) the disassembler matched first. Elsewhere the
     * w/r distinction is the ALU/ALU64 or JMP32/JMP class and is compared as printed.
     */
    static String normalise(String llvm) {
        String text = llvm.strip();
        return MEMORY_FORM.matcher(text).find() ? SUBREGISTER.matcher(text).replaceAll("r$1") : text;
    }

    // -------------------------------------------------------------------------------------------
    // Coverage

    private static void checkCoverage(String cpu, TestReporter reporter) {
        List<Insn> seen;
        synchronized (SEEN) {
            seen = SEEN.getOrDefault(cpu, List.of());
        }
        Map<String, Long> byFamily = seen.stream().collect(Collectors.groupingBy(
                i -> i.getClass().getSimpleName(), TreeMap::new, Collectors.counting()));
        reporter.publishEntry("compared [" + cpu + "]", seen.size() + " instructions " + byFamily);
        assertTrue(seen.size() > 100, "only " + seen.size() + " instructions compared at " + cpu);
        if (!cpu.equals("v4")) {
            return;
        }
        Set<String> missing = new TreeSet<>();
        for (Class<?> family : Insn.class.getPermittedSubclasses()) {
            if (seen.stream().noneMatch(family::isInstance)) {
                missing.add(family.getSimpleName());
            }
        }
        for (AluOp op : AluOp.values()) {
            for (Width w : Width.values()) {
                expect(missing, seen, "Alu " + op + " " + w, i -> i instanceof Insn.Alu a && a.op() == op && a.width() == w);
            }
        }
        for (JumpOp op : JumpOp.values()) {
            expect(missing, seen, "Jump " + op, i -> i instanceof Insn.Jump j && j.op() == op);
        }
        expect(missing, seen, "Jump W32", i -> i instanceof Insn.Jump j && j.width() == Width.W32);
        expect(missing, seen, "Jump with register source", i -> i instanceof Insn.Jump j && j.src() instanceof Reg);
        for (AtomicOp op : AtomicOp.values()) {
            for (Size size : List.of(Size.W, Size.DW)) {
                expect(missing, seen, "Atomic " + op + " " + size, i -> i instanceof Insn.Atomic a && a.op() == op && a.size() == size);
            }
        }
        for (Size size : List.of(Size.B, Size.H, Size.W)) {
            expect(missing, seen, "sign-extending Load " + size, i -> i instanceof Insn.Load l && l.signExtend() && l.size() == size);
        }
        for (Size size : Size.values()) {
            expect(missing, seen, "Load " + size, i -> i instanceof Insn.Load l && !l.signExtend() && l.size() == size);
            expect(missing, seen, "Store register " + size, i -> i instanceof Insn.Store s && s.size() == size && s.src() instanceof Reg);
            expect(missing, seen, "Store immediate " + size, i -> i instanceof Insn.Store s && s.size() == size && s.src() instanceof Imm);
        }
        for (EndianOp op : EndianOp.values()) {
            for (int bits : new int[] {16, 32, 64}) {
                expect(missing, seen, "Endian " + op + bits, i -> i instanceof Insn.Endian e && e.op() == op && e.bits() == bits);
            }
        }
        expect(missing, seen, "MovSx W32", i -> i instanceof Insn.MovSx m && m.width() == Width.W32);
        expect(missing, seen, "MovSx W64", i -> i instanceof Insn.MovSx m && m.width() == Width.W64);
        expect(missing, seen, "Neg W32", i -> i instanceof Insn.Neg n && n.width() == Width.W32);
        expect(missing, seen, "Neg W64", i -> i instanceof Insn.Neg n && n.width() == Width.W64);
        expect(missing, seen, "Ja", i -> i instanceof Insn.Ja j && !j.wide());
        expect(missing, seen, "Ja wide (gotol)", i -> i instanceof Insn.Ja j && j.wide());
        expect(missing, seen, "backward Ja or Jump", i -> i instanceof Insn.Ja ja && ja.offset() < 0
                || i instanceof Insn.Jump jump && jump.offset() < 0);
        for (CallKind kind : List.of(CallKind.HELPER, CallKind.LOCAL)) {
            expect(missing, seen, "Call " + kind, i -> i instanceof Insn.Call c && c.kind() == kind);
        }
        expect(missing, seen, "lddw with upper half set", i -> i instanceof Insn.LoadImm64 l && l.nextImm() != 0);
        expect(missing, seen, "lddw with negative value", i -> i instanceof Insn.LoadImm64 l && l.value() < 0);
        expect(missing, seen, "PacketLoad absolute", i -> i instanceof Insn.PacketLoad p && !p.indirect());
        expect(missing, seen, "PacketLoad indirect", i -> i instanceof Insn.PacketLoad p && p.indirect());
        expect(missing, seen, "stack access through r10", i -> i instanceof Insn.Store s && s.dst() == Reg.R10 && s.offset() < 0);
        assertTrue(missing.isEmpty(), "the " + cpu + " objects never exercise: " + missing);
    }

    private static void expect(Set<String> missing, List<Insn> seen, String what, Predicate<Insn> test) {
        if (seen.stream().noneMatch(test)) {
            missing.add(what);
        }
    }

    // -------------------------------------------------------------------------------------------
    // llvm-objdump output

    private record Line(int slot, byte[] raw, String text) {
    }

    /** One disassembled section: its instructions, its symbols (byte address), relocations (slot to symbol). */
    private record Listing(List<Line> lines, Map<String, Long> symbols, Map<Integer, String> relocations) {
    }

    /** {@return the names of the sections llvm-objdump -h marks TEXT (SHF_EXECINSTR) and that are not empty} */
    private static List<String> codeSections(String headers) {
        List<String> names = new ArrayList<>();
        Pattern row = Pattern.compile("^\\s*\\d+\\s+(\\S+)\\s+([0-9a-f]{8})\\s+[0-9a-f]{16}\\s+(.*)$");
        for (String line : headers.split("\n")) {
            Matcher m = row.matcher(line);
            if (m.matches() && m.group(3).contains("TEXT") && Long.parseLong(m.group(2), 16) != 0) {
                names.add(m.group(1));
            }
        }
        assertTrue(!names.isEmpty(), "llvm-objdump -h lists no code section:\n" + headers);
        return names;
    }

    /** Parses {@code llvm-objdump -d -r} output; an unrecognised line fails rather than being skipped. */
    private static Map<String, Listing> parseListing(String text) {
        Map<String, Listing> sections = new LinkedHashMap<>();
        Listing current = null;
        for (String line : text.split("\n")) {
            Matcher m;
            if (line.isBlank() || line.contains("file format")) {
                continue;
            }
            if ((m = SECTION.matcher(line)).matches()) {
                current = new Listing(new ArrayList<>(), new LinkedHashMap<>(), new TreeMap<>());
                sections.put(m.group(1), current);
            } else if (current == null) {
                fail("llvm-objdump line outside a section: " + line);
            } else if ((m = SYMBOL.matcher(line)).matches()) {
                current.symbols().put(m.group(2), Long.parseLong(m.group(1), 16));
            } else if ((m = INSN.matcher(line)).matches()) {
                byte[] raw = HexFormat.ofDelimiter(" ").parseHex(m.group(2));
                current.lines().add(new Line(Integer.parseInt(m.group(1)), raw, m.group(3)));
            } else if ((m = RELOC.matcher(line)).matches()) {
                current.relocations().put((int) (Long.parseLong(m.group(1), 16) / InsnCodec.SLOT), m.group(3));
            } else {
                fail("unrecognised llvm-objdump line: \"" + line + "\"");
            }
        }
        return sections;
    }

    // -------------------------------------------------------------------------------------------
    // Processes

    /** {@return true when the command starts and exits with 0 within the timeout} */
    private static boolean runs(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Runs a tool to completion within the timeout; {@return its stdout}, failing with its stderr otherwise. */
    private static String run(String... command) throws IOException {
        Path out = Files.createTempFile(work, "out", ".txt");
        Path err = Files.createTempFile(work, "err", ".txt");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        boolean finished;
        try {
            finished = p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
        if (!finished) {
            p.destroyForcibly();
        }
        String stderr = Files.readString(err, StandardCharsets.UTF_8);
        if (!finished || p.exitValue() != 0) {
            fail(String.join(" ", command) + (finished ? " exited with " + p.exitValue() : " timed out after "
                    + TIMEOUT_SECONDS + " s") + "\n" + stderr);
        }
        return Files.readString(out, StandardCharsets.UTF_8);
    }
}
