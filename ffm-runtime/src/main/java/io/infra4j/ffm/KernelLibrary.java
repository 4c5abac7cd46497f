package io.infra4j.ffm;

import io.infra4j.bindings.kernels.Infra4jKernels;

/**
 * infra4j's own CUDA kernels ({@code libinfra4j_cuda.so}, built from native-src): loaded after the
 * CUDA runtime, whose libcudart it links against, and checked for a matching ABI version.
 */
public final class KernelLibrary {
    private record State(boolean available, String reason) {}

    private static volatile State state;

    private KernelLibrary() {}

    private static State state() {
        State s = state;
        if (s == null) {
            synchronized (KernelLibrary.class) {
                s = state;
                if (s == null) {
                    s = load();
                    state = s;
                }
            }
        }
        return s;
    }

    private static State load() {
        if (!Cuda.isAvailable()) {
            return new State(false, Cuda.unavailableReason());
        }
        try {
            NativeLibrary.load(LibrarySpec.INFRA4J_CUDA);
        } catch (NativeLibraryNotFoundException | UnsatisfiedLinkError e) {
            return new State(false, "the infra4j kernels could not be loaded: " + e.getMessage());
        }
        int abi = Infra4jKernels.infra4j_abi_version();
        int expected = Infra4jKernels.INFRA4J_ABI_VERSION();
        if (abi / 10000 != expected / 10000) {
            return new State(false, "libinfra4j_cuda has ABI " + abi + ", these bindings expect " + expected);
        }
        return new State(true, "");
    }

    /** Whether the kernels can run here: CUDA is available and the library loaded with a matching ABI. */
    public static boolean isAvailable() {
        return state().available();
    }

    /** Why they cannot, or an empty string. */
    public static String unavailableReason() {
        return state().reason();
    }

    /** Throws {@link CudaUnavailableException} saying why the kernels cannot run here. */
    public static void require() {
        State s = state();
        if (!s.available()) {
            throw new CudaUnavailableException(s.reason());
        }
    }

    /** The ABI version of the loaded library. */
    public static int abiVersion() {
        require();
        return Infra4jKernels.infra4j_abi_version();
    }

    /**
     * Launches the empty kernel with {@code grid} blocks of {@code block} threads. Not checked in
     * advance on purpose: an impossible shape comes back from CUDA as a {@link CudaException}, which
     * is what tests of error handling and benchmarks of the launch path need.
     */
    public static void launchEmptyKernel(int grid, int block, CudaStream stream) {
        require();
        Cuda.check(Infra4jKernels.infra4j_empty_kernel(grid, block, stream.handle()), "infra4j_empty_kernel");
    }
}
