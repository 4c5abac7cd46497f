/** DType and its exact codecs, Device, Tensor views, allocators, copies and lifetimes. */
module io.infra4j.memory {
    requires transitive io.infra4j.ffm;

    exports io.infra4j.memory;
}
