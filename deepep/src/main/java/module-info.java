/**
 * DeepEP's expert-parallel communication for Java: which ranks and experts each token goes to
 * ({@link io.infra4j.deepep.DispatchLayout}, {@link io.infra4j.deepep.GpuDispatchLayout}), the CPU
 * reference of dispatch and combine in both of DeepEP's modes ({@link io.infra4j.deepep.EpReference}),
 * the GPU kernels for a group one process drives ({@link io.infra4j.deepep.EpBuffer},
 * {@link io.infra4j.deepep.IntranodeEp}, {@link io.infra4j.deepep.LowLatencyEp}), the normal mode over
 * NCCL between processes and nodes ({@link io.infra4j.deepep.NcclEp}), and the start-up of a
 * multi-process job ({@link io.infra4j.deepep.launch}).
 */
module io.infra4j.deepep {
    requires transitive io.infra4j.memory; // the GPU API speaks Tensor and CudaStream

    exports io.infra4j.deepep;
    exports io.infra4j.deepep.launch;
}
