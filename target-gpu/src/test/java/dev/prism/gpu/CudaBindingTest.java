package dev.prism.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.error.TargetException;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.Availability;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CUDA driver binding as far as it goes without a GPU: library and symbol lookup failures, CUresult words, availability. */
class CudaBindingTest {
    @Test
    void aMissingLibrarySaysThereIsNoDriver() {
        Cuda.Library lib = Cuda.Library.open("libprism-no-such-cuda.so.1");
        assertEquals("libprism-no-such-cuda.so.1 not found: no NVIDIA driver", lib.error());
        TargetException e = assertThrows(TargetException.class,
                () -> lib.bind(FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), "cuInit"));
        assertEquals("ptx: libprism-no-such-cuda.so.1 not found: no NVIDIA driver", e.getMessage());
    }

    @Test
    void aLibraryWithoutTheSymbolNamesEveryNameTried() {
        Cuda.Library libc = Cuda.Library.open("libc.so.6");
        assertNull(libc.error());
        TargetException e = assertThrows(TargetException.class,
                () -> libc.bind(FunctionDescriptor.of(ValueLayout.JAVA_INT), "cuEventElapsedTime_v2", "cuEventElapsedTime"));
        assertTrue(e.getMessage().contains("no symbol cuEventElapsedTime_v2 or cuEventElapsedTime"), e.getMessage());
        // a name it has binds: the lookup goes through the library, not a fixed table
        assertTrue(libc.bind(FunctionDescriptor.of(ValueLayout.JAVA_INT), "getpid") != null);
    }

    @Test
    void cuResultsHaveTheirHeaderNames() {
        // values from cuda.h (CUDA 13), CUresult
        assertEquals("CUDA_ERROR_NO_DEVICE", Cuda.codeName(100));
        assertEquals("CUDA_ERROR_INVALID_PTX", Cuda.codeName(218));
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", Cuda.codeName(700));
        assertEquals("CUDA_ERROR_LAUNCH_FAILED", Cuda.codeName(719));
        assertNull(Cuda.codeName(123456));
    }

    @Test
    void aFailedCallNamesTheCallAndTheCode() {
        if (Cuda.LIBRARY.error() != null) {
            // without the driver the words come from the table
            assertEquals("cuLaunchKernel failed: CUDA_ERROR_ILLEGAL_ADDRESS (700)", Cuda.describe("cuLaunchKernel", 700));
            assertEquals("cuMemAlloc_v2 failed: CUresult (123456)", Cuda.describe("cuMemAlloc_v2", 123456));
        } else {
            assertTrue(Cuda.describe("cuLaunchKernel", 700).startsWith("cuLaunchKernel failed: CUDA_ERROR_ILLEGAL_ADDRESS (700)"));
        }
        TargetException e = assertThrows(TargetException.class, () -> Cuda.check(2, "cuMemAlloc_v2"));
        assertTrue(e.getMessage().startsWith("ptx: cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2)"), e.getMessage());
    }

    @Test
    void withoutADeviceAvailabilitySaysWhyAndCompileStillWorks() {
        PtxTarget ptx = new PtxTarget();
        Availability a = ptx.availability();
        if (a.available()) {
            return; // a GPU machine: GpuCheck covers it
        }
        String why = Cuda.LIBRARY.error() != null ? "libcuda.so.1 not found: no NVIDIA driver" : "CUDA";
        assertTrue(a.reason().startsWith(why) || a.reason().contains("no CUDA device"), a.reason());
        assertTrue(a.reason().endsWith("ptx programs can still be compiled"), a.reason());
        Program p = Program.builder("t", ProgramType.XDP, Assembler.assemble("mov %r0, 2\nexit")).build();
        String text = ptx.compile(Verifier.verify(p, Profile.RFC9669)).listing();
        assertTrue(text.contains(".entry prism("), text);
        TargetException e = assertThrows(TargetException.class, () -> ptx.load(List.of(p)));
        assertFalse(e.getMessage().isBlank());
        assertTrue(e.getMessage().startsWith("ptx is unavailable: "), e.getMessage());
    }
}
