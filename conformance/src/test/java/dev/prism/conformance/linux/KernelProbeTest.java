package dev.prism.conformance.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.isa.Group;
import dev.prism.runtime.Helpers;
import dev.prism.testing.Host;
import org.junit.jupiter.api.Test;

/** The linux target's capabilities come from probe loads into the running kernel. */
class KernelProbeTest {
    @Test
    void probesTellKnownHelpersFromUnknownOnes() {
        Host.requireLinuxBpf();
        assertTrue(KernelProbe.hasHelper(Helpers.MAP_LOOKUP_ELEM), "every kernel with XDP has bpf_map_lookup_elem");
        assertTrue(KernelProbe.hasHelper(Helpers.KTIME_GET_NS));
        assertFalse(KernelProbe.hasHelper(100_000), "no kernel has helper 100000");
        // bpf_skb_load_bytes (26) reads an sk_buff: not offered to XDP, but to tc, which the probe asks too
        assertTrue(KernelProbe.hasHelper(26), "offered to tc");
        // bpf_override_return (58) is for kprobes: neither XDP nor tc may call it
        assertFalse(KernelProbe.hasHelper(58), "offered to neither XDP nor tc");
    }

    @Test
    void capabilitiesAreTheKernelsAnswersCachedPerJvm() {
        Host.requireLinuxBpf();
        KernelProbe k = KernelProbe.get();
        assertSame(k, KernelProbe.get(), "probed once");
        assertTrue(k.probed(), k.note());
        assertTrue(k.release().matches("\\d+\\.\\d+.*"), k.release());
        LinuxTarget linux = new LinuxTarget();
        assertEquals(k.helpers(), linux.capabilities().helpers());
        assertEquals(k.callx(), linux.capabilities().groups().contains(Group.CALLX));
        assertFalse(k.callx(), "Linux 6.x does not implement callx (0x8d)");
        assertTrue(linux.kernelNote().startsWith("Linux " + k.release() + ", probed: "), linux.kernelNote());
    }
}
