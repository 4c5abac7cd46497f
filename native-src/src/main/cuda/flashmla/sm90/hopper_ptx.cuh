// The MLA kernels use the shared Hopper wrappers (common/sm90) under their own namespace.
#pragma once

#include "common/sm90/hopper_ptx.cuh"

namespace infra4j::mla::sm90 {
using namespace infra4j::sm90;
}  // namespace infra4j::mla::sm90
