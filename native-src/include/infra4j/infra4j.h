/* infra4j C ABI: every public header. */
#ifndef INFRA4J_H
#define INFRA4J_H

#include "infra4j/types.h"
#include "infra4j/tensor_ops.h"
#include "infra4j/diagnostics.h"
#include "infra4j/mla.h"
#include "infra4j/fp8_gemm.h"
#include "infra4j/ep.h"

#endif /* INFRA4J_H */
