package io.infra4j.cli;

import java.io.PrintStream;

/** {@link InfoReport} as text: one section per part, the search trail of libraries when it helps. */
final class InfoText {
    private static final String KEY = "  %-14s %s%n";

    private InfoText() {}

    static void print(InfoReport r, boolean verbose, PrintStream out) {
        out.println("infra4j " + r.infra4jVersion());
        out.println();
        out.println("JDK");
        out.printf(KEY, "version", r.jdk().version());
        out.printf(KEY, "vendor", r.jdk().vendor());
        out.printf(KEY, "home", r.jdk().home());
        out.println("OS");
        out.printf(KEY, "name", r.os().name() + " " + r.os().version());
        out.printf(KEY, "arch", r.os().arch());
        out.printf(KEY, "processors", r.os().availableProcessors());
        cuda(r.cuda(), verbose, out);
        libraries(r, verbose, out);
        out.println("Kernels (infra4j_cuda)");
        out.printf(KEY, "available", r.kernels().available()
                ? "yes (ABI " + r.kernels().abiVersion() + ")"
                : "no: " + reason(r.kernels().unavailableReason(), verbose));
        out.println("Leak tracking");
        out.printf(KEY, "mode", r.leakTracking().mode());
        out.printf(KEY, "", r.leakTracking().hint());
    }

    private static void cuda(InfoReport.CudaInfo c, boolean verbose, PrintStream out) {
        out.println("CUDA");
        out.printf(KEY, "available", c.available() ? "yes" : "no: " + reason(c.unavailableReason(), verbose));
        out.printf(KEY, "runtime", c.runtimeVersion());
        out.printf(KEY, "driver", c.driverVersion());
        out.printf(KEY, "GPUs", c.deviceCount());
        for (InfoReport.Gpu g : c.gpus()) {
            out.printf("  GPU %d: %s%n", g.ordinal(), g.name());
            out.printf("    %-12s %s total, %s free%n", "memory", TextFormat.bytes(g.totalMemoryBytes()),
                    g.freeMemoryBytes() == null ? "?" : TextFormat.bytes(g.freeMemoryBytes()));
            out.printf("    %-12s %s, %s SMs%n", "compute", "sm " + g.computeCapability(),
                    g.multiprocessorCount() == null ? "?" : g.multiprocessorCount());
            out.printf("    %-12s %s%n", "PCI bus", g.pciBusId());
            out.printf("    %-12s CUDA %s%n", "driver", g.driverVersion());
            if (g.error() != null) {
                out.printf("    %-12s %s%n", "error", g.error());
            }
        }
    }

    private static void libraries(InfoReport r, boolean verbose, PrintStream out) {
        out.println("Native libraries");
        for (InfoReport.Library l : r.libraries()) {
            if (l.found()) {
                out.printf("  %-14s found    %s  (%s)%n", l.name(), l.path(), l.foundBy());
            } else {
                out.printf("  %-14s missing  (set %s to its file or folder)%n", l.name(), l.envVar());
            }
            if (!l.found() || verbose) {
                for (String place : l.looked()) {
                    out.println("      looked: " + place);
                }
            }
        }
    }

    /** Reasons can list a whole search; the libraries section shows that, so one line is enough here. */
    private static String reason(String reason, boolean verbose) {
        return verbose ? reason : TextFormat.reason(reason);
    }
}
