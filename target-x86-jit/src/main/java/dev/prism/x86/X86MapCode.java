package dev.prism.x86;

import static dev.prism.x86.X86Reg.R10;
import static dev.prism.x86.X86Reg.R11;
import static dev.prism.x86.X86Reg.R8;
import static dev.prism.x86.X86Reg.R9;
import static dev.prism.x86.X86Reg.RAX;
import static dev.prism.x86.X86Reg.RCX;
import static dev.prism.x86.X86Reg.RDI;
import static dev.prism.x86.X86Reg.RDX;
import static dev.prism.x86.X86Reg.RSI;

import dev.prism.runtime.maps.HashLayout;
import dev.prism.runtime.maps.HashTableMap;
import java.util.Objects;

/**
 * Map operations as generated x86-64 code that runs without calling into Java.
 *
 * <h2>Hash-map lookup</h2>
 * {@link #emitLookup(X86Assembler, HashLayout)} emits one complete function, specialised for
 * one layout of {@link HashTableMap} (key size, value size, max_entries, CPUs and map type are
 * constants in the code; the table's address is an argument):
 * <pre>
 *   u64 lookup(u64 table, u64 key, u64 cpu)     System V: rdi, rsi, rdx -&gt; rax
 * </pre>
 * {@code table} is {@link HashTableMap#address()}, {@code key} the address of key_size bytes,
 * {@code cpu} the CPU whose value PERCPU_HASH returns (ignored by the other types). It returns
 * the native address of the value, as {@link HashTableMap#lookup} does, or 0. It clobbers
 * rax, rcx, rdx, r8-r11 and the flags (rdi and rsi happen to survive; callers may not rely on
 * it); it preserves rbx, rbp, r12-r15, does not touch the stack (nor the red zone) and leaves
 * the direction flag alone.
 *
 * <p><b>Algorithm.</b> Exactly the lock-free lookup of {@link HashTableMap}'s class comment:
 * the documented hash; the bucket's chain walked with plain loads (x86 loads have acquire
 * order), each entry's {@code next} loaded before its {@code hash}; an entry whose hash is in
 * another bucket restarts the walk, and so does a walk longer than max_entries + 1 entries
 * (the Java walk's bound). After the 8th restart the code does what Java's {@code find} does:
 * it takes the header's spin lock (as {@code SpinLock}: {@code lock cmpxchg} 0 -&gt; 1, on failure
 * {@code pause}, after 100 failures {@code sched_yield(2)} (syscall 24) before each retry),
 * walks once more under it, and releases it with a plain store of 0 (release order on x86); a
 * walk under the lock that would restart returns 0, as Java's does. LRU_HASH: a hit sets the
 * entry's ref word to 1 when it is 0, as {@link HashTableMap#lookup} (the program-side lookup)
 * does, with a plain store.
 *
 * <p><b>Key access.</b> The code reads only the key_size bytes at {@code key}, so a key may end
 * at the end of a readable page: 8-byte words while 8 or more bytes remain; a key of 8 or more
 * bytes whose size is not a multiple of 8 reads its last 8 bytes (overlapping the previous
 * word) and shifts the tail down; a key shorter than 8 bytes is read with overlapping 4-, 2- or
 * 1-byte loads. Keys of up to 16 bytes are hashed and compared with straight-line code, longer
 * ones with a loop over their 8-byte words.
 *
 * <p><b>Differences from Java.</b> Java's {@code lookup} throws for a PERCPU_HASH cpu outside
 * 0..cpus-1; this code returns 0 (the unsigned compare also refuses a negative cpu). It does
 * not check that {@code table} was made for the layout it was specialised for.
 *
 * <p><b>Registers</b> while walking: rdi table, rsi key, r9d the hash (for PERCPU_HASH, bits
 * 63:32 hold cpu * value_stride), r10d the entries visited in this walk (in the lock-free walk
 * bits 63:32 count the restarts), rcx the next entry number, r11 the current entry's address
 * minus (entriesOffset - entry_size), rax, r8 and rdx scratch.
 */
