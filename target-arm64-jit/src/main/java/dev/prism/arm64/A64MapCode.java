package dev.prism.arm64;

import static dev.prism.arm64.A64Reg.X0;
import static dev.prism.arm64.A64Reg.X1;
import static dev.prism.arm64.A64Reg.X10;
import static dev.prism.arm64.A64Reg.X11;
import static dev.prism.arm64.A64Reg.X12;
import static dev.prism.arm64.A64Reg.X13;
import static dev.prism.arm64.A64Reg.X14;
import static dev.prism.arm64.A64Reg.X15;
import static dev.prism.arm64.A64Reg.X2;
import static dev.prism.arm64.A64Reg.X3;
import static dev.prism.arm64.A64Reg.X4;
import static dev.prism.arm64.A64Reg.X5;
import static dev.prism.arm64.A64Reg.X6;
import static dev.prism.arm64.A64Reg.X8;

import dev.prism.arm64.A64Assembler.Label;
import dev.prism.runtime.maps.HashLayout;
import dev.prism.runtime.maps.HashTableMap;
import java.util.Objects;

/**
 * Map operations as generated AArch64 code that runs without calling into Java: the arm64
 * counterpart of x86-64's {@code X86MapCode}, with the same contract and algorithm.
 *
 * <h2>Hash-map lookup</h2>
 * {@link #emitLookup(A64Assembler, HashLayout, boolean)} emits one leaf function, specialised
 * for one layout of {@link HashTableMap} (key size, value size, max_entries, CPUs and map type
 * are constants in the code; the table's address is an argument):
 * <pre>
 *   u64 lookup(u64 table, u64 key, u64 cpu)     AAPCS64: x0, x1, x2 -&gt; x0
 * </pre>
 * {@code table} is {@link HashTableMap#address()}, {@code key} the address of key_size bytes,
 * {@code cpu} the CPU whose value PERCPU_HASH returns (ignored by the other types). It returns
 * the native address of the value, as {@link HashTableMap#lookup} does, or 0. It clobbers x0-x6,
 * x8, x10-x15 and the flags, preserves everything else (x7, x9, x16 up), touches no stack and
 * does not change x30.
 *
 * <p><b>Algorithm.</b> Exactly the lock-free lookup of {@link HashTableMap}'s class comment:
 * the documented hash; the bucket head and each entry's {@code next} loaded with {@code ldar}
 * (acquire: AArch64 orders nothing by default, unlike x86), its hash and key with plain loads
 * after it; an entry whose hash is in another bucket restarts the walk, and so does a walk
 * longer than max_entries + 1 entries. After the 8th restart the code does what Java's
 * {@code find} does: it takes the header's spin lock (0 -&gt; 1 with acquire order: {@code casa}
 * with LSE, else an {@code ldaxr}/{@code stxr} loop; it spins, without the x86 code's
 * {@code sched_yield}, which an emulated CPU cannot make), walks once more under it, and releases
 * it with {@code stlr} of 0; a walk under the lock that would restart returns 0, as Java's does.
 * LRU_HASH: a hit sets the entry's ref word to 1 when it is 0, with a plain store.
 *
 * <p><b>Key access.</b> Only the key_size bytes at {@code key} are read: 8-byte words while 8 or
 * more bytes remain; a key of 8 or more bytes whose size is not a multiple of 8 reads its last
 * 8 bytes (overlapping the previous word) and shifts the tail down; a key shorter than 8 bytes
 * is read with overlapping 4-, 2- or 1-byte loads. Keys of up to 16 bytes are hashed and
 * compared with straight-line code, longer ones with a loop over their 8-byte words. Loads may
 * be unaligned (normal memory).
 *
 * <p><b>Differences from Java</b>, as x86-64's: a PERCPU_HASH cpu outside 0..cpus-1 gives 0
 * (Java throws); {@code table} is not checked against the layout.
 *
 * <p><b>Registers</b>: x0 table, x1 key, x3 the hash's multiplier, w4 the hash, x5 cpu *
 * value_stride, x6 entries visited in this walk, x8 restarts, w2 the next entry number, x10 the
 * current entry's address, x12 entry_size, x13 the address of entry 0 (entry n is at x13 + n *
 * entry_size), x11, x14, x15 scratch.
 */
