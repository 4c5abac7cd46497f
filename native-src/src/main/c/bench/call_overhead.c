/*
 * The C side of the FFM call-overhead benchmark: times the same CUDA calls that the JMH benchmark
 * io.infra4j.benchmarks.jmh.DowncallBenchmark makes through FFM, in the same way, so that the Java
 * figure minus this one is what FFM adds.
 *
 * For each call: ROUNDS rounds of BATCH calls; each round is timed with CLOCK_MONOTONIC around the
 * calls only (the stream is synchronised after the clock stops, so kernel launches never wait on a
 * full queue); the report is the median ns per call, with the minimum and the spread.
 *
 *   usage: infra4j_call_overhead [rounds] [batch]      prints one JSON object per call
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cuda_runtime_api.h>
#include "infra4j/infra4j.h"

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define CHECK(call)                                                                         \
    do {                                                                                    \
        int status_ = (int)(call);                                                          \
        if (status_ != 0) {                                                                 \
            fprintf(stderr, "%s failed: %d (%s)\n", #call, status_,                         \
                    status_ > 0 ? cudaGetErrorName((cudaError_t)status_) : "infra4j");      \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

enum call_kind { ABI_VERSION, GET_DEVICE, STREAM_QUERY, EVENT_RECORD, EMPTY_KERNEL, KIND_COUNT };
static const char *call_names[KIND_COUNT] = {"infra4j_abi_version", "cudaGetDevice", "cudaStreamQuery",
                                              "cudaEventRecord", "empty_kernel_launch"};

static cudaStream_t stream;
static cudaEvent_t event;
static volatile int sink;

static void call_once(enum call_kind kind) {
    int device;
    switch (kind) {
        case ABI_VERSION: sink = infra4j_abi_version(); break;
        case GET_DEVICE: cudaGetDevice(&device); sink = device; break;
        case STREAM_QUERY: sink = (int)cudaStreamQuery(stream); break;
        case EVENT_RECORD: sink = (int)cudaEventRecord(event, stream); break;
        case EMPTY_KERNEL: sink = infra4j_empty_kernel(1, 1, stream); break;
        default: break;
    }
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    int batch = argc > 2 ? atoi(argv[2]) : 1000;
    if (rounds < 1 || batch < 1) {
        fprintf(stderr, "usage: %s [rounds>0] [batch>0]\n", argv[0]);
        return 2;
    }
    CHECK(cudaSetDevice(0));
    CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    double *per_call = malloc(sizeof(double) * (size_t)rounds);
    for (int kind = 0; kind < KIND_COUNT; ++kind) {
        for (int w = 0; w < rounds / 4 + 1; ++w) { /* warm-up */
            for (int i = 0; i < batch; ++i) call_once((enum call_kind)kind);
            CHECK(cudaStreamSynchronize(stream));
        }
        for (int r = 0; r < rounds; ++r) {
            double t0 = now_ns();
            for (int i = 0; i < batch; ++i) call_once((enum call_kind)kind);
            double t1 = now_ns();
            CHECK(cudaStreamSynchronize(stream));
            per_call[r] = (t1 - t0) / batch;
        }
        qsort(per_call, (size_t)rounds, sizeof(double), cmp_double);
        printf("{\"call\":\"%s\",\"side\":\"c\",\"rounds\":%d,\"batch\":%d,\"median_ns\":%.3f,"
               "\"min_ns\":%.3f,\"p10_ns\":%.3f,\"p90_ns\":%.3f}\n",
               call_names[kind], rounds, batch, per_call[rounds / 2], per_call[0], per_call[rounds / 10],
               per_call[(rounds * 9) / 10]);
        fflush(stdout);
    }
    free(per_call);
    CHECK(cudaEventDestroy(event));
    CHECK(cudaStreamDestroy(stream));
    return 0;
}
