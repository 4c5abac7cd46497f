package io.infra4j.ffm;

import static io.infra4j.bindings.cudart.CudaRuntime.C_INT;

import io.infra4j.bindings.cudart.CudaRuntime;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The CUDA runtime as Java sees it: whether it can be used here, its devices and versions, and the
 * one place where a CUDA status becomes a {@link CudaException}.
 *
 * <p>{@link #isAvailable()} answers, without an exception, false on a machine with no libcudart, no
 * driver or no GPU (and when {@code INFRA4J_DISABLE_CUDA=1}); {@link #unavailableReason()} says why.
 * Everything else here needs the runtime and throws {@link CudaUnavailableException} without it.
 */
public final class Cuda {
    /** The outcome of probing the runtime once per process. */
    private record Probe(boolean available, String reason, int deviceCount, int runtimeVersion, int driverVersion) {}

    private static volatile Probe probe;
    private static volatile CudaDevice[] devices;

    private Cuda() {}

    private static Probe probe() {
        Probe p = probe;
        if (p == null) {
            synchronized (Cuda.class) {
                p = probe;
                if (p == null) {
                    p = runProbe();
                    probe = p;
                }
            }
        }
        return p;
    }

    private static Probe runProbe() {
        if ("1".equals(System.getenv("INFRA4J_DISABLE_CUDA")) || Boolean.getBoolean("infra4j.disableCuda")) {
            return new Probe(false, "CUDA disabled by INFRA4J_DISABLE_CUDA=1 / -Dinfra4j.disableCuda=true", 0, 0, 0);
        }
        try {
            NativeLibrary.load(LibrarySpec.CUDART);
        } catch (NativeLibraryNotFoundException | UnsatisfiedLinkError e) {
            return new Probe(false, "the CUDA runtime could not be loaded: " + e.getMessage(), 0, 0, 0);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_INT);
            int runtime = CudaRuntime.cudaRuntimeGetVersion(out) == 0 ? out.get(C_INT, 0) : 0;
            int driver = CudaRuntime.cudaDriverGetVersion(out) == 0 ? out.get(C_INT, 0) : 0;
            int status = CudaRuntime.cudaGetDeviceCount(out);
            if (status != 0) {
                return new Probe(false, "cudaGetDeviceCount: " + errorName(status) + " (" + status + "): "
                        + errorString(status) + (driver == 0 ? " [no CUDA driver found]" : ""), 0, runtime, driver);
            }
            int count = out.get(C_INT, 0);
            if (count == 0) {
                return new Probe(false, "no CUDA device", 0, runtime, driver);
            }
            return new Probe(true, "", count, runtime, driver);
        }
    }

    /** Whether CUDA can be used: libcudart loads, a driver answers and at least one GPU exists. */
    public static boolean isAvailable() {
        return probe().available();
    }

    /** Why CUDA cannot be used, or an empty string when it can. */
    public static String unavailableReason() {
        return probe().reason();
    }

    /** Throws {@link CudaUnavailableException} saying why CUDA cannot be used here. */
    public static void requireAvailable() {
        Probe p = probe();
        if (!p.available()) {
            throw new CudaUnavailableException(p.reason());
        }
    }

    /** Number of GPUs, 0 when CUDA is unavailable. */
    public static int deviceCount() {
        return probe().deviceCount();
    }

    /** The runtime's version (13000 for 13.0), 0 when unknown. */
    public static int runtimeVersion() {
        return probe().runtimeVersion();
    }

    /** The newest CUDA version the installed driver supports (13000 for 13.0), 0 without a driver. */
    public static int driverVersion() {
        return probe().driverVersion();
    }

    /** Formats a CUDA version number ({@code 13000}) as {@code 13.0}. */
    public static String formatVersion(int v) {
        return v <= 0 ? "none" : (v / 1000) + "." + (v % 1000) / 10;
    }

    /** The GPU with this ordinal. */
    public static CudaDevice device(int ordinal) {
        requireAvailable();
        CudaDevice[] all = allDevices();
        if (ordinal < 0 || ordinal >= all.length) {
            throw new IllegalArgumentException("ordinal: expected 0.." + (all.length - 1) + ", got " + ordinal);
        }
        return all[ordinal];
    }

    /** Every GPU, empty when CUDA is unavailable. */
    public static List<CudaDevice> devices() {
        return isAvailable() ? List.of(allDevices()) : List.of();
    }

    private static CudaDevice[] allDevices() {
        CudaDevice[] d = devices;
        if (d == null) {
            synchronized (Cuda.class) {
                d = devices;
                if (d == null) {
                    List<CudaDevice> list = new ArrayList<>();
                    for (int i = 0; i < deviceCount(); i++) {
                        list.add(CudaDevice.query(i));
                    }
                    d = list.toArray(new CudaDevice[0]);
                    devices = d;
                }
            }
        }
        return d;
    }

    /** Throws {@link CudaException} for a failed status: a cudaError_t, or infra4j's own negative codes. */
    public static void check(int status, String call) {
        if (status != 0) {
            if (status > 0 && isAvailable()) {
                // The runtime also keeps a failed call's error as this thread's last one: once reported here, it
                // must not resurface as the error of the next, unrelated launch.
                CudaRuntime.cudaGetLastError();
            }
            throw exception(status, call);
        }
    }

    /** The exception for a failed status (for callers that must clean up before throwing). */
    public static CudaException exception(int status, String call) {
        return new CudaException(status, errorName(status), errorString(status), call);
    }

    /** The name of a status: {@code cudaErrorInvalidValue}, or {@code INFRA4J_ERROR_...} for negative ones. */
    @SuppressWarnings("restricted")
    public static String errorName(int status) {
        if (status < 0) {
            return Infra4jStatus.name(status);
        }
        if (NativeLibrary.loaded(LibrarySpec.CUDART).isEmpty()) {
            return "cudaError " + status;
        }
        return CudaRuntime.cudaGetErrorName(status).reinterpret(256).getString(0);
    }

    /** The runtime's description of a status. */
    @SuppressWarnings("restricted")
    public static String errorString(int status) {
        if (status < 0) {
            return Infra4jStatus.message(status);
        }
        if (NativeLibrary.loaded(LibrarySpec.CUDART).isEmpty()) {
            return "(libcudart not loaded)";
        }
        return CudaRuntime.cudaGetErrorString(status).reinterpret(1024).getString(0);
    }

    /** Takes the last launch error of this thread off the runtime (0 when none); used after failed launches. */
    public static int takeLastError() {
        requireAvailable();
        return CudaRuntime.cudaGetLastError();
    }

    /** Waits for all work on the current device. */
    public static void synchronizeCurrentDevice() {
        requireAvailable();
        check(CudaRuntime.cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    }

    /**
     * Makes {@code ordinal} this thread's current device. A no-op on a one-GPU machine, where the
     * current device can only be 0, so that hot paths pay nothing.
     */
    public static void useDevice(int ordinal) {
        if (deviceCount() > 1) {
            check(CudaRuntime.cudaSetDevice(ordinal), "cudaSetDevice(" + ordinal + ")");
        }
    }
}
