package io.infra4j.benchmarks.flashmla;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.flashmla.MlaDecode;
import io.infra4j.flashmla.MlaOptions;
import io.infra4j.flashmla.MlaPlan;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorScope;
import java.util.Arrays;
import java.util.Locale;

/**
 * Where the host's time to queue one MLA decode goes (DESIGN.md §13): for a few benchmark configs,
 * the median host time of {@code decodeInto} after a long warm-up, of allocating and freeing a
 * workspace of the decode's size from the device pool, and of a bare CUDA runtime call, each over
 * {@value #CALLS} calls with the stream drained every {@value #BATCH} so the launch queue never fills.
 *
 * <pre>java ... MlaHostCost</pre>
 */
public final class MlaHostCost {
    static final int WARMUP = 3000;
    static final int CALLS = 400;
    static final int BATCH = 8;

    private MlaHostCost() {}

    interface Step {
        void run();
    }

    /** Median host microseconds of {@code step} over CALLS calls, after WARMUP. */
    static double medianUs(Step step, CudaStream stream) {
        for (int i = 0; i < WARMUP; i++) {
            step.run();
            if (i % BATCH == 0) {
                stream.synchronize();
            }
        }
        stream.synchronize();
        double[] us = new double[CALLS];
        for (int i = 0; i < CALLS; i++) {
            long t0 = System.nanoTime();
            step.run();
            us[i] = (System.nanoTime() - t0) / 1e3;
            if (i % BATCH == BATCH - 1) {
                stream.synchronize();
            }
        }
        Arrays.sort(us);
        return us[CALLS / 2];
    }

    public static void main(String[] args) {
        Device dev = Device.cuda(0);
        try (CudaStream stream = CudaStream.create(Cuda.device(0))) {
            for (int[] c : new int[][] {{1, 16, 256}, {128, 16, 8192}, {128, 128, 4096}}) {
                int b = c[0];
                int hq = c[1];
                int[] lens = new int[b];
                Arrays.fill(lens, c[2]);
                try (TensorScope scope = TensorScope.open(stream)) {
                    MlaInputs in = MlaInputs.random(scope, dev, stream, 1, 1, hq, 1, 64, lens, false);
                    try (MlaPlan plan = MlaDecode.plan(in.seqlens(), stream)) {
                        long workspace = (long) plan.totalSplits() * hq * (MlaInputs.DV + 1) * 4;
                        double decode = medianUs(() -> MlaDecode.decodeInto(in.q(), in.kv(), in.blockTable(), in.seqlens(), plan,
                                MlaOptions.defaults(), in.out(), in.lse()), stream);
                        double alloc = medianUs(() -> Tensor.empty(DType.U8, dev, stream, workspace).close(), stream);
                        double bare = medianUs(() -> Cuda.useDevice(0), stream);
                        System.out.printf(Locale.ROOT, "b%d hq%d sk%d: splits %d, workspace %.1f MB; host us per call: decodeInto %.1f,"
                                + " workspace alloc+free %.1f, cudaSetDevice %.2f%n", b, hq, c[2], plan.totalSplits(), workspace / 1e6,
                                decode, alloc, bare);
                    }
                }
            }
        }
    }
}