public final class X86MapCode {
    /** Java's {@code HashTableMap.RESTARTS_BEFORE_LOCKING}. */
    static final int RESTARTS_BEFORE_LOCKING = 8;
    /** Java's {@code SpinLock.SPINS_BEFORE_YIELD}. */
    static final int SPINS_BEFORE_YIELD = 100;
    /** Linux x86-64 {@code __NR_sched_yield}. */
    static final int SYS_SCHED_YIELD = 24;
    /** Keys up to this size are hashed and compared with straight-line code. */
    static final int UNROLLED_KEY_SIZE = 16;

    private X86MapCode() {
    }

    /**
     * Emits {@code u64 lookup(u64 table, u64 key, u64 cpu)} for maps of {@code layout} at the
     * assembler's position (see the class comment for the contract).
     *
     * @return the function's offset in the assembler's code
     */
    public static int emitLookup(X86Assembler a, HashLayout layout) {
        Objects.requireNonNull(layout, "layout");
        return new LookupEmitter(a, layout).emit();
    }



    /** One lookup function: the layout's constants and the labels shared by its parts. */
    private static final class LookupEmitter {
        private final X86Assembler a;
        private final HashLayout l;
        /** Displacement from r11 to entry 1's fields: entriesOffset - entry_size. */
        private final int entryBias;

        LookupEmitter(X86Assembler a, HashLayout l) {
            this.a = Objects.requireNonNull(a, "assembler");
            this.l = l;
            this.entryBias = l.entriesOffset() - l.entrySize();
        }

        int emit() {
            int start = a.position();
            Label notFound = new Label();
            if (l.perCpu()) {
                a.cmp(64, RDX, l.cpus());
                a.jcc(Condition.AE, notFound);
            }
            hash();
            a.mov(32, R9, RAX);
            if (l.perCpu()) {
                // r9 = cpu * stride << 32 | h: cpu < cpus, so the product is below entry_size.
                a.mov(32, RCX, l.stride());
                a.imul(32, RDX, RCX);
                a.shl(64, RDX, 32);
                a.or(64, R9, RDX);
            }
            a.xor(32, R10, R10);

            // Lock-free walks; r10 = restarts << 32 | entries visited.
            Label walk = new Label();
            Label restart = new Label();
            Label lock = new Label();
            a.bind(walk);
            walk(restart, notFound, false);
            a.bind(restart);
            a.shr(64, R10, 32);
            a.add(32, R10, 1);
            a.cmp(32, R10, RESTARTS_BEFORE_LOCKING);
            a.jcc(Condition.AE, lock);
            a.shl(64, R10, 32);
            a.jmp(walk);
            a.bind(notFound);
            a.xor(32, RAX, RAX);
            a.ret();

            // The 8th restart: one walk under the header lock; a restart under it is a miss.
            a.bind(lock);
            acquireLock();
            Label lockedMiss = new Label();
            walk(lockedMiss, lockedMiss, true);
            a.bind(lockedMiss);
            releaseLock();
            a.xor(32, RAX, RAX);
            a.ret();
            return start;
        }

        /**
         * rax = the hash of the key at rsi, zero-extended (its low 32 bits, upper half 0).
         * Clobbers rcx, r8, r10, r11.
         */
        private void hash() {
            int ks = l.keySize();
            int whole = ks & ~7;
            int tail = ks & 7;
            a.movabs(R8, HashTableMap.HASH_K);
            a.mov(64, RAX, R8);
            if (ks <= UNROLLED_KEY_SIZE) {
                for (int off = 0; off < whole; off += 8) {
                    a.mov(64, RCX, X86Address.of(RSI, off));
                    mix();
                }
            } else {
                Label loop = new Label();
                a.mov(64, R11, RSI);
                a.mov(32, R10, whole / 8);
                a.bind(loop);
                a.mov(64, RCX, X86Address.of(R11));
                mix();
                a.add(64, R11, 8);
                a.sub(32, R10, 1);
                a.jcc(Condition.NE, loop);
            }
            if (tail != 0) {
                if (ks >= 8) {
                    // The key's last 8 bytes; the tail is their top `tail` bytes.
                    a.mov(64, RCX, X86Address.of(RSI, ks - 8));
                    a.shr(64, RCX, 8 * (8 - tail));
                } else {
                    shortKeyWord();
                }
                mix();
            }
            a.mov(64, RCX, RAX);
            a.shr(64, RCX, 32);
            a.xor(32, RAX, RCX);
        }

