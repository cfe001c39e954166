package dev.prism.runtime.maps;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * A test-and-set spin lock in one aligned u32 of off-heap memory: 0 free, 1 held. Taking it is
 * a compare-and-swap 0 -> 1 (acquire), releasing it a release store of 0, so native code
 * ({@code lock cmpxchg} / {@code ldaxr+stlxr} or {@code casa}, then a plain store on x86 /
 * {@code stlr} on arm64) can take the same lock as Java.
 *
 * <p>Critical sections are short (a bucket walk and a value copy), so waiters spin; after a
 * while they yield, because a Java holder can be descheduled and more threads than cores may
 * be waiting.
 */
final class SpinLock {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final int SPINS_BEFORE_YIELD = 100;

    private SpinLock() {
    }

    static void lock(MemorySegment segment, long offset) {
        int spins = 0;
        while (!INT.compareAndSet(segment, offset, 0, 1)) {
            if (++spins < SPINS_BEFORE_YIELD) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    static void unlock(MemorySegment segment, long offset) {
        INT.setRelease(segment, offset, 0);
    }
}
