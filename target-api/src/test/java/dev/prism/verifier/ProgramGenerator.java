package dev.prism.verifier;

import dev.prism.isa.AluOp;
import dev.prism.isa.Insn;
import dev.prism.isa.Reg;
import dev.prism.isa.Width;
import dev.prism.program.Program;
import java.util.Random;

/**
 * Random XDP programs in assembler text, mostly valid and aimed at the verifier's decisions:
 * packet bounds checks (sometimes off by one or missing), packet loads and stores at offsets
 * around the proven range, variable offsets masked (or not), stack spills and fills, map
 * lookups with and without null checks, value accesses at and past value_size, counted loops,
 * masked variable offsets into arrays on the stack (written whole, in part or not at all),
 * loops bounded by the packet (a pointer moving toward data_end or toward data + n),
 * BPF-to-BPF calls (pointers into the caller's stack, packet bounds, the callee's own frame).
 * Registers: r2 = data, r3 = data_end, r6 = ctx, reloaded after calls;
 * r4, r5, r7, r8, r9 are scratch.
 */
public final class ProgramGenerator {
    /** The map every generated program may use: map 0, an array of 4 values of 16 bytes. */
    public static final String MAP = "counts array key 4 value 16 entries 4";

    private final Random rnd;
    private int labels;

    public ProgramGenerator(long seed) {
        this.rnd = new Random(seed);
    }

    public String next() {
        StringBuilder sb = new StringBuilder();
        sb.append("mov %r6, %r1\n");
        reload(sb);
        sb.append("mov %r4, 0\nmov %r5, 0\nmov %r7, 0\nmov %r8, 0\nmov %r9, 0\n");
        int blocks = 1 + rnd.nextInt(8);
        functions = new StringBuilder();
        for (int i = 0; i < blocks; i++) {
            if (rnd.nextInt(8) == 0) {
                call(sb);
            } else {
                block(sb);
            }
        }
        sb.append("out:\nmov %r0, 2\nexit\n");
        return sb.append(functions).toString();
    }

    /** Functions called by the program, appended after its exit. */
    private StringBuilder functions;

    /**
     * A BPF-to-BPF call: the callee gets a pointer into the caller's stack (maybe not written),
     * or the packet bounds (checked, or not quite), or uses its own frame.
     */
    private void call(StringBuilder sb) {
        String f = "f" + labels++;
        switch (rnd.nextInt(3)) {
            case 0 -> {
                int slot = 8 * (2 + rnd.nextInt(4));
                if (rnd.nextInt(4) != 0) {
                    sb.append("stdw [%r10-").append(slot).append("], 7\n");
                }
                sb.append("mov %r1, %r10\nadd %r1, -").append(slot).append("\ncall local ").append(f).append('\n');
                functions.append(f).append(":\nldxdw %r0, [%r1+0]\nstdw [%r1+0], 1\nexit\n");
            }
            case 1 -> {
                int k = 1 + rnd.nextInt(40);
                int at = Math.max(0, k - 1 + rnd.nextInt(3) - 1);
                sb.append("mov %r1, %r2\nmov %r2, %r3\ncall local ").append(f).append('\n');
                String fail = "x" + labels++;
                functions.append(f).append(":\nmov %r3, %r1\nadd %r3, ").append(k).append("\njgt %r3, %r2, ").append(fail)
                        .append("\nldxb %r0, [%r1+").append(at).append("]\nexit\n").append(fail).append(":\nmov %r0, 0\nexit\n");
            }
            default -> {
                sb.append("call local ").append(f).append('\n');
                functions.append(f).append(":\nstdw [%r10-").append(8 * (1 + rnd.nextInt(4))).append("], 5\nldxdw %r0, [%r10-8]\nexit\n");
            }
        }
        sb.append("mov %r4, %r0\n");
        reload(sb);
    }

    private void reload(StringBuilder sb) {
        sb.append("ldxw %r2, [%r6+0]\nldxw %r3, [%r6+4]\n");
    }

    private String scratch() {
        return new String[] {"%r4", "%r5", "%r7", "%r8", "%r9"}[rnd.nextInt(5)];
    }

    private String size() {
        return new String[] {"b", "h", "w", "dw"}[rnd.nextInt(4)];
    }

    private int bytes(String size) {
        return switch (size) {
            case "b" -> 1;
            case "h" -> 2;
            case "w" -> 4;
            default -> 8;
        };
    }

    private String label() {
        return "l" + labels++;
    }