public final class A64MapCode {
    /** Java's {@code HashTableMap.RESTARTS_BEFORE_LOCKING}. */
    static final int RESTARTS_BEFORE_LOCKING = 8;
    /** Keys up to this size are hashed and compared with straight-line code. */
    static final int UNROLLED_KEY_SIZE = 16;

    private A64MapCode() {
    }

    /**
     * Emits {@code u64 lookup(u64 table, u64 key, u64 cpu)} for maps of {@code layout} at the
     * assembler's position (see the class comment for the contract).
     *
     * @param lse whether the lock is taken with FEAT_LSE's {@code casa} (else LL/SC)
     * @return the function's offset in the assembler's code
     */
    public static int emitLookup(A64Assembler a, HashLayout layout, boolean lse) {
        Objects.requireNonNull(layout, "layout");
        return new LookupEmitter(a, layout, lse).emit();
    }


    /** One lookup function: the layout's constants and the labels shared by its parts. */
    private static final class LookupEmitter {
        private final A64Assembler a;
        private final HashLayout l;
        private final boolean lse;

        LookupEmitter(A64Assembler a, HashLayout l, boolean lse) {
            this.a = Objects.requireNonNull(a, "assembler");
            this.l = l;
            this.lse = lse;
        }

        int emit() {
            int start = a.position();
            Label notFound = new Label();
            if (l.perCpu()) {
                compare(X2, l.cpus());
                a.b(A64Cond.HS, notFound);
                a.movImm(64, X14, l.stride());
                a.mul(64, X5, X2, X14);
            }
            hash();
            a.movImm(64, X12, l.entrySize());
            a.movImm(64, X13, l.entriesOffset() - l.entrySize());
            a.add(64, X13, X13, X0);
            a.mov(64, X8, A64Reg.XZR);

            // Lock-free walks.
            Label walk = new Label();
            Label restart = new Label();
            Label lock = new Label();
            a.bind(walk);
            walk(restart, notFound, false);
            a.bind(restart);
            a.add(64, X8, X8, 1);
            a.cmp(64, X8, RESTARTS_BEFORE_LOCKING);
            a.b(A64Cond.HS, lock);
            a.b(walk);
            a.bind(notFound);
            a.mov(64, X0, A64Reg.XZR);
            a.ret();

            // The 8th restart: one walk under the header lock; a restart under it is a miss.
            a.bind(lock);
            acquireLock();
            Label lockedMiss = new Label();
            walk(lockedMiss, lockedMiss, true);
            a.bind(lockedMiss);
            a.stlr(32, A64Reg.XZR, X0);
            a.mov(64, X0, A64Reg.XZR);
            a.ret();
            return start;
        }

        /** Flags of {@code r} - {@code v} for an unsigned constant. */
        private void compare(A64Reg r, long v) {
            if (v < 4096) {
                a.cmp(64, r, (int) v);
            } else {
                a.movImm(64, X14, v);
                a.cmp(64, r, X14);
            }
        }

        /**
         * A load at {@code base + offset}: the scaled form when it fits, else the unscaled one,
         * else the offset in x15 (free wherever a far offset occurs: the tail of a long key).
         */
        private void load(int bits, A64Reg rt, A64Reg base, int offset) {
            int bytes = bits / 8;
            if (offset >= 0 && offset % bytes == 0 && offset / bytes < 4096) {
                switch (bits) {
                    case 8 -> a.ldrb(rt, base, offset);
                    case 16 -> a.ldrh(rt, base, offset);
                    default -> a.ldr(bits, rt, base, offset);
                }
            } else if (offset >= -256 && offset < 256) {
                switch (bits) {
                    case 8 -> a.ldurb(rt, base, offset);
                    case 16 -> a.ldurh(rt, base, offset);
                    default -> a.ldur(bits, rt, base, offset);
                }
            } else {
                a.movImm(64, X15, offset);
                switch (bits) {
                    case 8 -> a.ldrb(rt, base, X15);
                    case 16 -> a.ldrh(rt, base, X15, false);
                    default -> a.ldr(bits, rt, base, X15, false);
                }
            }
        }

