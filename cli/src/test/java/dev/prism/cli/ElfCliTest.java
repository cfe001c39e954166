package dev.prism.cli;

import static dev.prism.cli.CliTest.parse;
import static dev.prism.cli.CliTest.prism;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.prism.cli.CliTest.Result;
import dev.prism.testing.Host;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code prism run} and {@code prism disasm} on ELF objects that clang-19 builds from the C
 * below, run on the interpreter (which runs everywhere).
 */
class ElfCliTest {
    private static final String CLANG = "clang-19";

    /** What the programs below need of a libbpf header, spelled out so the test stands alone. */
    private static final String HEADER = """
            typedef unsigned char __u8;
            typedef unsigned int __u32;
            typedef unsigned long long __u64;
            #define SEC(name) __attribute__((section(name), used))
            #define __uint(name, val) int (*name)[val]
            #define __type(name, val) typeof(val) *name
            struct xdp_md { __u32 data; __u32 data_end; __u32 data_meta; __u32 ingress_ifindex;
                            __u32 rx_queue_index; __u32 egress_ifindex; };
            static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *) 1;
            static long (*bpf_tail_call)(void *ctx, void *map, __u32 index) = (void *) 12;
            static long (*bpf_ringbuf_output)(void *rb, void *data, __u64 size, __u64 flags) = (void *) 130;
            """;

    /**
     * One XDP program: the verdict for a packet is looked up by its first byte (XDP_PASS when
     * absent); XDP_TX also writes 0xff over the second byte. Counts per action, a ring buffer
     * record of the first byte, a .rodata default, a static function.
     */
    private static final String VERDICT = HEADER + """
            struct { __uint(type, 1); __uint(max_entries, 16); __type(key, __u32); __type(value, __u32); }
                verdicts SEC(".maps");
            struct { __uint(type, 2); __uint(max_entries, 4); __type(key, __u32); __type(value, __u64); }
                counts SEC(".maps");
            struct { __uint(type, 27); __uint(max_entries, 4096); } events SEC(".maps");
            const volatile __u32 default_action = 2;

            static __attribute__((noinline)) __u32 first_byte(struct xdp_md *ctx)
            {
                __u8 *data = (void *)(long)ctx->data;
                __u8 *end = (void *)(long)ctx->data_end;
                if (data + 2 > end)
                    return 0;
                return data[0];
            }

            SEC("xdp")
            int xdp_verdict(struct xdp_md *ctx)
            {
                __u32 key = first_byte(ctx);
                __u32 *v = bpf_map_lookup_elem(&verdicts, &key);
                __u32 action = (v ? *v : default_action) & 3;
                __u64 *count = bpf_map_lookup_elem(&counts, &action);
                __u8 *data = (void *)(long)ctx->data;
                __u8 *end = (void *)(long)ctx->data_end;

                if (count)
                    __sync_fetch_and_add(count, 1);
                bpf_ringbuf_output(&events, &key, sizeof(key), 0);
                if (action == 3 && data + 2 <= end)
                    data[1] = 0xff;
                return action;
            }

            char _license[] SEC("license") = "GPL";
            """;

    /** Two programs: the entry tail-calls slot 1 of {@code jmp} and passes when it is empty. */
    private static final String TAILCALL = HEADER + """
            struct { __uint(type, 3); __uint(max_entries, 4); __uint(key_size, 4); __uint(value_size, 4); }
                jmp SEC(".maps");

            SEC("xdp")
            int xdp_entry(struct xdp_md *ctx)
            {
                bpf_tail_call(ctx, &jmp, 1);
                return 2;
            }

            SEC("xdp/drop")
            int xdp_dropper(struct xdp_md *ctx)
            {
                return 1;
            }

            char _license[] SEC("license") = "GPL";
            """;