        /** h = (h ^ w) * K; h ^= h >>> 29 with h in rax, w in rcx, K in r8. */
        private void mix() {
            a.xor(64, RAX, RCX);
            a.imul(64, RAX, R8);
            a.mov(64, RCX, RAX);
            a.shr(64, RCX, 29);
            a.xor(64, RAX, RCX);
        }

        /**
         * rcx = a key of 1..7 bytes, zero-extended, from loads inside it: two overlapping
         * loads for 3, 5, 6 and 7 bytes, OR-ed (the overlap holds the same bytes). Uses r11.
         */
        private void shortKeyWord() {
            int ks = l.keySize();
            X86Address key = X86Address.of(RSI);
            switch (ks) {
                case 1 -> a.movzx(8, RCX, key);
                case 2 -> a.movzx(16, RCX, key);
                case 3 -> {
                    a.movzx(16, RCX, key);
                    a.movzx(16, R11, X86Address.of(RSI, 1));
                    a.shl(32, R11, 8);
                    a.or(32, RCX, R11);
                }
                case 4 -> a.mov(32, RCX, key);
                default -> {
                    a.mov(32, RCX, key);
                    a.mov(32, R11, X86Address.of(RSI, ks - 4));
                    a.shl(64, R11, 8 * (ks - 4));
                    a.or(64, RCX, R11);
                }
            }
        }

        /**
         * One walk of the chain of r9d's bucket. A hit returns from the function (releasing
         * the lock when {@code locked}); the end of the chain jumps to {@code miss}; a foreign
         * hash or a walk of more than max_entries + 1 entries jumps to {@code restart}.
         */
        private void walk(Label restart, Label miss, boolean locked) {
            Label loop = new Label();
            Label candidate = new Label();
            a.mov(32, RAX, R9);
            a.and(32, RAX, l.mask());
            a.shl(32, RAX, 2);
            a.add(64, RAX, RDI);
            a.mov(32, RCX, X86Address.of(RAX, HashTableMap.HEADER_SIZE));
            if (locked) {
                a.xor(32, R10, R10);
            }
            a.bind(loop);
            a.test(32, RCX, RCX);
            a.jcc(Condition.E, miss);
            a.cmp(32, R10, l.maxEntries());
            a.jcc(Condition.A, restart);
            // 64-bit: in the lock-free walk bits 63:32 hold the restart count.
            a.add(64, R10, 1);
            a.mov(32, R11, l.entrySize());
            a.imul(64, R11, RCX);
            a.add(64, R11, RDI);
            a.mov(32, RCX, field(HashTableMap.ENT_NEXT));
            a.mov(32, RAX, field(HashTableMap.ENT_HASH));
            a.cmp(32, RAX, R9);
            a.jcc(Condition.E, candidate);
            // Another hash: same bucket, go on; another bucket, e was reused under us.
            a.xor(32, RAX, R9);
            a.test(32, RAX, l.mask());
            a.jcc(Condition.E, loop);
            a.jmp(restart);

            a.bind(candidate);
            compareKey(loop);
            if (l.lru()) {
                Label referenced = new Label();
                a.mov(32, RAX, field(HashTableMap.ENT_REF));
                a.test(32, RAX, RAX);
                a.jcc(Condition.NE, referenced);
                a.mov(32, field(HashTableMap.ENT_REF), 1);
                a.bind(referenced);
            }
            if (l.perCpu()) {
                a.mov(64, RAX, R9);
                a.shr(64, RAX, 32);
                a.add(64, RAX, R11);
            } else {
                a.mov(64, RAX, R11);
            }
            a.lea(64, RAX, X86Address.of(RAX, entryBias + l.valueOffset()));
            if (locked) {
                releaseLock();
            }
            a.ret();
        }

