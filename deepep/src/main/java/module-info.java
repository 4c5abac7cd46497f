/**
 * DeepEP's expert-parallel communication for Java: which ranks and experts each token goes to
 * ({@link io.infra4j.deepep.DispatchLayout}), and the CPU reference of dispatch and combine in both of
 * DeepEP's modes ({@link io.infra4j.deepep.EpReference}), against which the GPU kernels are checked.
 */
module io.infra4j.deepep {
    exports io.infra4j.deepep;
    exports io.infra4j.deepep.launch;
}