        /** w4 = the hash of the key at x1 (x4's upper half 0). Clobbers x3, x10, x11, x14, x15. */
        private void hash() {
            int ks = l.keySize();
            int whole = ks & ~7;
            int tail = ks & 7;
            a.movImm(64, X3, HashTableMap.HASH_K);
            a.mov(64, X4, X3);
            if (ks <= UNROLLED_KEY_SIZE) {
                for (int off = 0; off < whole; off += 8) {
                    load(64, X11, X1, off);
                    mix();
                }
            } else {
                Label loop = new Label();
                a.mov(64, X10, X1);
                a.movImm(64, X14, whole / 8);
                a.bind(loop);
                a.ldr(64, X11, X10, 0);
                mix();
                a.add(64, X10, X10, 8);
                a.subs(64, X14, X14, 1, false);
                a.b(A64Cond.NE, loop);
            }
            if (tail != 0) {
                if (ks >= 8) {
                    // The key's last 8 bytes; the tail is their top `tail` bytes.
                    load(64, X11, X1, ks - 8);
                    a.lsr(64, X11, X11, 8 * (8 - tail));
                } else {
                    shortKeyWord();
                }
                mix();
            }
            a.lsr(64, X11, X4, 32);
            a.eor(32, X4, X4, X11);
        }

        /** h = (h ^ w) * K; h ^= h >>> 29 with h in x4, w in x11, K in x3. */
        private void mix() {
            a.eor(64, X4, X4, X11);
            a.mul(64, X4, X4, X3);
            a.eor(64, X4, X4, X4, A64Shift.LSR, 29);
        }

        /**
         * x11 = a key of 1..7 bytes, zero-extended, from loads inside it: two overlapping loads
         * for 3, 5, 6 and 7 bytes, OR-ed (the overlap holds the same bytes). Uses x14.
         */
        private void shortKeyWord() {
            int ks = l.keySize();
            switch (ks) {
                case 1 -> a.ldrb(X11, X1, 0);
                case 2 -> load(16, X11, X1, 0);
                case 3 -> {
                    load(16, X11, X1, 0);
                    load(16, X14, X1, 1);
                    a.orr(32, X11, X11, X14, A64Shift.LSL, 8);
                }
                case 4 -> load(32, X11, X1, 0);
                default -> {
                    load(32, X11, X1, 0);
                    load(32, X14, X1, ks - 4);
                    a.orr(64, X11, X11, X14, A64Shift.LSL, 8 * (ks - 4));
                }
            }
        }

        /**
         * One walk of the chain of w4's bucket. A hit returns from the function (releasing the
         * lock when {@code locked}); the end of the chain branches to {@code miss}; a foreign
         * hash or a walk of more than max_entries + 1 entries to {@code restart}.
         */
        private void walk(Label restart, Label miss, boolean locked) {
            Label loop = new Label();
            Label candidate = new Label();
            int mask = l.mask();
            if (mask == 0) {
                a.add(64, X11, X0, HashTableMap.HEADER_SIZE);
            } else {
                a.and(32, X11, X4, mask);
                a.add(64, X11, X0, X11, A64Shift.LSL, 2);
                a.add(64, X11, X11, HashTableMap.HEADER_SIZE);
            }
            a.ldar(32, X2, X11);
            a.mov(64, X6, A64Reg.XZR);
            a.bind(loop);
            a.cbz(32, X2, miss);
            compare(X6, l.maxEntries());
            a.b(A64Cond.HI, restart);
            a.add(64, X6, X6, 1);
            a.madd(64, X10, X2, X12, X13);
            a.ldar(32, X2, X10); // next (offset 0), with acquire order before the hash and key loads
            a.ldr(32, X11, X10, HashTableMap.ENT_HASH);
            a.cmp(32, X11, X4);
            a.b(A64Cond.EQ, candidate);
            // Another hash: same bucket, go on; another bucket, e was reused under us.
            if (mask == 0) {
                a.b(loop);
            } else {
                a.eor(32, X11, X11, X4);
                a.tst(32, X11, mask);
                a.b(A64Cond.EQ, loop);
                a.b(restart);
            }

            a.bind(candidate);
            compareKey(loop);
            if (l.lru()) {
                Label referenced = new Label();
                a.ldr(32, X11, X10, HashTableMap.ENT_REF);
                a.cbnz(32, X11, referenced);
                a.movImm(32, X11, 1);
                a.str(32, X11, X10, HashTableMap.ENT_REF);
                a.bind(referenced);
            }
            a.add(64, X11, X10, l.valueOffset());
            if (l.perCpu()) {
                a.add(64, X11, X11, X5);
            }
            if (locked) {
                a.stlr(32, A64Reg.XZR, X0);
            }
            a.mov(64, X0, X11);
            a.ret();
        }

