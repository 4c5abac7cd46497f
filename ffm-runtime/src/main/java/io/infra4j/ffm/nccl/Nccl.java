package io.infra4j.ffm.nccl;

import static io.infra4j.bindings.nccl.NcclLib.C_INT;

import io.infra4j.bindings.nccl.NcclLib;
import io.infra4j.ffm.LibraryProbe;
import io.infra4j.ffm.LibrarySpec;
import io.infra4j.ffm.NativeLibrary;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * NCCL as Java sees it: whether libnccl can be used here, its version, and the one place where an
 * {@code ncclResult_t} becomes an {@link NcclException}.
 *
 * <p>{@link #isAvailable()} answers, without an exception, false where libnccl cannot be found or
 * loaded (found as {@link LibrarySpec#NCCL} is: {@code INFRA4J_NCCL_PATH}, the loader's cache, pip's
 * nvidia-nccl wheel, ...); {@link #unavailableReason()} says why. A communicator also needs CUDA.
 */
public final class Nccl {
    private static final LibraryProbe PROBE = new LibraryProbe(LibrarySpec.NCCL, "ncclGetVersion", () -> {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_INT);
            int status = NcclLib.ncclGetVersion(out);
            return status == 0 ? LibraryProbe.Result.of(out.get(C_INT, 0))
                    : LibraryProbe.Result.failed("ncclGetVersion returned " + status);
        }
    });

    private Nccl() {}

    private static LibraryProbe.Result probe() {
        return PROBE.get();
    }

    /** Whether NCCL can be used: libnccl loads and reports its version. */
    public static boolean isAvailable() {
        return probe().available();
    }

    /** Why NCCL cannot be used, or an empty string when it can. */
    public static String unavailableReason() {
        return probe().reason();
    }

    /** Throws {@link NcclUnavailableException} saying why NCCL cannot be used here. */
    public static void requireAvailable() {
        LibraryProbe.Result p = probe();
        if (!p.available()) {
            throw new NcclUnavailableException(p.reason());
        }
    }

    /** The loaded library's version code ({@code 22803} for 2.28.3), 0 when NCCL is unavailable. */
    public static int version() {
        return (int) probe().version();
    }

    /** The version of the loaded library as {@code 2.28.3}, or {@code none}. */
    public static String versionString() {
        return formatVersion(version());
    }

    /** Formats an NCCL version code: {@code 22803} as 2.28.3, the older {@code 2708} as 2.7.8. */
    public static String formatVersion(int code) {
        if (code <= 0) {
            return "none";
        }
        // NCCL_VERSION(X,Y,Z) is X*10000+Y*100+Z since 2.9, X*1000+Y*100+Z before.
        return code >= 10000
                ? code / 10000 + "." + code / 100 % 100 + "." + code % 100
                : code / 1000 + "." + code / 100 % 10 + "." + code % 100;
    }

    /** The symbolic name of an {@code ncclResult_t}, e.g. {@code ncclInvalidUsage}. */
    public static String resultName(int code) {
        return switch (code) {
            case 0 -> "ncclSuccess";
            case 1 -> "ncclUnhandledCudaError";
            case 2 -> "ncclSystemError";
            case 3 -> "ncclInternalError";
            case 4 -> "ncclInvalidArgument";
            case 5 -> "ncclInvalidUsage";
            case 6 -> "ncclRemoteError";
            case 7 -> "ncclInProgress";
            default -> "ncclResult " + code;
        };
    }

    /** NCCL's description of a result code; a fixed text where libnccl is not loaded. */
    @SuppressWarnings("restricted")
    public static String errorString(int code) {
        if (NativeLibrary.loaded(LibrarySpec.NCCL).isEmpty()) {
            return "(libnccl not loaded)";
        }
        return NcclLib.ncclGetErrorString(code).reinterpret(1024).getString(0);
    }

    /** NCCL's last error text for {@code comm} (NULL: the process-wide one); empty when none. */
    @SuppressWarnings("restricted")
    static String lastError(MemorySegment comm) {
        if (NativeLibrary.loaded(LibrarySpec.NCCL).isEmpty()) {
            return "";
        }
        MemorySegment text = NcclLib.ncclGetLastError(comm);
        return text.equals(MemorySegment.NULL) ? "" : text.reinterpret(4096).getString(0);
    }

    /** Throws {@link NcclException} for a failed result of {@code call} on {@code comm} (may be NULL). */
    static void check(int status, String call, MemorySegment comm) {
        if (status != 0) {
            throw exception(status, call, comm);
        }
    }

    /** The exception for a failed result (for callers that must clean up before throwing). */
    static NcclException exception(int status, String call, MemorySegment comm) {
        return new NcclException(status, resultName(status), errorString(status), lastError(comm), call);
    }
}
