/**
 * DeepEP's expert-parallel communication for Java: which ranks and experts each token goes to
 * ({@link io.infra4j.deepep.DispatchLayout}), the CPU reference of dispatch and combine in both of
 * DeepEP's modes ({@link io.infra4j.deepep.EpReference}), the normal mode within one node on the GPU
 * ({@link io.infra4j.deepep.IntranodeEp}), and the start-up of a multi-process job
 * ({@link io.infra4j.deepep.launch}).
 */
module io.infra4j.deepep {
    requires transitive io.infra4j.memory; // the GPU API speaks Tensor and CudaStream

    exports io.infra4j.deepep;
    exports io.infra4j.deepep.launch;
}
