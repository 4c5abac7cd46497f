package io.infra4j.benchmarks.gpu;

import java.util.Arrays;

/**
 * Timings of one GPU region over several runs, in milliseconds, from CUDA events.
 *
 * @param name  what was timed
 * @param runs      the timed runs (after warm-up), in the order they ran
 * @param hostRuns  the host's time to queue each timed run, in milliseconds (empty when not taken)
 */
public record GpuTiming(String name, double[] runs, double[] hostRuns) {
    public GpuTiming {
        if (runs.length == 0) {
            throw new IllegalArgumentException("runs: at least one timed run is needed");
        }
        runs = runs.clone();
        hostRuns = hostRuns == null ? new double[0] : hostRuns.clone();
    }

    public GpuTiming(String name, double[] runs) {
        this(name, runs, new double[0]);
    }

    /** The median time the host took to queue a run (NaN when not taken). */
    public double hostMedianMs() {
        if (hostRuns.length == 0) {
            return Double.NaN;
        }
        double[] s = hostRuns.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private double[] sorted() {
        double[] s = runs.clone();
        Arrays.sort(s);
        return s;
    }

    public double medianMs() {
        double[] s = sorted();
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    public double minMs() {
        return sorted()[0];
    }

    public double maxMs() {
        return sorted()[runs.length - 1];
    }

    /** The q-quantile (0..1), nearest rank. */
    public double quantileMs(double q) {
        double[] s = sorted();
        int i = (int) Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))));
        return s[i];
    }

    /** Gigabytes (1e9) per second for {@code bytes} moved in the median time. */
    public double gbPerSecond(long bytes) {
        return bytes / (medianMs() * 1e-3) / 1e9;
    }

    /** Tera-operations (1e12) per second for {@code flops} done in the median time. */
    public double teraFlops(double flops) {
        return flops / (medianMs() * 1e-3) / 1e12;
    }
}
