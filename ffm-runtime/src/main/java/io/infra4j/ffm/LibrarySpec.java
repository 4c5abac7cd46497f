package io.infra4j.ffm;

import java.util.List;
import java.util.Objects;

/**
 * What to look for when finding one native library: the file names (most specific first), the
 * environment variable that overrides the search, the folders of pip's NVIDIA wheels that may hold
 * it, and whether it comes with the CUDA toolkit or inside the infra4j jar.
 *
 * @param name          short name, as in messages and {@code infra4j info} ({@code cudart})
 * @param envVar        environment variable naming the file or the folder to use instead of searching
 * @param fileNames     file names to try, most specific first ({@code libcudart.so.13}, ...)
 * @param pipFolders    folders under a Python site-packages that pip's wheels install it to
 * @param cudaToolkit   whether the CUDA toolkit ({@code CUDA_HOME}, {@code /usr/local/cuda}) ships it
 * @param bundled       whether the infra4j jar carries it (built from native-src)
 */
public record LibrarySpec(String name, String envVar, List<String> fileNames, List<String> pipFolders,
                          boolean cudaToolkit, boolean bundled) {

    public LibrarySpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(envVar, "envVar");
        fileNames = List.copyOf(fileNames);
        pipFolders = List.copyOf(pipFolders);
        if (fileNames.isEmpty()) {
            throw new IllegalArgumentException("fileNames: at least one file name is needed");
        }
    }

    /** The CUDA runtime, major version 13: the bindings follow its headers' structure layouts. */
    public static final LibrarySpec CUDART = new LibrarySpec("cudart", "INFRA4J_CUDART_PATH",
            List.of("libcudart.so.13"),
            List.of("nvidia/cu13/lib", "nvidia/cuda_runtime/lib"), true, false);

    /** cuBLASLt, the peer of the FP8 GEMMs. */
    public static final LibrarySpec CUBLASLT = new LibrarySpec("cublasLt", "INFRA4J_CUBLASLT_PATH",
            List.of("libcublasLt.so.13"),
            List.of("nvidia/cu13/lib", "nvidia/cublas/lib"), true, false);

    /** NCCL, for collectives between GPUs. */
    public static final LibrarySpec NCCL = new LibrarySpec("nccl", "INFRA4J_NCCL_PATH",
            List.of("libnccl.so.2", "libnccl.so"),
            List.of("nvidia/nccl/lib", "nvidia/cu13/lib"), false, false);

    /** NVSHMEM's host library, for expert-parallel communication. */
    public static final LibrarySpec NVSHMEM = new LibrarySpec("nvshmem", "INFRA4J_NVSHMEM_PATH",
            List.of("libnvshmem_host.so.3", "libnvshmem_host.so"),
            List.of("nvidia/nvshmem/lib", "nvidia/cu13/lib"), false, false);

    /** infra4j's own CUDA kernels (native-src), carried inside the infra4j-native jar. */
    public static final LibrarySpec INFRA4J_CUDA = new LibrarySpec("infra4j_cuda", "INFRA4J_CUDA_KERNELS_PATH",
            List.of("libinfra4j_cuda.so"), List.of(), false, true);

    /** infra4j's USRBIO library (3FS's client API over io_uring), carried inside the infra4j-native jar. */
    public static final LibrarySpec INFRA4J_USRBIO = new LibrarySpec("infra4j_usrbio", "INFRA4J_USRBIO_PATH",
            List.of("libinfra4j_usrbio.so"), List.of(), false, true);

    /** Every library infra4j knows how to find, in the order {@code infra4j info} lists them. */
    public static List<LibrarySpec> known() {
        return List.of(CUDART, INFRA4J_CUDA, CUBLASLT, NCCL, NVSHMEM, INFRA4J_USRBIO);
    }
}
