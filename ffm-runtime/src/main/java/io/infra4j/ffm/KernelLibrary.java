package io.infra4j.ffm;

import io.infra4j.bindings.kernels.Infra4jKernels;
import java.lang.foreign.SymbolLookup;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * infra4j's own CUDA kernels ({@code libinfra4j_cuda.so}, built from native-src): loaded after the
 * CUDA runtime, whose libcudart it links against, and checked for a matching ABI version.
 */
public final class KernelLibrary {
    private record State(boolean available, String reason) {}

    private static volatile State state;
    private static final Map<String, Boolean> SYMBOLS = new ConcurrentHashMap<>();

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

    /**
     * Whether the loaded library exports {@code symbol}. A library built before a function was added
     * lacks it, and the generated bindings would only find out inside a class initialiser (an
     * ExceptionInInitializerError once, NoClassDefFoundError after): components probe here first.
     */
    public static boolean hasSymbol(String symbol) {
        if (!isAvailable()) {
            return false;
        }
        // The bindings look symbols up in their class loader's libraries: the same lookup here.
        return SYMBOLS.computeIfAbsent(symbol, s -> SymbolLookup.loaderLookup().find(s).isPresent());
    }

    /** Whether the kernels can run here and the loaded library exports every one of {@code symbols}. */
    public static boolean hasSymbols(String... symbols) {
        if (!isAvailable()) {
            return false;
        }
        for (String s : symbols) {
            if (!hasSymbol(s)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Throws {@link CudaUnavailableException} unless the kernels can run here and the library exports
     * every one of {@code symbols}; {@code feature} names what needs them, for the message.
     */
    public static void requireSymbols(String feature, String... symbols) {
        require();
        for (String s : symbols) {
            if (!hasSymbol(s)) {
                throw new CudaUnavailableException(feature + " needs " + s + ", which the loaded libinfra4j_cuda ("
                        + NativeLibrary.loaded(LibrarySpec.INFRA4J_CUDA).map(Object::toString).orElse("?")
                        + ", ABI " + Infra4jKernels.infra4j_abi_version() + ") does not export: it was built from"
                        + " older sources; rebuild native-src");
            }
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
