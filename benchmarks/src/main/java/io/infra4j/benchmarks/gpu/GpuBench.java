package io.infra4j.benchmarks.gpu;

import io.infra4j.ffm.CudaEvent;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;

/**
 * The GPU timing harness every module's benchmarks use: warm-up runs first (module loading, pool
 * growth and clocks settle), then timed runs, each between two CUDA events on the stream, with the
 * L2 cache flushed before each so that inputs come from device memory as they would in real use;
 * the report is the median (see {@link GpuTiming}).
 *
 * <pre>{@code
 * try (GpuBench bench = GpuBench.open(device, stream)) {
 *     GpuTiming t = bench.time("cast f32->bf16", () -> TensorOps.cast(src, dst, CastMode.STANDARD, stream));
 *     double gbs = t.gbPerSecond(bytes);
 * }
 * }</pre>
 */
public final class GpuBench implements AutoCloseable {
    /**
     * @param warmup  untimed runs first
     * @param runs    timed runs (the method asks for at least 20)
     * @param flushL2 write a buffer twice the L2's size before each timed run
     */
    public record Options(int warmup, int runs, boolean flushL2) {
        public Options {
            if (warmup < 0 || runs < 1) {
                throw new IllegalArgumentException("warmup >= 0 and runs >= 1 expected, got " + warmup + ", " + runs);
            }
        }

        public static Options defaults() {
            return new Options(5, 30, true);
        }
    }

    private final CudaStream stream;
    private final Options options;
    private final Tensor flushBuffer;
    private final CudaEvent start;
    private final CudaEvent end;
    private long flushes;

    private GpuBench(Device device, CudaStream stream, Options options, long l2Bytes) {
        this.stream = stream;
        this.options = options;
        this.flushBuffer = options.flushL2() ? Tensor.empty(DType.U8, device, stream, Math.max(2 * l2Bytes, 1L << 20)) : null;
        // On the stream's device, whichever device is current (an event records only on its own device's streams).
        this.start = CudaEvent.create(io.infra4j.ffm.Cuda.device(device.index()), true);
        this.end = CudaEvent.create(io.infra4j.ffm.Cuda.device(device.index()), true);
    }

    public static GpuBench open(Device device, CudaStream stream) {
        return open(device, stream, Options.defaults());
    }

    public static GpuBench open(Device device, CudaStream stream, Options options) {
        long l2 = io.infra4j.ffm.Cuda.device(device.index()).l2CacheBytes();
        return new GpuBench(device, stream, options, l2);
    }

    /** Times {@code work}, which must queue its GPU work on this harness's stream. */
    public GpuTiming time(String name, Runnable work) {
        int warmup = WARMUP_OVERRIDE >= 0 ? WARMUP_OVERRIDE : options.warmup();
        for (int i = 0; i < warmup; i++) {
            work.run();
        }
        stream.synchronize();
        double[] ms = new double[options.runs()];
        double[] host = new double[options.runs()];
        for (int i = 0; i < options.runs(); i++) {
            for (int f = 0; f < LEAD_FLUSHES; f++) {
                flushL2();
            }
            start.record(stream);
            long h0 = System.nanoTime();
            work.run();
            host[i] = (System.nanoTime() - h0) / 1e6;
            end.record(stream);
            end.synchronize();
            ms[i] = CudaEvent.elapsedMillis(start, end);
        }
        return new GpuTiming(name, ms, host);
    }

    /** INFRA4J_BENCH_WARMUP: untimed runs for every timing, instead of the caller's count (-1: the caller's). */
    static final int WARMUP_OVERRIDE = Integer.parseInt(System.getenv().getOrDefault("INFRA4J_BENCH_WARMUP", "-1"));

    /**
     * L2 flushes queued before each timed run's start event (INFRA4J_BENCH_LEAD_FLUSHES, default 4, about
     * 130 us of GPU work on an H200): they keep the GPU busy while the host queues the work, so that the
     * host's time does not count. A benchmark's few hundred calls leave the JIT cold, and then an MLA
     * decode took 20-200 us to queue (15-18 us once warm, MlaHostCost); one flush (35 us) let it show.
     */
    static final int LEAD_FLUSHES = Math.max(1, Integer.parseInt(System.getenv().getOrDefault("INFRA4J_BENCH_LEAD_FLUSHES", "4")));

    /** Evicts the L2 by writing a buffer twice its size (outside the timed region). */
    public void flushL2() {
        if (flushBuffer != null) {
            TensorOps.fillBits(flushBuffer, ++flushes, stream);
        }
    }

    public CudaStream stream() {
        return stream;
    }

    @Override
    public void close() {
        stream.synchronize();
        start.close();
        end.close();
        if (flushBuffer != null) {
            flushBuffer.close();
        }
    }
}
