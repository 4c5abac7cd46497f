package io.infra4j.benchmarks.foundation;

import io.infra4j.bindings.cudart.CudaRuntime;
import io.infra4j.bindings.kernels.Infra4jKernels;
import io.infra4j.ffm.CudaEvent;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.KernelLibrary;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The Java side of the call-overhead comparison: the same calls as
 * {@code native-src/src/main/c/bench/call_overhead.c}, timed the same way (rounds of a batch of
 * calls, the clock around the calls only, the stream synchronised after the clock stops, median ns
 * per call), through the jextract bindings (the FFM cost) and through infra4j's API (FFM plus the
 * status check).
 */
public final class CallOverhead {
    /** The calls compared, named as the C program names them. */
    public enum Call {
        ABI_VERSION("infra4j_abi_version"),
        GET_DEVICE("cudaGetDevice"),
        STREAM_QUERY("cudaStreamQuery"),
        EVENT_RECORD("cudaEventRecord"),
        EMPTY_KERNEL("empty_kernel_launch");

        public final String cName;

        Call(String cName) {
            this.cName = cName;
        }
    }

    /** Per-call nanoseconds over the timed rounds. */
    public record Result(Call call, String path, double medianNs, double minNs, double p10Ns, double p90Ns) {}

    private final CudaStream stream;
    private final CudaEvent event;
    private final MemorySegment intOut;
    private volatile int sink;

    public CallOverhead(CudaStream stream, CudaEvent event, Arena arena) {
        this.stream = stream;
        this.event = event;
        this.intOut = arena.allocate(CudaRuntime.C_INT);
    }

    /** Measures every call through the raw bindings ("ffm") and through the infra4j API ("infra4j"). */
    public List<Result> measureAll(int rounds, int batch) {
        List<Result> out = new ArrayList<>();
        for (Call c : Call.values()) {
            out.add(measure(c, false, rounds, batch));
            if (c != Call.ABI_VERSION && c != Call.GET_DEVICE) {
                out.add(measure(c, true, rounds, batch));
            }
        }
        return out;
    }

    public Result measure(Call call, boolean api, int rounds, int batch) {
        double[] perCall = new double[rounds];
        for (int w = 0; w < rounds / 4 + 1; w++) { // the same warm-up as the C program
            batch(call, api, batch);
            stream.synchronize();
        }
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime();
            batch(call, api, batch);
            long t1 = System.nanoTime();
            stream.synchronize();
            perCall[r] = (double) (t1 - t0) / batch;
        }
        Arrays.sort(perCall);
        return new Result(call, api ? "infra4j" : "ffm", perCall[rounds / 2], perCall[0], perCall[rounds / 10],
                perCall[(rounds * 9) / 10]);
    }

    // One method per call so that each loop is compiled for exactly that call.
    private void batch(Call call, boolean api, int n) {
        switch (call) {
            case ABI_VERSION -> abiVersion(n);
            case GET_DEVICE -> getDevice(n);
            case STREAM_QUERY -> {
                if (api) {
                    apiStreamQuery(n);
                } else {
                    streamQuery(n);
                }
            }
            case EVENT_RECORD -> {
                if (api) {
                    apiEventRecord(n);
                } else {
                    eventRecord(n);
                }
            }
            case EMPTY_KERNEL -> {
                if (api) {
                    apiEmptyKernel(n);
                } else {
                    emptyKernel(n);
                }
            }
        }
    }

    private void abiVersion(int n) {
        int s = 0;
        for (int i = 0; i < n; i++) {
            s += Infra4jKernels.infra4j_abi_version();
        }
        sink = s;
    }

    private void getDevice(int n) {
        int s = 0;
        for (int i = 0; i < n; i++) {
            s += CudaRuntime.cudaGetDevice(intOut);
        }
        sink = s;
    }

    private void streamQuery(int n) {
        MemorySegment h = stream.handle();
        int s = 0;
        for (int i = 0; i < n; i++) {
            s += CudaRuntime.cudaStreamQuery(h);
        }
        sink = s;
    }

    private void eventRecord(int n) {
        MemorySegment e = event.handle();
        MemorySegment h = stream.handle();
        int s = 0;
        for (int i = 0; i < n; i++) {
            s += CudaRuntime.cudaEventRecord(e, h);
        }
        sink = s;
    }

    private void emptyKernel(int n) {
        MemorySegment h = stream.handle();
        int s = 0;
        for (int i = 0; i < n; i++) {
            s += Infra4jKernels.infra4j_empty_kernel(1, 1, h);
        }
        sink = s;
    }

    private void apiStreamQuery(int n) {
        int s = 0;
        for (int i = 0; i < n; i++) {
            s += stream.isDone() ? 1 : 0;
        }
        sink = s;
    }

    private void apiEventRecord(int n) {
        for (int i = 0; i < n; i++) {
            event.record(stream);
        }
    }

    private void apiEmptyKernel(int n) {
        for (int i = 0; i < n; i++) {
            KernelLibrary.launchEmptyKernel(1, 1, stream);
        }
    }
}
