/**
 * Multi-head latent attention (MLA) decoding over a paged KV cache, as DeepSeek's FlashMLA dense
 * decode computes it: split plans, the Hopper kernel of libinfra4j_cuda, a CPU reference (the default
 * without a GPU and the GPU tests' oracle) and a paged KV cache with a free-block pool.
 */
module io.infra4j.flashmla {
    requires transitive io.infra4j.memory; // the API speaks Tensor, TensorScope and CudaStream

    exports io.infra4j.flashmla;
}
