package io.infra4j.cli;

import io.infra4j.benchmarks.deepgemm.GemmBenchmarks;
import io.infra4j.benchmarks.gpu.GpuBench;
import io.infra4j.benchmarks.gpu.GpuTiming;
import io.infra4j.deepgemm.Fp8Gemm;
import io.infra4j.deepgemm.GemmBackend;
import io.infra4j.deepgemm.GemmOptions;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.KernelLibrary;
import io.infra4j.memory.Device;
import io.infra4j.memory.TensorScope;
import java.util.Locale;

/**
 * {@code infra4j bench gemm}: one FP8 GEMM shape timed on GPU 0 the way the deepgemm benchmark
 * (io.infra4j.benchmarks.deepgemm.GemmBenchmarks) times its own: random finite e4m3 operands and
 * scales, A's scales made M-major once, then {@link GpuBench}: warm-ups, each timed run between CUDA
 * events with the L2 flushed before it, the median reported.
 */
final class GemmBench {
    static final int WARMUP = 5;

    private GemmBench() {}

    /** One shape: {@code rows} per group (masked: valid rows of each group, m_max 4096). */
    record Config(String layout, int groups, int rows, int n, int k, String backend, int runs) {
        GemmBenchmarks.Config shape() {
            String name = String.format(Locale.ROOT, "%s%s m=%d n=%d k=%d", layout, layout.equals("dense") ? "" : " g=" + groups,
                    rows, n, k);
            return new GemmBenchmarks.Config(name, layout, groups, rows, n, k);
        }
    }

    record Result(Config config, String gpu, GpuTiming timing) {
        double ms() {
            return timing.medianMs();
        }

        double tflops() {
            return config.shape().flops() / ms() / 1e9;
        }

        double tbPerSecond() {
            return config.shape().bytes() / ms() / 1e9;
        }
    }

    /** Null when GPU 0 can run the GEMM with this backend; else why not, in one line. */
    static String gpuMissing(String backend) {
        if (!Cuda.isAvailable()) {
            return TextFormat.reason(Cuda.unavailableReason());
        }
        if (backend.equals("cublaslt")) {
            return Fp8Gemm.isCublasLtAvailable() ? null : "cuBLASLt's block-scaled FP8 matmul is not available: "
                    + TextFormat.reason(Fp8Gemm.cublasLtUnavailableReason());
        }
        if (!KernelLibrary.isAvailable()) {
            return "CUDA works but the infra4j kernels do not: " + TextFormat.reason(KernelLibrary.unavailableReason());
        }
        if (!Fp8Gemm.isKernelAvailable()) {
            return "the loaded libinfra4j_cuda has no FP8 GEMM (built from older sources; rebuild native-src)";
        }
        return null;
    }

    /** Times the shape on GPU 0; the caller checked {@link #gpuMissing}. */
    static Result run(Config c) {
        CudaDevice gpu = Cuda.device(0);
        Device dev = Device.cuda(0);
        GemmBackend backend = c.backend().equals("cublaslt") ? GemmBackend.CUBLASLT : GemmBackend.KERNEL;
        try (CudaStream stream = CudaStream.create(gpu);
             GpuBench bench = GpuBench.open(dev, stream, new GpuBench.Options(WARMUP, c.runs(), true));
             TensorScope scope = TensorScope.open(stream);
             GemmBenchmarks.Inputs in = GemmBenchmarks.Inputs.random(scope, dev, stream, c.shape())) {
            GpuTiming t = bench.time(c.shape().name(), () -> in.run(GemmOptions.on(stream).withBackend(backend)));
            return new Result(c, gpu.name(), t);
        }
    }
}