    /**
     * Map-in-map, redirect and perf output: the entry reads element 0 of the map in slot 1 of
     * {@code outer} (initialized with {@code inner}) and redirects through {@code cpus} to that
     * value, after sending the value to the perf event array.
     */
    private static final String NESTED = HEADER + """
            #define __array(name, val) typeof(val) *name[]
            static long (*bpf_redirect_map)(void *map, __u64 key, __u64 flags) = (void *) 51;
            static long (*bpf_perf_event_output)(void *ctx, void *map, __u64 flags, void *data, __u64 size) = (void *) 25;
            struct inner_def { __uint(type, 2); __uint(max_entries, 2); __type(key, __u32); __type(value, __u32); };
            struct inner_def inner SEC(".maps");
            struct { __uint(type, 12); __uint(max_entries, 4); __type(key, __u32); __array(values, struct inner_def); }
                outer SEC(".maps") = { .values = { [1] = &inner } };
            struct { __uint(type, 16); __uint(max_entries, 2); __type(key, __u32); __type(value, __u32); } cpus SEC(".maps");
            struct { __uint(type, 4); __uint(max_entries, 2); __type(key, __u32); __type(value, __u32); } events SEC(".maps");

            SEC("xdp")
            int xdp_nested(struct xdp_md *ctx)
            {
                __u32 slot = 1, k = 0;
                __u32 *v;
                void *m = bpf_map_lookup_elem(&outer, &slot);

                if (!m)
                    return 0;
                v = bpf_map_lookup_elem(m, &k);
                if (!v)
                    return 0;
                bpf_perf_event_output(ctx, &events, 0xffffffffULL, v, sizeof(*v));
                return bpf_redirect_map(&cpus, *v, 2);
            }

            char _license[] SEC("license") = "GPL";
            """;

    /** A 14-byte frame starting with {@code first}. */
    private static String packet(int first) {
        byte[] p = new byte[14];
        p[0] = (byte) first;
        p[12] = 0x08;
        return HexFormat.of().formatHex(p);
    }

    @TempDir
    static Path dir;

    private static Path verdict;
    private static Path tailcall;
    private static Path nested;

    @BeforeAll
    static void build() throws IOException, InterruptedException {
        Host.require("clang", clangWorks(), CLANG + " is needed to build the test objects");
        verdict = compile("verdict", VERDICT);
        tailcall = compile("tailcall", TAILCALL);
        nested = compile("nested", NESTED);
    }

