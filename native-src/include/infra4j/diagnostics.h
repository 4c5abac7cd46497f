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

/* The calls infra4j_time_calls can repeat. */
#define INFRA4J_CALL_ABI_VERSION 0   /* infra4j_abi_version(): a call that does nothing */
#define INFRA4J_CALL_GET_DEVICE 1    /* cudaGetDevice */
#define INFRA4J_CALL_STREAM_QUERY 2  /* cudaStreamQuery(stream) */
#define INFRA4J_CALL_EVENT_RECORD 3  /* cudaEventRecord(event, stream) */
#define INFRA4J_CALL_EMPTY_KERNEL 4  /* infra4j_empty_kernel(1, 1, stream) */

/*
 * Makes `count` back-to-back calls of one kind from C and writes the CLOCK_MONOTONIC nanoseconds
 * they took to *elapsed_ns. The C call-overhead program times its rounds with this very loop, and
 * Java calls it too, so that the cost of a call made from C inside the JVM's process can be told
 * apart from the cost FFM adds. Returns the status of the last call (or INFRA4J_ERROR_INVALID_ARGUMENT).
 */
INFRA4J_API int32_t infra4j_time_calls(int32_t kind, int64_t count, void *stream, void *event, int64_t *elapsed_ns);

#endif /* INFRA4J_DIAGNOSTICS_H */
