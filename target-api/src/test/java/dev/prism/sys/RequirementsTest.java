package dev.prism.sys;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RequirementsTest {
    @Test
    void allRequiresEverything() {
        assertTrue(Requirements.required("linux", "all"));
        assertTrue(Requirements.required("opencl", " ALL "));
    }

    @Test
    void listRequiresWhatItNames() {
        assertTrue(Requirements.required("linux", "opencl, linux"));
        assertFalse(Requirements.required("linux", "opencl,linuxish"));
    }

    @Test
    void unsetRequiresNothing() {
        assertFalse(Requirements.required("linux", null));
        assertFalse(Requirements.required("linux", ""));
    }

    @Test
    void allLeavesHardwareToItsName() {
        assertFalse(Requirements.required("ptx", "all"));
        assertTrue(Requirements.required("ptx", "all,ptx"));
        assertTrue(Requirements.required("ptx", "PTX"));
    }
}