        /**
         * Compares the key at x1 with the current entry's (x10); branches to {@code mismatch}
         * when they differ, falls through when equal. Uses x11, x14, x15.
         */
        private void compareKey(Label mismatch) {
            int ks = l.keySize();
            int keyField = HashTableMap.ENT_KEY;
            if (ks < 8) {
                switch (ks) {
                    case 1 -> comparePiece(8, 0, mismatch);
                    case 2 -> comparePiece(16, 0, mismatch);
                    case 3 -> {
                        comparePiece(16, 0, mismatch);
                        comparePiece(16, 1, mismatch);
                    }
                    case 4 -> comparePiece(32, 0, mismatch);
                    default -> {
                        comparePiece(32, 0, mismatch);
                        comparePiece(32, ks - 4, mismatch);
                    }
                }
                return;
            }
            int whole = ks & ~7;
            if (ks <= UNROLLED_KEY_SIZE) {
                for (int off = 0; off < whole; off += 8) {
                    comparePiece(64, off, mismatch);
                }
                if (whole != ks) {
                    comparePiece(64, ks - 8, mismatch);
                }
                return;
            }
            // x15 walks the key, x14 the entry's key, x11 holds the key's end.
            Label loop = new Label();
            a.mov(64, X15, X1);
            a.add(64, X14, X10, keyField);
            a.bind(loop);
            a.ldr(64, X11, X15, 0);
            a.ldr(64, X3, X14, 0); // x3 (K) is dead after the hash
            a.cmp(64, X11, X3);
            a.b(A64Cond.NE, mismatch);
            a.add(64, X15, X15, 8);
            a.add(64, X14, X14, 8);
            a.movImm(64, X11, whole);
            a.add(64, X11, X11, X1);
            a.cmp(64, X15, X11);
            a.b(A64Cond.LO, loop);
            if (whole != ks) {
                comparePiece(64, ks - 8, mismatch);
            }
        }

        /** Compares {@code bits} bits at key offset {@code off}, zero-extended into x11 / x14. */
        private void comparePiece(int bits, int off, Label mismatch) {
            load(bits, X11, X1, off);
            load(bits, X14, X10, HashTableMap.ENT_KEY + off);
            a.cmp(bits == 64 ? 64 : 32, X11, X14);
            a.b(A64Cond.NE, mismatch);
        }

        /**
         * Takes the header lock as {@code SpinLock.lock} does, 0 -&gt; 1 with acquire order, and
         * spins until it gets it. Uses x11, x14, x15.
         */
        private void acquireLock() {
            Label retry = new Label();
            a.movImm(32, X14, 1);
            a.bind(retry);
            if (lse) {
                a.mov(32, X11, A64Reg.XZR);
                a.cas(32, A64MemOrder.ACQUIRE, X11, X14, X0);
                a.cbnz(32, X11, retry);
            } else {
                a.ldaxr(32, X11, X0);
                a.cbnz(32, X11, retry);
                a.stxr(32, X15, X14, X0);
                a.cbnz(32, X15, retry);
            }
        }
    }
}
