/*
 * infra4j C ABI: functions for measurements and tests of the launch path itself.
 */
#ifndef INFRA4J_DIAGNOSTICS_H
#define INFRA4J_DIAGNOSTICS_H

#include "infra4j/types.h"

/*
 * Launches a kernel that does nothing, with grid x block threads, on the stream. The launch is not
 * checked in advance: an impossible configuration (block > 1024, say) returns the CUDA runtime's
 * status, which is what the tests of error handling need.
 */
INFRA4J_API int32_t infra4j_empty_kernel(int32_t grid, int32_t block, void *stream);

#endif /* INFRA4J_DIAGNOSTICS_H */
