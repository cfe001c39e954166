package dev.prism.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.verifier.domain.Scalar;
import org.junit.jupiter.api.Test;

/**
 * A copy of a state shares its frames, call stack and packet ranges until one of the two
 * changes them ({@link State#copy}): a change on one path must never show on the other.
 */
class StateCopyTest {
    private static State state() {
        State s = new State();
        java.util.Arrays.fill(s.regs, Value.UNINIT);
        s.pushFrame(new Frame());
        s.writableFrame(0).types[Frame.SIZE - 8] = Frame.MISC;
        s.raiseDepth(s.frames.get(0), 8);
        return s;
    }

    @Test
    void aWriteToOneCopysStackLeavesTheOtherAlone() {
        State a = state();
        State b = a.copy();
        assertSame(a.frames.get(0), b.frames.get(0), "shared until written");
        Frame written = b.writableFrame(0);
        written.types[Frame.SIZE - 16] = Frame.SPILL;
        written.spills[(Frame.SIZE - 16) / 8] = Value.scalar(Scalar.constant(7));
        b.raiseDepth(written, 16);
        assertEquals(Frame.INVALID, a.frames.get(0).types[Frame.SIZE - 16]);
        assertEquals(null, a.frames.get(0).spills[(Frame.SIZE - 16) / 8]);
        assertEquals(8, a.frames.get(0).depth);
        assertEquals(8, a.stackBytes);
        assertEquals(16, b.stackBytes);
        // the original, written after the copy, copies its frame too
        Frame mine = a.writableFrame(0);
        assertNotSame(b.frames.get(0), mine);
        mine.types[Frame.SIZE - 24] = Frame.ZERO;
        assertEquals(Frame.INVALID, b.frames.get(0).types[Frame.SIZE - 24]);
    }

    @Test
    void callsOnOneCopyLeaveTheOthersStackOfFrames() {
        State a = state();
        State b = a.copy();
        b.pushFrame(new Frame());
        b.returns = State.append(b.returns, new int[] {5});
        assertEquals(1, a.frames.size());
        assertEquals(0, a.returns.size());
        assertEquals(2, b.frames.size());
        State c = b.copy();
        c.popFrame();
        c.returns = State.dropLast(c.returns);
        assertEquals(2, b.frames.size());
        assertEquals(1, b.returns.size());
        assertEquals(1, c.frames.size());
    }

    @Test
    void rangesAndReferencesAreTheirOwn() {
        State a = state();
        a.packetRange = a.packetRange.atLeast(1, 14);
        a.refsForWrite().put(9, 3);
        State b = a.copy();
        b.packetRange = b.packetRange.atLeast(1, 34);
        b.refsForWrite().remove(9);
        assertEquals(14, a.range(1));
        assertEquals(34, b.range(1));
        assertTrue(a.refs().containsKey(9));
        assertTrue(b.refs().isEmpty());
        assertTrue(a.copy().covers(a), "a state covers its copy");
        assertTrue(!b.covers(a), "a reference b does not hold");
    }
}
