package io.infra4j.integration;

/** Names shared by the GPU suite and its runner script (integration-tests/run-gpu.sh). */
public final class GpuSuite {
    /** JUnit tag of tests that need a GPU. */
    public static final String TAG = "gpu";
    /** JUnit tag of GPU tests that need two GPUs or more (skipped, visibly, with fewer). */
    public static final String MULTI_GPU_TAG = "multi-gpu";
    /** JUnit tag of tests that walk every input of a codec (minutes, not seconds). */
    public static final String EXHAUSTIVE_TAG = "exhaustive";

    private GpuSuite() {}
}
