/*
 * The C side of the FFM call-overhead benchmark: times the same CUDA calls that the JMH benchmark
 * io.infra4j.benchmarks.jmh.DowncallBenchmark makes through FFM, in the same way, so that the Java
 * figure minus this one is what FFM adds.
 *
 * For each call: ROUNDS rounds of BATCH calls; each round is timed with CLOCK_MONOTONIC around the
 * calls only, by infra4j_time_calls in libinfra4j_cuda (the loop Java also calls in-process); the
 * stream is synchronised after the clock stops, so kernel launches never wait on a full queue. The
 * report is the median ns per call, with the minimum and the spread.
 *
 *   usage: infra4j_call_overhead [rounds] [batch]      prints one JSON object per call
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cuda_runtime_api.h>
#include "infra4j/infra4j.h"

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

static const char *call_names[] = {"infra4j_abi_version", "cudaGetDevice", "cudaStreamQuery",
                                   "cudaEventRecord", "empty_kernel_launch"};
#define KIND_COUNT 5

static cudaStream_t stream;
static cudaEvent_t event;

/* One round: `batch` calls timed by the library's own loop (the same one Java calls in-process). */
static double round_ns_per_call(int kind, int batch) {
    int64_t ns = 0;
    int status = infra4j_time_calls(kind, batch, stream, event, &ns);
    if (status != 0) {
        fprintf(stderr, "%s failed: %d\n", call_names[kind], status);
        exit(1);
    }
    return (double)ns / batch;
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
            round_ns_per_call(kind, batch);
            CHECK(cudaStreamSynchronize(stream));
        }
        for (int r = 0; r < rounds; ++r) {
            per_call[r] = round_ns_per_call(kind, batch);
            CHECK(cudaStreamSynchronize(stream));
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