        /** {@code [r11 + entriesOffset - entry_size + offset]}: a field of the current entry. */
        private X86Address field(int offset) {
            return X86Address.of(R11, entryBias + offset);
        }

        /**
         * Compares the key at rsi with the current entry's; jumps to {@code mismatch} when
         * they differ, falls through with r11 unchanged when equal. Uses rax, r8, rdx.
         */
        private void compareKey(Label mismatch) {
            int ks = l.keySize();
            int keyField = entryBias + HashTableMap.ENT_KEY;
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
                    compareWord(X86Address.of(RSI, off), X86Address.of(R11, keyField + off), mismatch);
                }
                if (whole != ks) {
                    compareWord(X86Address.of(RSI, ks - 8), X86Address.of(R11, keyField + ks - 8), mismatch);
                }
                return;
            }
            // r8 walks the key, r11 the entry's key; r11 is put back after a match (a mismatch
            // goes on to the next entry, which recomputes it).
            Label loop = new Label();
            a.mov(64, R8, RSI);
            a.add(64, R11, keyField);
            a.bind(loop);
            compareWord(X86Address.of(R8), X86Address.of(R11), mismatch);
            a.add(64, R8, 8);
            a.add(64, R11, 8);
            a.lea(64, RAX, X86Address.of(RSI, whole));
            a.cmp(64, R8, RAX);
            a.jcc(Condition.B, loop);
            if (whole != ks) {
                compareWord(X86Address.of(RSI, ks - 8), X86Address.of(R11, ks - 8 - whole), mismatch);
            }
            a.sub(64, R11, keyField + whole);
        }

        private void compareWord(X86Address key, X86Address entryKey, Label mismatch) {
            a.mov(64, RAX, key);
            a.mov(64, RDX, entryKey);
            a.cmp(64, RAX, RDX);
            a.jcc(Condition.NE, mismatch);
        }

        /** Compares {@code size} bits at key offset {@code off}, zero-extended into eax / edx. */
        private void comparePiece(int size, int off, Label mismatch) {
            X86Address key = X86Address.of(RSI, off);
            X86Address entryKey = X86Address.of(R11, entryBias + HashTableMap.ENT_KEY + off);
            if (size == 32) {
                a.mov(32, RAX, key);
                a.mov(32, RDX, entryKey);
            } else {
                a.movzx(size, RAX, key);
                a.movzx(size, RDX, entryKey);
            }
            a.cmp(32, RAX, RDX);
            a.jcc(Condition.NE, mismatch);
        }

        /**
         * Takes the header lock as {@code SpinLock.lock} does: {@code lock cmpxchg} 0 -&gt; 1;
         * after a failure {@code pause}, from the 100th failure on {@code sched_yield} (which
         * clobbers rax, rcx, r11). Uses rax, r8, r10.
         */
        private void acquireLock() {
            Label retry = new Label();
            Label yield = new Label();
            Label held = new Label();
            X86Address lockWord = X86Address.of(RDI, HashTableMap.HDR_LOCK);
            a.xor(32, R10, R10);
            a.mov(32, R8, 1);
            a.bind(retry);
            a.xor(32, RAX, RAX);
            a.lock();
            a.cmpxchg(32, lockWord, R8);
            a.jcc(Condition.E, held);
            a.add(32, R10, 1);
            a.cmp(32, R10, SPINS_BEFORE_YIELD);
            a.jcc(Condition.AE, yield);
            a.pause();
            a.jmp(retry);
            a.bind(yield);
            a.mov(32, RAX, SYS_SCHED_YIELD);
            a.syscall();
            a.jmp(retry);
            a.bind(held);
        }

        /** {@code SpinLock.unlock}: a store of 0, which has release order on x86. */
        private void releaseLock() {
            a.mov(32, X86Address.of(RDI, HashTableMap.HDR_LOCK), 0);
        }
    }
}
