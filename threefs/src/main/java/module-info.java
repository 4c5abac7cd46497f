/**
 * 3FS's USRBIO client API through FFM ({@link io.infra4j.threefs.Usrbio}): 3FS's own client library where it
 * is present, and the same C ABI over io_uring for any local file system; parallel reads of many ranges
 * ({@link io.infra4j.threefs.ParallelFileReader}) and safetensors checkpoints loaded to host or GPU tensors.
 */
module io.infra4j.threefs {
    requires transitive io.infra4j.memory;
    requires com.fasterxml.jackson.databind;

    exports io.infra4j.threefs;
}
