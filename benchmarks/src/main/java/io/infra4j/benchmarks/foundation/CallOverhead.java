package io.infra4j.benchmarks.foundation;

import io.infra4j.bindings.cudart.CudaRuntime;
import io.infra4j.bindings.kernels.Infra4jKernels;
import io.infra4j.ffm.CriticalDowncalls;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaEvent;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.KernelLibrary;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The Java side of the call-overhead comparison: the same calls as
 * {@code native-src/src/main/c/bench/call_overhead.c}, timed the same way (rounds of a batch of
 * calls, the clock around the calls only, the stream synchronised after the clock stops, median ns
 * per call), along four paths: "c-in-jvm", the C program's own loop ({@code infra4j_time_calls})
 * called once per round from here, which separates what the JVM's process does to a CUDA call from
 * what FFM adds; "ffm", a Java loop over the jextract bindings; "ffm-critical", the same over
 * critical downcall handles (no thread-state transition; short non-blocking calls only); and
 * "infra4j", the API (binding plus status check).
 */
public final class CallOverhead {
    /** The calls compared, named as the C program names them. */
    public enum Call {
        ABI_VERSION("infra4j_abi_version", Infra4jKernels.INFRA4J_CALL_ABI_VERSION()),
        GET_DEVICE("cudaGetDevice", Infra4jKernels.INFRA4J_CALL_GET_DEVICE()),
        STREAM_QUERY("cudaStreamQuery", Infra4jKernels.INFRA4J_CALL_STREAM_QUERY()),
        EVENT_RECORD("cudaEventRecord", Infra4jKernels.INFRA4J_CALL_EVENT_RECORD()),
        EMPTY_KERNEL("empty_kernel_launch", Infra4jKernels.INFRA4J_CALL_EMPTY_KERNEL());

        public final String cName;
        final int code;

        Call(String cName, int code) {
            this.cName = cName;
            this.code = code;
        }
    }

    /** Per-call nanoseconds over the timed rounds. */
    public record Result(Call call, String path, double medianNs, double minNs, double p10Ns, double p90Ns) {}

    private final CudaStream stream;
    private final CudaEvent event;
    private final MemorySegment intOut;
    private final MemorySegment elapsedOut;
    private final MethodHandle criticalNoop = CriticalDowncalls.of(
            Infra4jKernels.infra4j_abi_version$address(), Infra4jKernels.infra4j_abi_version$descriptor());
    private final MethodHandle criticalGetDevice = CriticalDowncalls.of(
            CudaRuntime.cudaGetDevice$address(), CudaRuntime.cudaGetDevice$descriptor());
    private final MethodHandle criticalStreamQuery = CriticalDowncalls.of(
            CudaRuntime.cudaStreamQuery$address(), CudaRuntime.cudaStreamQuery$descriptor());
    private final MethodHandle criticalEventRecord = CriticalDowncalls.of(
            CudaRuntime.cudaEventRecord$address(), CudaRuntime.cudaEventRecord$descriptor());
    private volatile int sink;

    public CallOverhead(CudaStream stream, CudaEvent event, Arena arena) {
        this.stream = stream;
        this.event = event;
        this.intOut = arena.allocate(CudaRuntime.C_INT);
        this.elapsedOut = arena.allocate(CudaRuntime.C_LONG);
    }

    /** The paths measured; "ffm-critical" only for calls that never block. */
    public static final List<String> PATHS = List.of("c-in-jvm", "ffm", "ffm-critical", "infra4j");

    /** Measures every call along every path that applies to it. */
    public List<Result> measureAll(int rounds, int batch) {
        List<Result> out = new ArrayList<>();
        for (Call c : Call.values()) {
            for (String path : PATHS) {
                if (applies(c, path)) {
                    out.add(measure(c, path, rounds, batch));
                }
            }
        }
        return out;
    }

    static boolean applies(Call c, String path) {
        return switch (path) {
            case "ffm-critical" -> c != Call.EMPTY_KERNEL;
            case "infra4j" -> c != Call.ABI_VERSION && c != Call.GET_DEVICE;
            default -> true;
        };
    }

    public Result measure(Call call, String path, int rounds, int batch) {
        double[] perCall = new double[rounds];
        // A longer warm-up than the C program's: the loops must be compiled by C2, not run from OSR stubs.
        for (int w = 0; w < Math.max(rounds / 4 + 1, 100); w++) {
            round(call, path, batch);
            stream.synchronize();
        }
        for (int r = 0; r < rounds; r++) {
            perCall[r] = round(call, path, batch) / batch;
            stream.synchronize();
        }
        Arrays.sort(perCall);
        return new Result(call, path, perCall[rounds / 2], perCall[0], perCall[rounds / 10], perCall[(rounds * 9) / 10]);
    }

    /** Nanoseconds that {@code n} calls took along {@code path}. */
    private double round(Call call, String path, int n) {
        if (path.equals("c-in-jvm")) {
            Cuda.check(Infra4jKernels.infra4j_time_calls(call.code, n, stream.handle(), event.handle(), elapsedOut),
                    "infra4j_time_calls");
            return elapsedOut.get(CudaRuntime.C_LONG, 0);
        }
        long t0 = System.nanoTime();
        batch(call, path, n);
        return System.nanoTime() - t0;
    }

    // One method per call and path so that each loop is compiled for exactly that call.
    private void batch(Call call, String path, int n) {
        if (path.equals("ffm-critical")) {
            critical(call, n);
            return;
        }
        boolean api = path.equals("infra4j");
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

    private void critical(Call call, int n) {
        try {
            switch (call) {
                case ABI_VERSION -> criticalNoop(n);
                case GET_DEVICE -> criticalGetDevice(n);
                case STREAM_QUERY -> criticalStreamQuery(n);
                case EVENT_RECORD -> criticalEventRecord(n);
                default -> throw new IllegalArgumentException(call + " may block: no critical path");
            }
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    private void criticalNoop(int n) throws Throwable {
        int s = 0;
        for (int i = 0; i < n; i++) {
            s += (int) criticalNoop.invokeExact();
        }
        sink = s;
    }

    private void criticalGetDevice(int n) throws Throwable {
        int s = 0;
        for (int i = 0; i < n; i++) {
            s += (int) criticalGetDevice.invokeExact(intOut);
        }
        sink = s;
    }

    private void criticalStreamQuery(int n) throws Throwable {
        MemorySegment h = stream.handle();
        int s = 0;
        for (int i = 0; i < n; i++) {
            s += (int) criticalStreamQuery.invokeExact(h);
        }
        sink = s;
    }

    private void criticalEventRecord(int n) throws Throwable {
        MemorySegment e = event.handle();
        MemorySegment h = stream.handle();
        int s = 0;
        for (int i = 0; i < n; i++) {
            s += (int) criticalEventRecord.invokeExact(e, h);
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
