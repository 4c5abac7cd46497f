package io.infra4j.cli;

import io.infra4j.cli.InfoReport.CudaInfo;
import io.infra4j.cli.InfoReport.Gpu;
import io.infra4j.cli.InfoReport.Jdk;
import io.infra4j.cli.InfoReport.Kernels;
import io.infra4j.cli.InfoReport.LeakTracking;
import io.infra4j.cli.InfoReport.Library;
import io.infra4j.cli.InfoReport.Os;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.KernelLibrary;
import io.infra4j.ffm.LibrarySpec;
import io.infra4j.ffm.NativeLibrary;
import io.infra4j.ffm.ResourceTracker;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Gathers an {@link InfoReport} without loading any optional library just to list it: libraries
 * are searched, not loaded, and a failure in one part becomes a field of that part, so
 * {@code info} never fails because one library or one GPU misbehaves.
 */
final class InfoCollector {
    private InfoCollector() {}

    static InfoReport collect() {
        return new InfoReport(Version.get(), jdk(), os(), cuda(), libraries(), kernels(), leakTracking());
    }

    private static Jdk jdk() {
        return new Jdk(System.getProperty("java.version"), System.getProperty("java.vendor"),
                System.getProperty("java.home"), System.getProperty("java.vm.name"));
    }

    private static Os os() {
        return new Os(System.getProperty("os.name"), System.getProperty("os.version"), System.getProperty("os.arch"),
                Runtime.getRuntime().availableProcessors());
    }

    private static CudaInfo cuda() {
        boolean available = Cuda.isAvailable();
        List<Gpu> gpus = new ArrayList<>();
        for (CudaDevice d : Cuda.devices()) {
            gpus.add(gpu(d));
        }
        return new CudaInfo(available, available ? null : Cuda.unavailableReason(),
                Cuda.formatVersion(Cuda.runtimeVersion()), Cuda.formatVersion(Cuda.driverVersion()),
                Cuda.deviceCount(), gpus);
    }

    private static Gpu gpu(CudaDevice d) {
        String driver = Cuda.formatVersion(Cuda.driverVersion());
        try {
            CudaDevice.MemoryInfo mem = d.memoryInfo();
            return new Gpu(d.ordinal(), d.name(), d.totalMemory(), mem.freeBytes(), d.computeCapability(),
                    d.multiprocessorCount(), d.pciBusId(), driver, null);
        } catch (RuntimeException e) {
            return new Gpu(d.ordinal(), d.name(), d.totalMemory(), null, d.computeCapability(), null, d.pciBusId(),
                    driver, e.getMessage());
        }
    }

    private static List<Library> libraries() {
        List<Library> out = new ArrayList<>();
        for (LibrarySpec spec : LibrarySpec.known()) {
            try {
                NativeLibrary.SearchResult r = NativeLibrary.search(spec);
                out.add(new Library(spec.name(), spec.envVar(), r.found(), r.path().map(Object::toString).orElse(null),
                        r.found() ? r.foundBy() : null, r.looked()));
            } catch (RuntimeException e) {
                // e.g. the bundled copy could not be extracted: say so, keep going.
                out.add(new Library(spec.name(), spec.envVar(), false, null, null,
                        List.of("search failed: " + e.getMessage())));
            }
        }
        return out;
    }

    private static Kernels kernels() {
        if (!KernelLibrary.isAvailable()) {
            return new Kernels(false, KernelLibrary.unavailableReason(), null);
        }
        return new Kernels(true, null, KernelLibrary.abiVersion());
    }

    private static LeakTracking leakTracking() {
        return new LeakTracking(ResourceTracker.mode().name().toLowerCase(Locale.ROOT),
                "INFRA4J_LEAKS=report or trace (or -Dinfra4j.leaks=...) lists unclosed native resources at exit");
    }
}