    private void block(StringBuilder sb) {
        if (rnd.nextInt(12) == 0) {
            packetLoop(sb);
            return;
        }
        switch (rnd.nextInt(12)) {
            case 0, 1 -> { // a bounds check, then accesses near its limit
                int n = rnd.nextInt(64);
                String r = scratch();
                sb.append("mov ").append(r).append(", %r2\nadd ").append(r).append(", ").append(n).append('\n');
                sb.append(rnd.nextInt(4) == 0 ? "jge " : "jgt ").append(r).append(", %r3, out\n");
                for (int k = 0; k < 1 + rnd.nextInt(3); k++) {
                    String sz = size();
                    int off = Math.max(0, n - bytes(sz) + rnd.nextInt(3) - 1);
                    if (rnd.nextBoolean()) {
                        sb.append("ldx").append(sz).append(' ').append(scratch()).append(", [%r2+").append(off).append("]\n");
                    } else {
                        sb.append("stx").append(sz).append(" [%r2+").append(off).append("], ").append(scratch()).append('\n');
                    }
                }
            }
            case 2 -> { // a packet access with no check of its own (valid only if an earlier check covers it)
                sb.append("ldx").append(size()).append(' ').append(scratch()).append(", [%r2+").append(rnd.nextInt(40)).append("]\n");
            }
            case 3 -> { // variable offset, masked, checked
                String v = scratch();
                int mask = new int[] {7, 15, 31, 63}[rnd.nextInt(4)];
                sb.append("ldxb ").append(v).append(", [%r6+12]\n"); // ingress_ifindex bits: any value
                sb.append("and ").append(v).append(", ").append(mask).append('\n');
                sb.append("mov %r8, %r2\nadd %r8, ").append(v).append('\n');
                sb.append("mov %r9, %r8\nadd %r9, ").append(rnd.nextInt(10)).append('\n');
                sb.append("jgt %r9, %r3, out\n");
                sb.append("ldx").append(size()).append(" %r4, [%r8+").append(rnd.nextInt(6)).append("]\n");
            }
            case 4, 5 -> { // scalar arithmetic
                String[] ops = {"add", "sub", "mul", "div", "mod", "or", "and", "xor", "lsh", "rsh", "arsh"};
                String op = ops[rnd.nextInt(ops.length)] + (rnd.nextBoolean() ? "32" : "");
                sb.append(op).append(' ').append(scratch()).append(", ")
                        .append(rnd.nextBoolean() ? scratch() : Integer.toString(rnd.nextInt(64) - 8)).append('\n');
            }
            case 6 -> { // stack spill and fill
                int slot = 8 * (1 + rnd.nextInt(8));
                String r = rnd.nextInt(4) == 0 ? "%r2" : scratch();
                sb.append("stxdw [%r10-").append(slot).append("], ").append(r).append('\n');
                if (rnd.nextBoolean()) {
                    sb.append("ldxdw ").append(scratch()).append(", [%r10-").append(slot + (rnd.nextInt(6) == 0 ? 8 : 0)).append("]\n");
                }
            }
            case 7, 8 -> { // map lookup, maybe null-checked, value accessed near value_size
                sb.append("stw [%r10-4], ").append(rnd.nextInt(6)).append('\n');
                sb.append("lddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\n");
                String skip = label();
                if (rnd.nextInt(5) != 0) {
                    sb.append("jeq %r0, 0, ").append(skip).append('\n');
                }
                String sz = size();
                int off = rnd.nextInt(18 - bytes(sz) + 2);
                if (rnd.nextBoolean()) {
                    sb.append("ldx").append(sz).append(" %r4, [%r0+").append(off).append("]\n");
                } else {
                    sb.append("mov %r5, 1\nlock add [%r0+").append(off & ~7).append("], %r5\n");
                }
                sb.append(skip).append(":\n");
                reload(sb);
            }
            case 9 -> { // a counted loop, sometimes touching the packet with its counter
                String top = label();
                int n = 1 + rnd.nextInt(40);
                sb.append("mov %r7, 0\n").append(top).append(":\nadd %r7, 1\n");
                if (rnd.nextBoolean()) {
                    sb.append("mov %r8, %r2\nadd %r8, %r7\nmov %r9, %r8\nadd %r9, 1\njgt %r9, %r3, out\nldxb %r4, [%r8+0]\n");
                }
                sb.append(rnd.nextInt(10) == 0 ? "jne" : "jlt").append(" %r7, ").append(n).append(", ").append(top).append('\n');
            }
            case 10 -> { // a variable stack offset: a masked index into an array on the stack
                int base = 8 * (1 + rnd.nextInt(6));
                for (int k = base; k > 0 && rnd.nextInt(3) != 0; k -= 8) {
                    sb.append("stdw [%r10-").append(k).append("], ").append(rnd.nextInt(3)).append('\n'); // often all of it
                }
                String v = scratch();
                int mask = new int[] {3, 7, 8, 12, 14, 15, 16, 24, 31}[rnd.nextInt(9)];
                sb.append("ldxb ").append(v).append(", [%r6+12]\n");
                sb.append("and ").append(v).append(", ").append(mask).append('\n');
                sb.append("mov %r8, %r10\nadd %r8, -").append(base).append("\nadd %r8, ").append(v).append('\n');
                String sz = size();
                int off = rnd.nextInt(4) == 0 ? rnd.nextInt(9) - 4 : 0;
                switch (rnd.nextInt(3)) {
                    case 0 -> sb.append("st").append(sz).append(" [%r8").append(off < 0 ? "" : "+").append(off).append("], ")
                            .append(rnd.nextInt(3)).append('\n');
                    case 1 -> sb.append("stx").append(sz).append(" [%r8").append(off < 0 ? "" : "+").append(off).append("], ")
                            .append(rnd.nextInt(6) == 0 ? "%r2" : scratch()).append('\n');
                    default -> sb.append("ldx").append(sz).append(' ').append(scratch()).append(", [%r8")
                            .append(off < 0 ? "" : "+").append(off).append("]\n");
                }
                if (rnd.nextBoolean()) { // read back at a constant offset, written or perhaps not
                    sb.append("ldxb ").append(scratch()).append(", [%r10-").append(base - rnd.nextInt(base)).append("]\n");
                }
            }
            default -> { // a comparison that refines a scalar used as an index into the map value
                sb.append("ldxb %r7, [%r6+12]\n");
                String skip = label();
                sb.append("jgt %r7, ").append(rnd.nextInt(20)).append(", ").append(skip).append('\n');
                sb.append("stw [%r10-4], 1\nlddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\n");
                sb.append("jeq %r0, 0, ").append(skip).append('\n');
                sb.append("add %r0, %r7\nldxb %r4, [%r0+0]\n");
                sb.append(skip).append(":\n");
                reload(sb);
            }
        }
    }