    private static boolean clangWorks() {
        try {
            Process p = new ProcessBuilder(CLANG, "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Compiles in the directory, where clang finds the source text it puts in the BTF line info. */
    private static Path compile(String name, String source) throws IOException, InterruptedException {
        Files.writeString(dir.resolve(name + ".c"), source);
        Process p = new ProcessBuilder(CLANG, "-O2", "-g", "-target", "bpf", "-mcpu=v3", "-Wall",
                "-c", name + ".c", "-o", name + ".o").directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "clang timed out");
        assertEquals(0, p.exitValue(), out);
        return dir.resolve(name + ".o");
    }

    private static Result ok(String... args) {
        Result r = prism(args);
        assertEquals(0, r.exit(), () -> "exit " + r.exit() + ": " + r.err() + r.out());
        return r;
    }

    /**
     * The native baseline builds verdict.c (found beside verdict.o), which declares its own
     * kernel-layout struct xdp_md instead of including prism_bpf.h: its cells say "not
     * supported" instead of calling code that would read half a pointer; the run goes on.
     */
    @Test
    void benchNativeRefusesCWithoutTheShim() throws IOException {
        Result r = prism("bench", verdict.toString(), "--targets", "interpreter,native", "--packet-size", "64",
                "--repeat", "10", "--batches", "1", "--warmup", "0", "--compile-repeat", "1", "--report", "json");
        assertEquals(0, r.exit(), r.err());
        JsonNode run = parse(r.out()).get("programs").get(0).get("runs").get(1);
        assertEquals("native", run.get("target").asText());
        assertEquals("not-supported", run.get("measurement").get("status").asText(), run.toString());
        assertTrue(run.get("measurement").get("reason").asText().contains("was not built with the native prism_bpf.h"),
                run.toString());
    }

    @Test
    void runsAnXdpObjectAndNamesTheAction() {
        Result text = ok("run", verdict.toString(), "--packet", packet(1));
        assertEquals("r0 = 0x2 (2) XDP_PASS\n", text.out());

        JsonNode doc = parse(ok("run", verdict.toString(), "--packet", packet(1), "--json", "--repeat", "2").out());
        assertEquals(2, doc.get("r0").asInt());
        assertEquals("XDP_PASS", doc.get("action").asText());
        assertEquals(packet(1), doc.get("packet_after").asText(), "unchanged, and there is no metadata");
        assertTrue(doc.get("ns_per_run").isNumber());
        assertFalse(doc.has("maps"));
    }

    @Test
    void mapSettingsChangeTheResult() {
        Result drop = ok("run", verdict.toString(), "--packet", packet(0x42), "--map", "verdicts=42000000:01000000");
        assertEquals("r0 = 0x1 (1) XDP_DROP\n", drop.out());

        // XDP_TX also rewrites the second byte
        Result tx = ok("run", verdict.toString(), "--packet", packet(0x42), "--map", "verdicts=42000000:03000000");
        String after = "42ff" + packet(0x42).substring(4);
        assertEquals("r0 = 0x3 (3) XDP_TX\npacket after: " + after + "\n", tx.out());

        Result badSize = prism("run", verdict.toString(), "--packet", packet(1), "--map", "verdicts=42:01000000");
        assertEquals(2, badSize.exit());
        badSize.assertOneLineError();
        assertTrue(badSize.err().contains("the key is 1 bytes, map verdicts has 4-byte keys"), badSize.err());

        Result noMap = prism("run", verdict.toString(), "--packet", packet(1), "--map", "nope=00000000:00000000");
        assertEquals(2, noMap.exit());
        noMap.assertOneLineError();
        assertTrue(noMap.err().contains("no map 'nope' (maps: verdicts, counts, events, .rodata)"), noMap.err());
    }

    /** Maps come in symbol-table order (clang's: outer, events, cpus, inner); inner is map 3. */
    @Test
    void innerMapsRedirectTargetsAndPerfEvents() {
        Result r = ok("run", nested.toString(), "--packet", packet(0x42), "--dump-maps",
                "--map", "inner=00000000:01000000", "--map", "cpus=01000000:40000000");
        assertEquals("""
                r0 = 0x4 (4) XDP_REDIRECT
                redirect to: cpu 1 (map cpus)
                perf event: events cpu 0: 01000000
                map outer (array_of_maps, 1 element):
                  01000000 -> 03000000 (map inner, also outer[1])
                map events (perf_event_array, 2 slots): its records are shown with each run ('perf event:')
                map cpus (cpumap, 1 element):
                  01000000 -> 40000000
                map inner (array, 2 entries, non-zero values only):
                  00000000 -> 01000000
                """, r.out());
        // the inner map addressed through its slot; an empty slot and a plain map are refused by name
        Result viaSlot = ok("run", nested.toString(), "--packet", packet(0x42), "--map", "outer[1]=00000000:00000000");
        assertTrue(viaSlot.out().startsWith("r0 = 0x2 (2) XDP_PASS"), viaSlot.out());
        Result empty = prism("run", nested.toString(), "--packet", packet(0x42), "--map", "outer[2]=00000000:00000000");
        assertEquals(2, empty.exit());
        assertTrue(empty.err().contains("map outer[2]: that slot of outer holds no map"), empty.err());
        Result plain = prism("run", nested.toString(), "--packet", packet(0x42), "--map", "cpus[0]=00000000:00000000");
        assertEquals(2, plain.exit());
        assertTrue(plain.err().contains("cpus is a cpumap, not a map of maps"), plain.err());
        JsonNode doc = parse(ok("run", nested.toString(), "--packet", packet(0x42), "--json",
                "--map", "inner=00000000:01000000", "--map", "cpus=01000000:40000000").out());
        assertEquals("{\"cpu\":1,\"map\":\"cpus\"}", doc.get("redirect").toString());
        assertEquals("[{\"map\":\"events\",\"cpu\":0,\"data\":\"01000000\"}]", doc.get("events").toString());
    }

    @Test
    void dumpMapsListsEveryMap() {
        Result r = ok("run", verdict.toString(), "--packet", packet(0x42), "--dump-maps",
                "--map", "verdicts=42000000:01000000", "--map", "verdicts=07000000:02000000");
        assertEquals("""
                r0 = 0x1 (1) XDP_DROP
                map verdicts (hash, 2 elements):
                  07000000 -> 02000000
                  42000000 -> 01000000
                map counts (array, 4 entries, non-zero values only):
                  01000000 -> 0100000000000000
                map events (ringbuf, 1 record, drained):
                  42000000
                map .rodata (array, 1 entry, non-zero values only):
                  00000000 -> 02000000
                """, r.out());

        JsonNode maps = parse(ok("run", verdict.toString(), "--packet", packet(0x42), "--dump-maps", "--json").out())
                .get("maps");
        assertEquals("[{\"key\":\"00000000\",\"value\":\"02000000\"}]", maps.get(".rodata").toString());
        assertEquals("[{\"key\":\"02000000\",\"value\":\"0100000000000000\"}]", maps.get("counts").toString());
        assertEquals("[{\"value\":\"42000000\"}]", maps.get("events").toString());
        assertEquals(0, maps.get("verdicts").size());
    }

    @Test
    void pcapRunsEveryPacketAndSummarises() throws IOException {
        Path pcap = dir.resolve("three.pcap");
        Files.write(pcap, pcap(true, List.of(packet(1), packet(0x42), packet(1))));
        Result r = ok("run", verdict.toString(), "--pcap", pcap.toString(), "--map", "verdicts=01000000:01000000");
        assertEquals("3 packets from " + pcap + "\n"
                + "action      count  percent\n"
                + "XDP_DROP        2    66.7%\n"
                + "XDP_PASS        1    33.3%\n", r.out());

        // big-endian, with a runt the interpreter refuses as Linux does: listed, exit 1
        Path mixed = dir.resolve("mixed.pcap");
        Files.write(mixed, pcap(false, List.of(packet(1), "0102", packet(0x42))));
        Result failed = prism("run", verdict.toString(), "--pcap", mixed.toString(), "--json", "--repeat", "2");
        assertEquals(1, failed.exit(), failed.err());
        JsonNode doc = parse(failed.out());
        assertEquals(3, doc.get("packets").asInt());
        assertEquals("{\"XDP_PASS\":2}", doc.get("actions").toString());
        assertEquals(2, doc.get("failed").get(0).get("packet").asInt());
        assertEquals(24 + 16 + 14, doc.get("failed").get(0).get("offset").asInt());
        assertTrue(doc.get("ns_per_run").isNumber());
    }

    /** The same object, packets and settings on the kernel: the same actions, packets and maps. */
    @Test
    void linuxAgreesWithTheInterpreter() throws IOException {
        Host.requireLinuxBpf();
        Path pcap = dir.resolve("agree.pcap");
        Files.write(pcap, pcap(true, List.of(packet(1), packet(0x42), packet(7), packet(1))));
        String[] settings = {"--map", "verdicts=42000000:03000000", "--map", "verdicts=01000000:01000000"};
        for (String[] input : List.of(new String[] {"--pcap", pcap.toString()}, new String[] {"--packet", packet(0x42)})) {
            JsonNode interpreter = null;
            for (String target : List.of("interpreter", "linux")) {
                List<String> args = new java.util.ArrayList<>(List.of("run", verdict.toString(), "--json", "--dump-maps",
                        "--target", target));
                args.addAll(List.of(input));
                args.addAll(List.of(settings));
                JsonNode doc = parse(ok(args.toArray(String[]::new)).out());
                if (interpreter == null) {
                    interpreter = doc;
                } else {
                    assertEquals(interpreter, doc, "linux vs interpreter, " + String.join(" ", input));
                }
            }
        }
    }

    @Test
    void badCapturesAreOneLineErrors() throws IOException {
        Path ng = dir.resolve("capture.pcapng");
        Files.write(ng, new byte[] {0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a});
        Result r = prism("run", verdict.toString(), "--pcap", ng.toString());
        assertEquals(2, r.exit());
        r.assertOneLineError();
        assertEquals("prism: " + ng + ": not supported: pcapng; convert with editcap -F pcap\n", r.err());

        Path cut = dir.resolve("cut.pcap");
        byte[] whole = pcap(true, List.of(packet(1), packet(2)));
        Files.write(cut, Arrays.copyOf(whole, whole.length - 4));
        Result truncated = prism("run", verdict.toString(), "--pcap", cut.toString());
        assertEquals(2, truncated.exit());
        truncated.assertOneLineError();
        assertEquals("prism: " + cut + ": at byte offset " + (24 + 16 + 14 + 16) + ": truncated pcap: packet 2 needs 14 "
                + "bytes, the file ends after 10\n", truncated.err());

        Path sll = dir.resolve("sll.pcap");
        byte[] header = pcap(true, List.of());
        header[20] = 113;
        Files.write(sll, header);
        Result link = prism("run", verdict.toString(), "--pcap", sll.toString());
        assertEquals(2, link.exit());
        link.assertOneLineError();
        assertTrue(link.err().contains("link type 113 (LINUX_SLL, 'any' interface) is not Ethernet (1)"), link.err());
    }

    @Test
    void severalProgramsNeedASection() {
        Result r = prism("run", tailcall.toString(), "--packet", packet(1));
        assertEquals(2, r.exit());
        r.assertOneLineError();
        assertEquals("prism: " + tailcall + ": holds 2 programs, pick one with --section: xdp_entry (xdp), "
                + "xdp_dropper (xdp/drop)\n", r.err());

        assertEquals("r0 = 0x2 (2) XDP_PASS\n", ok("run", tailcall.toString(), "--section", "xdp",
                "--packet", packet(1)).out());
        // the other programs are loaded too: the tail call reaches one once placed in the prog array
        assertEquals("r0 = 0x1 (1) XDP_DROP\n", ok("run", tailcall.toString(), "--section", "xdp_entry",
                "--packet", packet(1), "--map", "jmp=01000000:xdp/drop").out());
        assertEquals("r0 = 0x1 (1) XDP_DROP\n", ok("run", tailcall.toString(), "--section", "xdp/drop",
                "--packet", packet(1)).out());

        Result unknown = prism("run", tailcall.toString(), "--section", "xdp", "--packet", packet(1),
                "--map", "jmp=01000000:nope");
        assertEquals(2, unknown.exit());
        unknown.assertOneLineError();
        assertTrue(unknown.err().contains("no program 'nope' (programs: xdp_entry (xdp), xdp_dropper (xdp/drop))"),
                unknown.err());
    }

    @Test
    void disasmListsProgramsWithFunctionsAndMaps() {
        String all = ok("disasm", tailcall.toString()).out();
        List<String> headers = all.lines().filter(l -> l.startsWith("program ")).toList();
        assertEquals(2, headers.size(), all);
        assertTrue(headers.get(0).matches("program xdp_entry \\(section xdp, type xdp, \\d+ insns\\)"), headers.get(0));
        assertTrue(headers.get(1).startsWith("program xdp_dropper (section xdp/drop, type xdp, "), headers.get(1));
        assertTrue(all.contains("lddw %r2, map_idx 0  # map jmp\n"), all);

        String one = ok("disasm", verdict.toString()).out();
        assertTrue(one.startsWith("program xdp_verdict (section xdp, type xdp, "), one);
        assertTrue(one.contains("\nxdp_verdict:\n"), one);
        assertTrue(one.contains("\nfirst_byte:\n"), one);
        assertTrue(one.lines().anyMatch(l -> l.matches(" *\\d+: call local [+-]\\d+  # -> \\d+ <first_byte>")), one);
        assertTrue(one.contains("# map verdicts\n"), one);
        assertTrue(one.contains("# map counts\n"), one);
        assertTrue(one.contains("# map events\n"), one);
        assertTrue(one.contains("# map .rodata\n"), one);
        assertFalse(one.lines().anyMatch(l -> l.startsWith(";")), "no source lines without -S");

        String source = ok("disasm", "-S", verdict.toString(), "--section", "xdp_verdict").out();
        assertTrue(source.lines().anyMatch(l -> l.matches("; .*verdict\\.c:\\d+: __u32 key = first_byte\\(ctx\\);")), source);
        // the source line comes before the first instruction of that line
        List<String> lines = source.lines().toList();
        int at = lines.indexOf("first_byte:");
        assertTrue(lines.get(at + 1).matches("; .*verdict\\.c:\\d+: .*first_byte.*"), source);
    }

    /** {@return a classic pcap file (microseconds) holding {@code packets}, in either byte order} */
    private static byte[] pcap(boolean littleEndian, List<String> packets) {
        ByteOrder order = littleEndian ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(24).order(order).putInt(0xa1b2c3d4).putShort((short) 2).putShort((short) 4)
                .putInt(0).putInt(0).putInt(65535).putInt(1).array());
        int second = 0;
        for (String hex : packets) {
            byte[] p = HexFormat.of().parseHex(hex);
            out.writeBytes(ByteBuffer.allocate(16).order(order).putInt(1_700_000_000 + second++).putInt(0)
                    .putInt(p.length).putInt(p.length).array());
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
