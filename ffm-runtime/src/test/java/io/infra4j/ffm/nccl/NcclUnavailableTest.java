package io.infra4j.ffm.nccl;

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
 * {@link Nccl} where libnccl is absent (CI, and the machine these tests are written on): it must
 * say so without an exception, and what needs NCCL must refuse with the reason. The tests that need
 * the library to be absent are skipped, visibly, where it is found.
 */
class NcclUnavailableTest {

    private static void assumeNoLibnccl() {
        assumeFalse(NativeLibrary.search(LibrarySpec.NCCL).found(), "libnccl is installed here; these tests are for machines without it");
    }

    @Test
    void probeNeverThrowsAndIsConsistent() {
        boolean available = assertDoesNotThrow(Nccl::isAvailable, "Nccl.isAvailable() must answer, not throw");
        assertEquals(available, Nccl.isAvailable(), "the probe runs once per process: same answer twice");
        String reason = assertDoesNotThrow(Nccl::unavailableReason);
        if (available) {
            assertEquals("", reason, "an available NCCL has an empty reason");
            assertTrue(Nccl.version() >= 20000, "version() of a loaded NCCL 2: " + Nccl.version());
        } else {
            assertFalse(reason.isBlank(), "an unavailable NCCL says why");
            assertEquals(0, Nccl.version(), "version() is 0 without NCCL");
            assertEquals("none", Nccl.versionString());
        }
    }

    @Test
    void withoutLibncclTheReasonSaysWhereItLooked() {
        assumeNoLibnccl();
        assertFalse(Nccl.isAvailable());
        String reason = Nccl.unavailableReason();
        assertTrue(reason.startsWith("libnccl could not be loaded: "), reason);
        assertTrue(reason.contains("INFRA4J_NCCL_PATH"), "the reason names the override variable: " + reason);
        assertTrue(NativeLibrary.loaded(LibrarySpec.NCCL).isEmpty(), "nothing was loaded");
    }

    @Test
    void whatNeedsNcclThrowsNcclUnavailableWithTheReason() {
        assumeNoLibnccl();
        String reason = Nccl.unavailableReason();
        Executable[] needsNccl = {Nccl::requireAvailable, NcclUniqueId::create, () -> NcclComm.group(() -> { })};
        String[] names = {"requireAvailable()", "NcclUniqueId.create()", "NcclComm.group(..)"};
        for (int i = 0; i < needsNccl.length; i++) {
            NcclUnavailableException e = assertThrows(NcclUnavailableException.class, needsNccl[i], names[i]);
            assertTrue(e.getMessage().startsWith("NCCL is not available: "), names[i] + ": " + e.getMessage());
            assertTrue(e.getMessage().contains(reason), names[i] + ": the message should carry the reason");
            assertInstanceOf(IllegalStateException.class, e);
        }
    }

    @Test
    void resultsAreNamedWithOrWithoutTheLibrary() {
        assertEquals("ncclSuccess", Nccl.resultName(0));
        assertEquals("ncclUnhandledCudaError", Nccl.resultName(1));
        assertEquals("ncclInvalidArgument", Nccl.resultName(4));
        assertEquals("ncclInvalidUsage", Nccl.resultName(5));
        assertEquals("ncclRemoteError", Nccl.resultName(6));
        assertEquals("ncclInProgress", Nccl.resultName(7));
        assertEquals("ncclResult 42", Nccl.resultName(42), "unknown codes are named by number");
        String text = assertDoesNotThrow(() -> Nccl.errorString(4));
        assertFalse(text.isBlank());
        if (NativeLibrary.loaded(LibrarySpec.NCCL).isEmpty()) {
            assertEquals("(libnccl not loaded)", text);
        }
    }

    @Test
    void versionsFormatAsNcclEncodesThem() {
        assertEquals("2.28.3", Nccl.formatVersion(22803));
        assertEquals("2.19.3", Nccl.formatVersion(21903));
        assertEquals("2.7.8", Nccl.formatVersion(2708), "before 2.9 the minor took one digit");
        assertEquals("none", Nccl.formatVersion(0));
        assertEquals("none", Nccl.formatVersion(-1));
    }

    @Test
    void exceptionCarriesCodeNameTextLastErrorAndCall() {
        NcclException e = new NcclException(4, "ncclInvalidArgument", "invalid argument", "peer 9 out of range\n",
                "ncclSend(16 x FLOAT32, peer 9) on rank 0 of 2");
        assertEquals(4, e.code());
        assertEquals("ncclInvalidArgument", e.errorName());
        assertEquals("invalid argument", e.errorString());
        assertEquals("ncclSend(16 x FLOAT32, peer 9) on rank 0 of 2", e.call());
        assertEquals("ncclSend(16 x FLOAT32, peer 9) on rank 0 of 2 failed: ncclInvalidArgument (4): invalid argument;"
                + " last NCCL error: peer 9 out of range", e.getMessage());
        NcclException quiet = new NcclException(2, "ncclSystemError", "system error", "", "ncclGroupEnd");
        assertEquals("ncclGroupEnd failed: ncclSystemError (2): system error", quiet.getMessage(),
                "no last-error clause when NCCL recorded none");
    }

    @Test
    void typeAndOpCodesAreNcclsOwn() {
        // The values of nccl.h (2.28), read through the generated bindings.
        assertEquals(0, NcclDataType.INT8.code());
        assertEquals(1, NcclDataType.UINT8.code());
        assertEquals(2, NcclDataType.INT32.code());
        assertEquals(4, NcclDataType.INT64.code());
        assertEquals(6, NcclDataType.FLOAT16.code());
        assertEquals(7, NcclDataType.FLOAT32.code());
        assertEquals(9, NcclDataType.BFLOAT16.code());
        assertEquals(10, NcclDataType.FLOAT8_E4M3.code());
        assertEquals(11, NcclDataType.FLOAT8_E5M2.code());
        assertEquals(2, NcclDataType.BFLOAT16.byteSize());
        assertEquals(8, NcclDataType.FLOAT64.byteSize());
        assertEquals(1, NcclDataType.FLOAT8_E4M3.byteSize());
        assertEquals(0, NcclRedOp.SUM.code());
        assertEquals(4, NcclRedOp.AVG.code());
    }
}
