package io.infra4j.ffm.nvshmem;

import static io.infra4j.bindings.nvshmem.NvshmemLib.C_INT;

import io.infra4j.bindings.nvshmem.NvshmemLib;
import io.infra4j.ffm.LibraryProbe;
import io.infra4j.ffm.LibrarySpec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * NVSHMEM as Java sees it: whether its host library can be used here, its version, the environment
 * infra4j gives it, and the one place where an NVSHMEM status becomes an {@link NvshmemException}.
 *
 * <p>{@link #isAvailable()} answers, without an exception, false where {@code libnvshmem_host.so.3}
 * cannot be found or loaded (found as {@link LibrarySpec#NVSHMEM} is: {@code INFRA4J_NVSHMEM_PATH},
 * {@code LD_LIBRARY_PATH}, the loader's cache, pip's nvidia-nvshmem wheel); {@link #unavailableReason()}
 * says why. A world ({@link NvshmemWorld}) also needs CUDA and a GPU.
 */
public final class Nvshmem {
    private static final LibraryProbe PROBE = new LibraryProbe(LibrarySpec.NVSHMEM, "nvshmemx_vendor_get_version_info", () -> {
        // Answers before initialisation: the host library's own version constants.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment major = arena.allocate(C_INT);
            MemorySegment minor = arena.allocate(C_INT);
            MemorySegment patch = arena.allocate(C_INT);
            NvshmemLib.nvshmemx_vendor_get_version_info(major, minor, patch);
            int code = versionCode(major.get(C_INT, 0), minor.get(C_INT, 0), patch.get(C_INT, 0));
            return code > 0 ? LibraryProbe.Result.of(code)
                    : LibraryProbe.Result.failed("nvshmemx_vendor_get_version_info reported version " + code);
        }
    });

    private Nvshmem() {}

    private static LibraryProbe.Result probe() {
        return PROBE.get();
    }

    /** Whether NVSHMEM can be used: libnvshmem_host loads and reports its version. */
    public static boolean isAvailable() {
        return probe().available();
    }

    /** Why NVSHMEM cannot be used, or an empty string when it can. */
    public static String unavailableReason() {
        return probe().reason();
    }

    /** Throws {@link NvshmemUnavailableException} saying why NVSHMEM cannot be used here. */
    public static void requireAvailable() {
        LibraryProbe.Result p = probe();
        if (!p.available()) {
            throw new NvshmemUnavailableException(p.reason());
        }
    }

    /** The loaded library's version as major*10000+minor*100+patch ({@code 30405} for 3.4.5), 0 when unavailable. */
    public static int version() {
        return (int) probe().version();
    }

    /** The loaded library's version as {@code 3.4.5}, or {@code none}. */
    public static String versionString() {
        return formatVersion(version());
    }

    /** The version these bindings were generated from ({@code NVSHMEM_VENDOR_VERSION} of the headers). */
    public static int headerVersion() {
        return versionCode(NvshmemLib.NVSHMEM_VENDOR_MAJOR_VERSION(), NvshmemLib.NVSHMEM_VENDOR_MINOR_VERSION(),
                NvshmemLib.NVSHMEM_VENDOR_PATCH_VERSION());
    }

    /** The OpenSHMEM specification the loaded library implements ({@code nvshmem_info_get_version}), e.g. {@code 1.3}. */
    public static String specVersion() {
        requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment major = arena.allocate(C_INT);
            MemorySegment minor = arena.allocate(C_INT);
            NvshmemLib.nvshmem_info_get_version(major, minor);
            return major.get(C_INT, 0) + "." + minor.get(C_INT, 0);
        }
    }

    /** NVSHMEM's encoding of a version ({@code NVSHMEM_VENDOR_VERSION}). */
    static int versionCode(int major, int minor, int patch) {
        return major * 10000 + minor * 100 + patch;
    }

    /** Formats a version code: {@code 30405} as 3.4.5. */
    public static String formatVersion(int code) {
        if (code <= 0) {
            return "none";
        }
        return code / 10000 + "." + code / 100 % 100 + "." + code % 100;
    }

    /**
     * The environment variables infra4j set for NVSHMEM in this process because they were unset
     * (empty until the first {@link NvshmemUniqueId#create()} or {@link NvshmemWorld#init}):
     * {@code NVSHMEM_BOOTSTRAP_UID_PLUGIN} (the plugin's absolute path beside the host library) and
     * {@code NVSHMEM_DISABLE_NVLS=1}. NVSHMEM reads its environment once, at its first call.
     */
    public static Map<String, String> environmentDefaults() {
        return NvshmemEnv.applied();
    }

    /** The symbolic name of an NVSHMEM status ({@code enum nvshmemx_status}), e.g. {@code NVSHMEMX_ERROR_INTERNAL}. */
    public static String statusName(int code) {
        return switch (code) {
            case 0 -> "NVSHMEMX_SUCCESS";
            case 1 -> "NVSHMEMX_ERROR_INVALID_VALUE";
            case 2 -> "NVSHMEMX_ERROR_OUT_OF_MEMORY";
            case 3 -> "NVSHMEMX_ERROR_NOT_SUPPORTED";
            case 4 -> "NVSHMEMX_ERROR_SYMMETRY";
            case 5 -> "NVSHMEMX_ERROR_GPU_NOT_SELECTED";
            case 6 -> "NVSHMEMX_ERROR_COLLECTIVE_LAUNCH_FAILED";
            case 7 -> "NVSHMEMX_ERROR_INTERNAL";
            default -> "NVSHMEM status " + code;
        };
    }

    /** Throws {@link NvshmemException} for a failed status of {@code call}. */
    static void check(int status, String call) {
        if (status != 0) {
            throw exception(status, call);
        }
    }

    /** The exception for a failed status (for callers that must clean up before throwing). */
    static NvshmemException exception(int status, String call) {
        return new NvshmemException(status, statusName(status), call);
    }
}
