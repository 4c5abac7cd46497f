package io.infra4j.ffm.nvshmem;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.infra4j.ffm.LibrarySpec;
import io.infra4j.ffm.NativeLibrary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * {@link Nvshmem} where libnvshmem_host is absent (CI, and the machine these tests are written on): it
 * must say so without an exception, naming what it looked for, and what needs NVSHMEM must refuse
 * with the reason. The tests that need the library to be absent are skipped, visibly, where it is found.
 */
class NvshmemUnavailableTest {

    private static void assumeNoLibrary() {
        assumeFalse(NativeLibrary.search(LibrarySpec.NVSHMEM).found(),
                "libnvshmem_host is installed here; these tests are for machines without it");
    }

    @Test
    void probeNeverThrowsAndIsConsistent() {
        boolean available = assertDoesNotThrow(Nvshmem::isAvailable, "Nvshmem.isAvailable() must answer, not throw");
        assertEquals(available, Nvshmem.isAvailable(), "the probe runs once per process: same answer twice");
        String reason = assertDoesNotThrow(Nvshmem::unavailableReason);
        if (available) {
            assertEquals("", reason, "an available NVSHMEM has an empty reason");
            assertTrue(Nvshmem.version() >= 30000, "version() of a loaded NVSHMEM 3: " + Nvshmem.version());
        } else {
            assertFalse(reason.isBlank(), "an unavailable NVSHMEM says why");
            assertEquals(0, Nvshmem.version(), "version() is 0 without NVSHMEM");
            assertEquals("none", Nvshmem.versionString());
        }
    }

    @Test
    void withoutTheLibraryTheReasonNamesWhatWasLookedForAndWhere() {
        assumeNoLibrary();
        assertFalse(Nvshmem.isAvailable());
        String reason = Nvshmem.unavailableReason();
        assertTrue(reason.startsWith("libnvshmem could not be loaded: "), reason);
        assertTrue(reason.contains("libnvshmem_host.so.3"), "the reason names the file it looked for: " + reason);
        assertTrue(reason.contains("INFRA4J_NVSHMEM_PATH"), "the reason names the override variable: " + reason);
        assertTrue(NativeLibrary.loaded(LibrarySpec.NVSHMEM).isEmpty(), "nothing was loaded");
        assertTrue(Nvshmem.environmentDefaults().isEmpty(), "no environment was touched without the library");
    }

    @Test
    void whatNeedsNvshmemThrowsNvshmemUnavailableWithTheReason() {
        assumeNoLibrary();
        String reason = Nvshmem.unavailableReason();
        Executable[] needsNvshmem = {Nvshmem::requireAvailable, NvshmemUniqueId::create, Nvshmem::specVersion};
        String[] names = {"requireAvailable()", "NvshmemUniqueId.create()", "specVersion()"};
        for (int i = 0; i < needsNvshmem.length; i++) {
            NvshmemUnavailableException e = assertThrows(NvshmemUnavailableException.class, needsNvshmem[i], names[i]);
            assertTrue(e.getMessage().startsWith("NVSHMEM is not available: "), names[i] + ": " + e.getMessage());
            assertTrue(e.getMessage().contains(reason), names[i] + ": the message should carry the reason");
            assertInstanceOf(IllegalStateException.class, e);
        }
        assertTrue(NvshmemWorld.initPhase().startsWith("NONE"),
                "a refusal before any native call leaves initialisation possible: " + NvshmemWorld.initPhase());
    }

    @Test
    void versionsFormatAsNvshmemEncodesThem() {
        assertEquals("3.4.5", Nvshmem.formatVersion(30405));
        assertEquals("3.10.12", Nvshmem.formatVersion(31012));
        assertEquals("none", Nvshmem.formatVersion(0));
        assertEquals(30405, Nvshmem.versionCode(3, 4, 5));
        assertEquals(30405, Nvshmem.headerVersion(), "the bindings were generated from NVSHMEM 3.4.5's headers");
    }

    @Test
    void statusesAreNamedWithOrWithoutTheLibrary() {
        assertEquals("NVSHMEMX_SUCCESS", Nvshmem.statusName(0));
        assertEquals("NVSHMEMX_ERROR_INVALID_VALUE", Nvshmem.statusName(1));
        assertEquals("NVSHMEMX_ERROR_OUT_OF_MEMORY", Nvshmem.statusName(2));
        assertEquals("NVSHMEMX_ERROR_GPU_NOT_SELECTED", Nvshmem.statusName(5));
        assertEquals("NVSHMEMX_ERROR_INTERNAL", Nvshmem.statusName(7));
        assertEquals("NVSHMEM status -1", Nvshmem.statusName(-1), "other codes are named by number");
        assertEquals(7, io.infra4j.bindings.nvshmem.NvshmemLib.NVSHMEMX_ERROR_INTERNAL(), "the header's value");
        assertEquals(8, io.infra4j.bindings.nvshmem.NvshmemLib.NVSHMEMX_INIT_WITH_UNIQUEID(), "1 << 3 in the header");
    }

    @Test
    void exceptionCarriesCodeNameAndCall() {
        NvshmemException e = Nvshmem.exception(7, "nvshmemx_hostlib_init_attr(NVSHMEMX_INIT_WITH_UNIQUEID, PE 0 of 2 on cuda:0)");
        assertEquals(7, e.code());
        assertEquals("NVSHMEMX_ERROR_INTERNAL", e.statusName());
        assertEquals("nvshmemx_hostlib_init_attr(NVSHMEMX_INIT_WITH_UNIQUEID, PE 0 of 2 on cuda:0)", e.call());
        assertTrue(e.getMessage().startsWith("nvshmemx_hostlib_init_attr(NVSHMEMX_INIT_WITH_UNIQUEID, PE 0 of 2 on cuda:0)"
                + " failed: NVSHMEMX_ERROR_INTERNAL (7): "), e.getMessage());
        assertTrue(e.getMessage().contains("NVSHMEM_DEBUG"), "points to NVSHMEM's own account: " + e.getMessage());
        assertDoesNotThrow(() -> Nvshmem.check(0, "anything"));
        assertThrows(NvshmemException.class, () -> Nvshmem.check(1, "nvshmemx_get_uniqueid"));
    }
}
