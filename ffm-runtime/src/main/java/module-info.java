/**
 * The only module that finds and loads native libraries and turns native status codes into
 * exceptions: {@link io.infra4j.ffm.NativeLibrary}, {@link io.infra4j.ffm.Cuda} and the CUDA
 * runtime's devices, streams, events and graphs; NCCL's communicators in {@code io.infra4j.ffm.nccl};
 * cuBLASLt's handles, descriptors and matmuls in {@code io.infra4j.ffm.cublas}; NVSHMEM's host API
 * (initialisation by unique id, the symmetric heap, on-stream puts and gets) in
 * {@code io.infra4j.ffm.nvshmem}.
 */
module io.infra4j.ffm {
    requires transitive io.infra4j.bindings;
    requires io.infra4j.natives;

    exports io.infra4j.ffm;
    exports io.infra4j.ffm.cublas;
    exports io.infra4j.ffm.nccl;
    exports io.infra4j.ffm.nvshmem;
}
