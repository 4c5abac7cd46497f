package io.infra4j.cli;

import java.util.List;

/**
 * What this machine offers infra4j: the document {@code infra4j info} prints (gathered by
 * {@link InfoCollector}).
 */
record InfoReport(String infra4jVersion, Jdk jdk, Os os, CudaInfo cuda, List<Library> libraries, Kernels kernels,
                  LeakTracking leakTracking) {

    record Jdk(String version, String vendor, String home, String vm) {}

    record Os(String name, String version, String arch, int availableProcessors) {}

    /** {@code unavailableReason} is null when CUDA is available. */
    record CudaInfo(boolean available, String unavailableReason, String runtimeVersion, String driverVersion,
                    int deviceCount, List<Gpu> gpus) {}

    /** Memory in bytes; {@code error} is non-null when the GPU could not be queried fully. */
    record Gpu(int ordinal, String name, long totalMemoryBytes, Long freeMemoryBytes, String computeCapability,
               Integer multiprocessorCount, String pciBusId, String driverVersion, String error) {}

    /** One native library: where the search found it (or not) and every place it looked. */
    record Library(String name, String envVar, boolean found, String path, String foundBy, List<String> looked) {}

    record Kernels(boolean available, String unavailableReason, Integer abiVersion) {}

    record LeakTracking(String mode, String hint) {}
}
