package dev.prism.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Host-independent checks of the message-building parts of {@link LinuxBpf}. */
class LinuxBpfTailTest {
    @Test
    void longLogKeepsItsEnd() {
        String log = IntStream.range(0, 100).mapToObj(i -> "line " + i).collect(Collectors.joining("\n")) + "\n";
        String tail = LinuxBpf.tail(log);
        assertTrue(tail.startsWith("... (60 earlier lines)\nline 60\n"), tail);
        assertTrue(tail.endsWith("line 99"), tail);
    }

    @Test
    void shortLogIsKeptWhole() {
        assertEquals("a\nb", LinuxBpf.tail("a\nb\n"));
    }

    @Test
    void namesAreMadeAcceptable() {
        assertEquals("add.data_12_x86", LinuxBpf.objectName("add.data:12 x86-64 and more"));
    }

    @Test
    void epermSuggestsRoot() {
        assertEquals("EPERM (operation not permitted; not root?)", Errno.describe(1, "not root?"));
        assertEquals("errno 4242", Errno.describe(4242, null));
    }
}
