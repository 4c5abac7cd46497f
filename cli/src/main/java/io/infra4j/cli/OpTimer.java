package io.infra4j.cli;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaEvent;
import io.infra4j.ffm.CudaStream;
import java.util.Arrays;

/**
 * Times one operation for a GB/s figure: on the CPU with System.nanoTime around a single run (the
 * runs are long enough, and repeating them would only make the demo slower); on a GPU with CUDA
 * events on the operation's stream, median of {@link #GPU_RUNS} runs after a warm-up, since one GPU
 * run is short and the first pays for loading the kernels. The operation must be repeatable.
 */
interface OpTimer extends AutoCloseable {
    int GPU_RUNS = 5;

    /** Seconds one run of {@code op} takes. */
    double seconds(Runnable op);

    /** How it measures, for the report. */
    String method();

    @Override
    void close();

    static OpTimer cpu() {
        return new OpTimer() {
            @Override
            public double seconds(Runnable op) {
                long t0 = System.nanoTime();
                op.run();
                return (System.nanoTime() - t0) / 1e9;
            }

            @Override
            public String method() {
                return "System.nanoTime around one run";
            }

            @Override
            public void close() {}
        };
    }

    static OpTimer gpu(CudaStream stream) {
        CudaEvent start = CudaEvent.create(Cuda.device(stream.device()), true);
        CudaEvent end;
        try {
            end = CudaEvent.create(Cuda.device(stream.device()), true);
        } catch (RuntimeException e) {
            start.close();
            throw e;
        }
        return new OpTimer() {
            @Override
            public double seconds(Runnable op) {
                op.run();
                stream.synchronize();
                double[] ms = new double[GPU_RUNS];
                for (int i = 0; i < GPU_RUNS; i++) {
                    start.record(stream);
                    op.run();
                    end.record(stream);
                    end.synchronize();
                    ms[i] = CudaEvent.elapsedMillis(start, end);
                }
                Arrays.sort(ms);
                return ms[GPU_RUNS / 2] / 1e3;
            }

            @Override
            public String method() {
                return "CUDA events on the stream, median of " + GPU_RUNS + " runs after a warm-up";
            }

            @Override
            public void close() {
                try {
                    start.close();
                } finally {
                    end.close();
                }
            }
        };
    }
}
