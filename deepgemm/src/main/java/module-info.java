/**
 * FP8 (e4m3) matrix products with DeepSeek-V3's fine-grained scaling, as DeepGEMM computes them: dense
 * and grouped (mixture of experts, contiguous and masked layouts), the quantisation that makes their
 * operands, a CPU reference (the default without a GPU and the GPU tests' oracle), the Hopper kernels of
 * libinfra4j_cuda and cuBLASLt's block-scaled FP8 path.
 */
@SuppressWarnings("module") // the modules the internal package is exported to are built after this one
module io.infra4j.deepgemm {
    requires transitive io.infra4j.memory; // the API speaks Tensor and CudaStream

    exports io.infra4j.deepgemm;
    // The cuBLASLt path, for the GPU tests and the benchmark that sets our kernels beside it.
    exports io.infra4j.deepgemm.internal to io.infra4j.integration, io.infra4j.benchmarks;
}
