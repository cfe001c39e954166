package dev.prism.x86;

import static dev.prism.x86.X86Reg.R10;
import static dev.prism.x86.X86Reg.R11;
import static dev.prism.x86.X86Reg.R12;
import static dev.prism.x86.X86Reg.R13;
import static dev.prism.x86.X86Reg.R14;
import static dev.prism.x86.X86Reg.R15;
import static dev.prism.x86.X86Reg.RBX;
import static dev.prism.x86.X86Reg.R8;
import static dev.prism.x86.X86Reg.R9;
import static dev.prism.x86.X86Reg.RAX;
import static dev.prism.x86.X86Reg.RCX;
import static dev.prism.x86.X86Reg.RDI;
import static dev.prism.x86.X86Reg.RDX;
import static dev.prism.x86.X86Reg.RSI;

import dev.prism.runtime.maps.BpfMaps;
import dev.prism.runtime.maps.HashLayout;
import dev.prism.runtime.maps.HashTableMap;
import dev.prism.runtime.maps.MapErrno;
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
    /** Keys and values up to this size are copied, and entries zeroed, with straight-line code. */
    static final int UNROLLED_COPY = 64;

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
        return new Emitter(a, layout).emit();
    }

    /**
     * Emits {@code u64 update(u64 table, u64 key, u64 value, u64 flags, u64 cpu)} (System V:
     * rdi, rsi, rdx, rcx, r8 -&gt; rax) for maps of {@code layout}: exactly
     * {@link HashTableMap#update} (the program-side update), under the header's spin lock taken
     * as the lookup's locked walk takes it. It returns 0 or a negative errno, 64 bits:
     * flags above BPF_EXIST -EINVAL; BPF_NOEXIST on a present key -EEXIST; BPF_EXIST on an
     * absent one -ENOENT; a new key in a full HASH or PERCPU_HASH -E2BIG, while LRU_HASH evicts
     * by the clock hand as Java does. PERCPU_HASH writes {@code cpu}'s copy (a new entry's other
     * copies are zero); a cpu outside 0..cpus-1 gives -EINVAL and changes nothing (Java throws).
     * It reads exactly key_size bytes at {@code key} and value_size at {@code value}, and
     * writes exactly the bytes Java writes (a value's padding is left alone, a new entry's
     * key and values are zeroed first). It clobbers rax, rcx, rdx, rsi, rdi, r8-r11 and the
     * flags, preserves rbx, rbp and r12-r15 (pushing them below rsp) and leaves the direction
     * flag alone.
     *
     * <p>Registers: rdi table, rsi key, r13 value, r14 flags, r15 cpu * value_stride, r9d the
     * hash, r11 the current entry (biased as in the lookup), rbx an entry number, r12 a link
     * word's address, r10 a step count; rax, rcx, rdx and r8 scratch.
     *
     * @return the function's offset in the assembler's code
     */
    public static int emitUpdate(X86Assembler a, HashLayout layout) {
        Objects.requireNonNull(layout, "layout");
        return new Emitter(a, layout).emitUpdate();
    }



    /** One lookup or update function: the layout's constants and the parts they share. */
    private static final class Emitter {
        private final X86Assembler a;
        private final HashLayout l;
        /** Displacement from r11 to entry 1's fields: entriesOffset - entry_size. */
        private final int entryBias;

        Emitter(X86Assembler a, HashLayout l) {
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

        /** The callee-saved registers the update uses, pushed in this order. */
        private static final X86Reg[] UPDATE_SAVED = {RBX, R12, R13, R14, R15};

        int emitUpdate() {
            int start = a.position();
            Label out = new Label();
            Label unlockOut = new Label();
            for (X86Reg r : UPDATE_SAVED) {
                a.push(r);
            }
            a.mov(64, R13, RDX);
            a.mov(64, R14, RCX);
            a.mov(32, RAX, MapErrno.EINVAL);
            a.cmp(64, R14, BpfMaps.BPF_EXIST);
            a.jcc(Condition.A, negate(out));
            a.xor(32, R15, R15);
            if (l.perCpu()) {
                a.cmp(64, R8, l.cpus());
                a.jcc(Condition.AE, negate(out));
                a.mov(32, R15, l.stride());
                a.imul(64, R15, R8);
            }
            hash();
            a.mov(32, R9, RAX);
            acquireLock();

            // The walk under the lock: r12 the link to the entry, rbx its number.
            Label loop = new Label();
            Label next = new Label();
            Label absent = new Label();
            Label present = new Label();
            bucketLink(R9);
            a.xor(32, R10, R10);
            a.bind(loop);
            a.mov(32, RBX, X86Address.of(R12));
            a.test(32, RBX, RBX);
            a.jcc(Condition.E, absent);
            a.add(32, R10, 1);
            a.cmp(32, R10, l.maxEntries());
            a.jcc(Condition.A, absent); // only a corrupted chain is this long; Java's walk gives up too
            entry(RBX);
            a.cmp(32, field(HashTableMap.ENT_HASH), R9);
            a.jcc(Condition.NE, next);
            compareKey(next);
            a.jmp(present);
            a.bind(next);
            entry(RBX); // a long key's compare moved r11
            a.lea(64, R12, field(HashTableMap.ENT_NEXT));
            a.jmp(loop);

            // Present: replace the value in place.
            a.bind(present);
            a.mov(32, RAX, MapErrno.EEXIST);
            a.cmp(64, R14, BpfMaps.BPF_NOEXIST);
            a.jcc(Condition.E, negate(unlockOut));
            writeValue();
            if (l.lru()) {
                a.mov(32, field(HashTableMap.ENT_REF), 1);
            }
            a.xor(32, RAX, RAX);
            a.jmp(unlockOut);

            // Absent: a free entry, or with LRU the clock's victim; fill it, then link it.
            a.bind(absent);
            a.mov(32, RAX, MapErrno.ENOENT);
            a.cmp(64, R14, BpfMaps.BPF_EXIST);
            a.jcc(Condition.E, negate(unlockOut));
            Label fill = new Label();
            a.mov(32, RBX, X86Address.of(RDI, HashTableMap.HDR_FREE));
            a.test(32, RBX, RBX);
            Label full = new Label();
            a.jcc(Condition.E, full);
            entry(RBX);
            a.mov(32, RAX, field(HashTableMap.ENT_FREE_NEXT));
            a.mov(32, X86Address.of(RDI, HashTableMap.HDR_FREE), RAX);
            a.jmp(fill);
            a.bind(full);
            a.mov(32, RAX, MapErrno.E2BIG);
            if (!l.lru()) {
                a.jmp(negate(unlockOut));
            } else {
                evict(negate(unlockOut));
            }
            a.bind(fill);
            a.mov(32, field(HashTableMap.ENT_HASH), R9);
            a.mov(32, field(HashTableMap.ENT_REF), 0);
            a.mov(32, field(HashTableMap.ENT_FREE_NEXT), 0);
            zero(HashTableMap.ENT_KEY, l.entrySize() - HashTableMap.ENT_KEY);
            a.lea(64, RDX, field(HashTableMap.ENT_KEY));
            copy(RDX, RSI, l.keySize());
            writeValue();
            // Link: the entry's next, then the bucket head (x86 stores are seen in order).
            bucketLink(R9);
            a.mov(32, RAX, X86Address.of(R12));
            a.mov(32, field(HashTableMap.ENT_NEXT), RAX);
            a.mov(32, X86Address.of(R12), RBX);
            a.add(32, X86Address.of(RDI, HashTableMap.HDR_COUNT), 1);
            a.xor(32, RAX, RAX);

            a.bind(unlockOut);
            releaseLock();
            a.bind(out);
            for (int i = UPDATE_SAVED.length - 1; i >= 0; i--) {
                a.pop(UPDATE_SAVED[i]);
            }
            a.ret();
            negations.forEach(Runnable::run);
            return start;
        }

        /** A label that negates rax (an errno) and goes on to {@code then}; emitted with the function's cold parts. */
        private Label negate(Label then) {
            Label l = new Label();
            negations.add(() -> {
                a.bind(l);
                a.neg(64, RAX);
                a.jmp(then);
            });
            return l;
        }

        private final java.util.List<Runnable> negations = new java.util.ArrayList<>();

        /** r12 = the address of the bucket word of hash {@code h} (its low 32 bits). Uses rax. */
        private void bucketLink(X86Reg h) {
            a.mov(32, RAX, h);
            a.and(32, RAX, l.mask());
            a.lea(64, R12, X86Address.of(RDI, HashTableMap.HEADER_SIZE));
            a.shl(64, RAX, 2);
            a.add(64, R12, RAX);
        }

        /** r11 = entry {@code n}'s address biased as {@link #field} expects: n * entry_size + table. */
        private void entry(X86Reg n) {
            a.mov(32, R11, l.entrySize());
            a.imul(64, R11, n);
            a.add(64, R11, RDI);
        }

        /** Copies the value at r13 into the current entry's value (cpu's copy for PERCPU_HASH). Uses rax, rcx, rdx, r8. */
        private void writeValue() {
            a.lea(64, RDX, field(l.valueOffset()));
            if (l.perCpu()) {
                a.add(64, RDX, R15);
            }
            copy(RDX, R13, l.valueSize());
        }

        /**
         * Copies exactly {@code size} bytes from {@code [src]} to {@code [dst]}, loading and
         * storing nothing outside them: 8-byte words, the last one overlapping the one before
         * when the size is not a multiple of 8; sizes below 8 in two overlapping 4-, 2- or
         * 1-byte pieces. Longer than {@link #UNROLLED_COPY} bytes, a loop. Uses rax, rcx, r8;
         * dst and src stay unchanged.
         */
        private void copy(X86Reg dst, X86Reg src, int size) {
            if (size < 8) {
                int piece = size >= 4 ? 4 : size >= 2 ? 2 : 1;
                copyPiece(dst, src, 0, piece);
                if (piece != size) {
                    copyPiece(dst, src, size - piece, piece);
                }
                return;
            }
            int whole = size & ~7;
            if (size <= UNROLLED_COPY) {
                for (int off = 0; off < whole; off += 8) {
                    copyPiece(dst, src, off, 8);
                }
            } else {
                Label loop = new Label();
                a.xor(32, RCX, RCX);
                a.mov(64, R8, src);
                a.bind(loop);
                a.mov(64, RAX, X86Address.of(R8));
                a.add(64, R8, 8);
                a.mov(64, X86Address.of(dst), RAX); // dst walks too, put back below
                a.add(64, dst, 8);
                a.add(32, RCX, 8);
                a.cmp(32, RCX, whole);
                a.jcc(Condition.B, loop);
                a.sub(64, dst, whole);
            }
            if (whole != size) {
                copyPiece(dst, src, size - 8, 8);
            }
        }

        private void copyPiece(X86Reg dst, X86Reg src, int off, int bytes) {
            if (bytes == 8 || bytes == 4) {
                a.mov(bytes * 8, RAX, X86Address.of(src, off));
            } else {
                a.movzx(bytes * 8, RAX, X86Address.of(src, off));
            }
            a.mov(bytes * 8, X86Address.of(dst, off), RAX);
        }

        /** Zeroes {@code bytes} (a multiple of 8) of the current entry from field offset {@code from}. Uses rax, rcx, rdx. */
        private void zero(int from, int bytes) {
            a.xor(32, RAX, RAX);
            if (bytes <= UNROLLED_COPY) {
                for (int off = 0; off < bytes; off += 8) {
                    a.mov(64, field(from + off), RAX);
                }
                return;
            }
            Label loop = new Label();
            a.lea(64, RCX, field(from));
            a.lea(64, RDX, field(from + bytes));
            a.bind(loop);
            a.mov(64, X86Address.of(RCX), RAX);
            a.add(64, RCX, 8);
            a.cmp(64, RCX, RDX);
            a.jcc(Condition.B, loop);
        }

        /**
         * The clock, as Java's {@code evict}: from the hand, clear set ref words and take the
         * first entry whose ref is 0; record the hand, unlink the entry from its chain, count
         * one entry less. Leaves its number in rbx and its address in r11. Two turns of the
         * hand always find one; if not (a corrupted map), jumps to {@code fail} with rax as it
         * was (E2BIG).
         */
        private void evict(Label fail) {
            Label step = new Label();
            Label found = new Label();
            Label wrapped = new Label();
            a.mov(32, RCX, X86Address.of(RDI, HashTableMap.HDR_CLOCK)); // the hand
            a.xor(32, R10, R10);
            a.bind(step);
            a.cmp(32, R10, 2 * l.maxEntries());
            a.jcc(Condition.A, fail);
            a.add(32, R10, 1);
            a.lea(32, RBX, X86Address.of(RCX, 1));
            a.add(32, RCX, 1);
            a.cmp(32, RCX, l.maxEntries());
            a.jcc(Condition.NE, wrapped);
            a.xor(32, RCX, RCX);
            a.bind(wrapped);
            entry(RBX);
            a.cmp(32, field(HashTableMap.ENT_REF), 0);
            a.jcc(Condition.E, found);
            a.mov(32, field(HashTableMap.ENT_REF), 0);
            a.jmp(step);
            a.bind(found);
            a.mov(32, X86Address.of(RDI, HashTableMap.HDR_CLOCK), RCX);
            // Unlink: find the link that holds rbx in the chain of its bucket.
            Label walk = new Label();
            Label linked = new Label();
            a.mov(32, R8, field(HashTableMap.ENT_HASH));
            bucketLink(R8);
            a.bind(walk);
            a.mov(32, RAX, X86Address.of(R12));
            a.cmp(32, RAX, RBX);
            a.jcc(Condition.E, linked);
            a.test(32, RAX, RAX);
            a.mov(32, RAX, MapErrno.E2BIG);
            a.jcc(Condition.E, fail); // not in its chain: a corrupted map
            a.mov(32, RAX, X86Address.of(R12));
            a.mov(32, R8, l.entrySize());
            a.imul(64, RAX, R8);
            a.lea(64, R12, X86Address.of(RAX, entryBias + HashTableMap.ENT_NEXT));
            a.add(64, R12, RDI);
            a.jmp(walk);
            a.bind(linked);
            a.mov(32, RAX, field(HashTableMap.ENT_NEXT));
            a.mov(32, X86Address.of(R12), RAX);
            a.sub(32, X86Address.of(RDI, HashTableMap.HDR_COUNT), 1);
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
