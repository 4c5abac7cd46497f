package io.infra4j.ffm.cublas;

import io.infra4j.bindings.cublaslt.CublasLtLib;
import io.infra4j.ffm.LibraryProbe;
import io.infra4j.ffm.LibrarySpec;
import io.infra4j.ffm.NativeLibrary;

/**
 * cuBLASLt as Java sees it: whether libcublasLt can be used here, its version, and the one place
 * where a {@code cublasStatus_t} becomes a {@link CublasLtException}.
 *
 * <p>{@link #isAvailable()} answers, without an exception, false where libcublasLt cannot be found or
 * loaded (found as {@link LibrarySpec#CUBLASLT} is: {@code INFRA4J_CUBLASLT_PATH}, the CUDA toolkit,
 * the loader's cache, pip's nvidia-cublas wheel, ...); {@link #unavailableReason()} says why. Loading
 * and asking the version need no GPU; handles and matmuls also need CUDA.
 */
public final class CublasLt {
    /** The first cuBLAS with the 1 x 128 and 128 x 128 FP32 block scales on Hopper (12.9.0). */
    public static final long BLOCK_SCALING_VERSION = 120900;

    private static final LibraryProbe PROBE = new LibraryProbe(LibrarySpec.CUBLASLT, "cublasLtGetVersion", () -> {
        long version = CublasLtLib.cublasLtGetVersion();
        return version > 0 ? LibraryProbe.Result.of(version)
                : LibraryProbe.Result.failed("cublasLtGetVersion returned " + version);
    });

    private CublasLt() {}

    private static LibraryProbe.Result probe() {
        return PROBE.get();
    }

    /** Whether cuBLASLt can be used: libcublasLt loads and reports its version. */
    public static boolean isAvailable() {
        return probe().available();
    }

    /** Why cuBLASLt cannot be used, or an empty string when it can. */
    public static String unavailableReason() {
        return probe().reason();
    }

    /** Throws {@link CublasLtUnavailableException} saying why cuBLASLt cannot be used here. */
    public static void requireAvailable() {
        LibraryProbe.Result p = probe();
        if (!p.available()) {
            throw new CublasLtUnavailableException(p.reason());
        }
    }

    /** The loaded library's version ({@code 130101} for 13.1.1), 0 when cuBLASLt is unavailable. */
    public static long version() {
        return probe().version();
    }

    /** The version of the loaded library as {@code 13.1.1}, or {@code none}. */
    public static String versionString() {
        return formatVersion(version());
    }

    /** Whether the loaded library has the FP32 block scales (1 x 128, 128 x 128) of {@link #BLOCK_SCALING_VERSION}. */
    public static boolean hasBlockScaling() {
        return version() >= BLOCK_SCALING_VERSION;
    }

    /** Formats a cuBLAS version ({@code major * 10000 + minor * 100 + patch}): {@code 130101} as 13.1.1. */
    public static String formatVersion(long version) {
        if (version <= 0) {
            return "none";
        }
        return version / 10000 + "." + version / 100 % 100 + "." + version % 100;
    }

    /** The symbolic name of a {@code cublasStatus_t}, e.g. {@code CUBLAS_STATUS_NOT_SUPPORTED}, library or not. */
    public static String statusName(int status) {
        // The values of cublas_api.h; kept here so that names are right where the library is absent.
        return switch (status) {
            case 0 -> "CUBLAS_STATUS_SUCCESS";
            case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
            case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
            case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
            case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
            case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
            case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
            case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
            case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
            case 16 -> "CUBLAS_STATUS_LICENSE_ERROR";
            default -> "cublasStatus " + status;
        };
    }

    /** cuBLASLt's description of a status; a fixed text where libcublasLt is not loaded. */
    @SuppressWarnings("restricted")
    public static String statusString(int status) {
        if (NativeLibrary.loaded(LibrarySpec.CUBLASLT).isEmpty()) {
            return "(libcublasLt not loaded)";
        }
        try {
            return CublasLtLib.cublasLtGetStatusString(status).reinterpret(1024).getString(0);
        } catch (LinkageError e) {
            return "(no description: " + e.getMessage() + ")";
        }
    }

    /**
     * The exception for a problem cuBLASLt's heuristic proposes no algorithm for: the status it
     * answers then ({@code CUBLAS_STATUS_NOT_SUPPORTED}), the problem, the GPU and the library's version.
     */
    public static CublasLtException noAlgorithm(String problem, int device) {
        int status = CublasLtLib.CUBLAS_STATUS_NOT_SUPPORTED();
        return new CublasLtException(status, statusName(status), "cuBLASLt " + versionString() + " has no algorithm for it",
                "cublasLtMatmulAlgoGetHeuristic(" + problem + ", cuda:" + device + ")");
    }

    /** Throws {@link CublasLtException} for a failed status of {@code call}. */
    static void check(int status, String call) {
        if (status != 0) {
            throw exception(status, call);
        }
    }

    /** The exception for a failed status (for callers that must clean up before throwing). */
    static CublasLtException exception(int status, String call) {
        return new CublasLtException(status, statusName(status), statusString(status), call);
    }
}
