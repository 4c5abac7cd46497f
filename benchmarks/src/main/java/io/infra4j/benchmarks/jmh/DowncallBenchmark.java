package io.infra4j.benchmarks.jmh;

import io.infra4j.bindings.cudart.CudaRuntime;
import io.infra4j.bindings.kernels.Infra4jKernels;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaEvent;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.KernelLibrary;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of FFM downcalls into native code (needs a GPU): a call that does nothing
 * ({@code infra4j_abi_version}), trivial CUDA calls ({@code cudaGetDevice}, {@code cudaStreamQuery}),
 * an event record and an empty kernel launch, each through the raw jextract bindings. Launches and
 * records run free (the queue drains faster than one thread fills it); each iteration ends with a
 * stream synchronisation. The C program native-src/src/main/c/bench/call_overhead.c times the same
 * calls for the comparison.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public class DowncallBenchmark {
    private Arena arena;
    private CudaStream stream;
    private CudaEvent event;
    private MemorySegment streamHandle;
    private MemorySegment eventHandle;
    private MemorySegment intOut;

    @Setup(Level.Trial)
    public void setUp() {
        Cuda.requireAvailable();
        KernelLibrary.require();
        arena = Arena.ofConfined();
        stream = CudaStream.create(Cuda.device(0));
        event = CudaEvent.create(false);
        streamHandle = stream.handle();
        eventHandle = event.handle();
        intOut = arena.allocate(CudaRuntime.C_INT);
    }

    @TearDown(Level.Iteration)
    public void drain() {
        stream.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        stream.synchronize();
        event.close();
        stream.close();
        arena.close();
    }

    @Benchmark
    public int nativeNoop() {
        return Infra4jKernels.infra4j_abi_version();
    }

    @Benchmark
    public int cudaGetDevice() {
        return CudaRuntime.cudaGetDevice(intOut);
    }

    @Benchmark
    public int cudaStreamQuery() {
        return CudaRuntime.cudaStreamQuery(streamHandle);
    }

    @Benchmark
    public int cudaEventRecord() {
        return CudaRuntime.cudaEventRecord(eventHandle, streamHandle);
    }

    @Benchmark
    public int emptyKernelLaunch() {
        return Infra4jKernels.infra4j_empty_kernel(1, 1, streamHandle);
    }
}
