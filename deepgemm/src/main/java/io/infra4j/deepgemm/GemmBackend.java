package io.infra4j.deepgemm;

/** The implementations of the FP8 GEMMs. */
public enum GemmBackend {
    /**
     * infra4j's kernel for device tensors (cuBLASLt where the kernel cannot run but cuBLASLt can: a
     * library built without it), the CPU reference for host tensors.
     */
    AUTO,
    /** infra4j's own sm_90a kernel (wgmma + TMA); device tensors only. */
    KERNEL,
    /** cuBLASLt's block-scaled FP8 matmul (dense only; CUDA 12.9 or newer); device tensors only. */
    CUBLASLT,
    /** The Java reference; host tensors only. */
    REFERENCE
}
