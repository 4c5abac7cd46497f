// infra4j_time_calls: the C side of the call-overhead measurement, one loop per kind of call.
#include <time.h>
#include "infra4j/diagnostics.h"
#include "common/layout.cuh"

namespace {

int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

// Each loop keeps its results live through a volatile store, as the Java loops do.
volatile int32_t sink;

}  // namespace

INFRA4J_API int32_t infra4j_time_calls(int32_t kind, int64_t count, void *stream, void *event, int64_t *elapsed_ns) {
    if (count < 0 || elapsed_ns == nullptr) return INFRA4J_ERROR_INVALID_ARGUMENT;
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    cudaEvent_t e = static_cast<cudaEvent_t>(event);
    int32_t acc = 0;   // kept live through `sink`
    int32_t failed = 0; // the last failing status, if any call failed
    int device = 0;
    const int64_t t0 = now_ns();
    switch (kind) {
        case INFRA4J_CALL_ABI_VERSION:
            for (int64_t i = 0; i < count; ++i) acc += infra4j_abi_version();
            break;
        case INFRA4J_CALL_GET_DEVICE:
            for (int64_t i = 0; i < count; ++i) {
                const int32_t st = static_cast<int32_t>(cudaGetDevice(&device));
                if (st != 0) failed = st;
            }
            break;
        case INFRA4J_CALL_STREAM_QUERY:
            for (int64_t i = 0; i < count; ++i) acc += static_cast<int32_t>(cudaStreamQuery(s));
            break;
        case INFRA4J_CALL_EVENT_RECORD:
            if (e == nullptr) return INFRA4J_ERROR_INVALID_ARGUMENT;
            for (int64_t i = 0; i < count; ++i) {
                const int32_t st = static_cast<int32_t>(cudaEventRecord(e, s));
                if (st != 0) failed = st;
            }
            break;
        case INFRA4J_CALL_EMPTY_KERNEL:
            for (int64_t i = 0; i < count; ++i) {
                const int32_t st = infra4j_empty_kernel(1, 1, stream);
                if (st != 0) failed = st;
            }
            break;
        default:
            return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
    *elapsed_ns = now_ns() - t0;
    sink = acc + device;
    return failed;  // a stream query's "not ready" is an answer, not a failure: never counted
}