    /**
     * A loop bounded by the packet, as clang writes one: a pointer from data (or from a checked
     * variable offset) moves by a constant (rarely 0: never ending) toward data_end, checked
     * each iteration (the compared pointer a copy plus the access size, sometimes off by one),
     * or toward data + n after one check of data + n (accesses near the last byte). r8 is the
     * pointer, r9 the compared copy or the bound, r5 the loop's sum.
     */
    private void packetLoop(StringBuilder sb) {
        String top = label();
        String done = label();
        int step = rnd.nextInt(16) == 0 ? 0 : 1 + rnd.nextInt(8);
        String sz = size();
        int width = bytes(sz);
        sb.append("mov %r8, %r2\n");
        if (rnd.nextInt(4) == 0) { // start at a variable offset: ihl * 4
            sb.append("ldxw %r4, [%r6+12]\nand %r4, 15\nlsh %r4, 2\nadd %r8, %r4\n");
        }
        if (rnd.nextBoolean()) { // toward data_end: check p + width (give or take a byte) every iteration
            int check = Math.max(1, width + rnd.nextInt(4) / 3 * (rnd.nextBoolean() ? 1 : -1));
            sb.append(top).append(":\nmov %r9, %r8\nadd %r9, ").append(check).append('\n');
            sb.append(rnd.nextInt(4) == 0 ? "jge" : "jgt").append(" %r9, %r3, ").append(done).append('\n');
            sb.append("ldx").append(sz).append(" %r4, [%r8+0]\nadd %r5, %r4\n");
            sb.append("add %r8, ").append(step).append("\nja ").append(top).append('\n');
        } else { // toward data + n, checked once
            int n = 1 + rnd.nextInt(48);
            int off = Math.max(0, rnd.nextInt(3) - 1 + (rnd.nextBoolean() ? 0 : n % 4));
            sb.append("mov %r9, %r2\nadd %r9, ").append(n).append("\njgt %r9, %r3, ").append(done).append('\n');
            sb.append(top).append(":\nldx").append(sz).append(" %r4, [%r8+").append(off).append("]\nadd %r5, %r4\n");
            sb.append("add %r8, ").append(step).append('\n');
            sb.append(rnd.nextBoolean() ? "jlt" : "jle").append(" %r8, %r9, ").append(top).append('\n');
        }
        sb.append(done).append(":\n");
    }

    /**
     * {@return whether the program computes with an address}: a subtraction the verifier lets
     * through as "a meaningless but harmless number" (32 bits with a pointer operand; two
     * pointers into different regions), whose value depends on where each target puts its
     * memory (the interpreter's virtual addresses are not the host's), so no two targets need
     * agree on it. Differences of packet pointers are offsets within one frame and stay in.
     */
    public static boolean leaksAnAddress(VerifiedProgram v) {
        Program p = v.normalized();
        for (int pc = 0; pc < p.length(); pc++) {
            Facts f = v.facts(pc);
            if (f == null || !(p.at(pc) instanceof Insn.Alu a) || a.op() != AluOp.SUB) {
                continue;
            }
            Facts.Kind dst = f.registers().get(a.dst().n()).kind();
            Facts.Kind src = a.src() instanceof Reg r ? f.registers().get(r.n()).kind() : Facts.Kind.SCALAR;
            boolean dstPtr = pointer(dst);
            boolean srcPtr = pointer(src);
            if (a.width() == Width.W32 && (dstPtr || srcPtr)) {
                return true;
            }
            if (dstPtr && srcPtr && !(packet(dst) && packet(src))) {
                return true;
            }
        }
        return false;
    }

    private static boolean pointer(Facts.Kind k) {
        return k != Facts.Kind.SCALAR && k != Facts.Kind.UNINIT;
    }

    private static boolean packet(Facts.Kind k) {
        return k == Facts.Kind.PACKET || k == Facts.Kind.PACKET_END || k == Facts.Kind.PACKET_META;
    }
}
