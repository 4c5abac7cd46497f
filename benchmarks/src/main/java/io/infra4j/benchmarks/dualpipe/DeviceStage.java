package io.infra4j.benchmarks.dualpipe;

import io.infra4j.dualpipe.Criterion;
import io.infra4j.dualpipe.PipelineStage;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * A host stage (the FP64 toy model) run as a pipeline stage whose payloads are device tensors, so that
 * DualPipe's executor moves them between GPUs with the NCCL communicator. FP64 is not one of infra4j's
 * dtypes, so a payload is one {@link DType#I64} tensor {@code [rows, width]} holding the doubles' bit
 * patterns: NCCL moves them as INT64 and nothing is rounded on the way. Every op is timed (wall clock,
 * including its copies to and from the GPU) for the measured timeline.
 */
final class DeviceStage implements PipelineStage<List<Tensor>> {
    /** One op as it ran on its rank: kind F, B (whole backward), Bi (input half), W or FB; nanoTime stamps. */
    record OpTime(String kind, long startNs, long endNs) {
        double ms() {
            return (endNs - startNs) / 1e6;
        }
    }

    /** A rank's GPU, stream and device payloads; closes them all after the step. */
    static final class RankIo implements AutoCloseable {
        final int device;
        final CudaStream stream;
        final List<OpTime> times = Collections.synchronizedList(new ArrayList<>());
        private final Set<Tensor> owned = Collections.newSetFromMap(new IdentityHashMap<>());

        RankIo(int device, CudaStream stream) {
            this.device = device;
            this.stream = stream;
        }

        synchronized List<Tensor> toDevice(double[][] m) {
            int rows = m.length;
            int width = rows == 0 ? 0 : m[0].length;
            Tensor dev = Tensor.empty(DType.I64, Device.cuda(device), stream, rows, width);
            owned.add(dev);
            try (Tensor host = Tensor.empty(DType.I64, Device.CPU, rows, width)) {
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < width; j++) {
                        host.segment().setAtIndex(ValueLayout.JAVA_LONG, (long) i * width + j, Double.doubleToRawLongBits(m[i][j]));
                    }
                }
                TensorOps.copy(host, dev, stream);
                stream.synchronize(); // before the host tensor goes
            }
            return List.of(dev);
        }

        /** The doubles of a payload; received payloads become this rank's to close. */
        synchronized double[][] toHost(List<Tensor> payload) {
            Tensor dev = payload.get(0);
            owned.add(dev);
            int rows = (int) dev.shape()[0];
            int width = (int) dev.shape()[1];
            double[][] m = new double[rows][width];
            try (Tensor host = Tensor.empty(DType.I64, Device.CPU, rows, width)) {
                TensorOps.copy(dev, host, stream);
                stream.synchronize();
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < width; j++) {
                        m[i][j] = Double.longBitsToDouble(host.segment().getAtIndex(ValueLayout.JAVA_LONG, (long) i * width + j));
                    }
                }
            }
            return m;
        }

        /** Payloads still open (what the step leaves besides the stages' own host state). */
        synchronized int open() {
            return owned.size();
        }

        @Override
        public synchronized void close() {
            owned.forEach(Tensor::close);
            owned.clear();
        }

        void record(String kind, long startNs) {
            times.add(new OpTime(kind, startNs, System.nanoTime()));
        }
    }

    final PipelineStage<double[][]> inner;
    private final RankIo io;

    DeviceStage(PipelineStage<double[][]> inner, RankIo io) {
        this.inner = inner;
        this.io = io;
    }

    @Override
    public List<Tensor> forward(int microBatch, List<Tensor> input, boolean training) {
        long t0 = System.nanoTime();
        List<Tensor> out = io.toDevice(inner.forward(microBatch, io.toHost(input), training));
        io.record("F", t0);
        return out;
    }

    @Override
    public List<Tensor> backwardInput(int microBatch, List<Tensor> outputGradient, boolean deferWeight) {
        long t0 = System.nanoTime();
        List<Tensor> out = io.toDevice(inner.backwardInput(microBatch, io.toHost(outputGradient), deferWeight));
        io.record(deferWeight ? "Bi" : "B", t0);
        return out;
    }

    @Override
    public void backwardWeight(int microBatch) {
        long t0 = System.nanoTime();
        inner.backwardWeight(microBatch);
        io.record("W", t0);
    }

    /** Times the pair as one FB op; the arithmetic is the default's (forward, then backward). */
    @Override
    public Overlapped<List<Tensor>> forwardBackward(int forwardMicroBatch, List<Tensor> input,
            PipelineStage<List<Tensor>> backwardStage, int backwardMicroBatch, List<Tensor> outputGradient) {
        long t0 = System.nanoTime();
        PipelineStage<double[][]> other = ((DeviceStage) backwardStage).inner;
        double[][] out = inner.forward(forwardMicroBatch, io.toHost(input), true);
        double[][] grad = other.backwardInput(backwardMicroBatch, io.toHost(outputGradient), false);
        Overlapped<List<Tensor>> result = new Overlapped<>(io.toDevice(out), io.toDevice(grad));
        io.record("FB", t0);
        return result;
    }

    /** A host criterion over device payloads. */
    static Criterion<List<Tensor>> criterion(Criterion<double[][]> host, RankIo io) {
        return (output, labels, withGradient) -> {
            Criterion.Loss<double[][]> loss = host.evaluate(io.toHost(output), io.toHost(labels), withGradient);
            return new Criterion.Loss<>(loss.value(), loss.gradient() == null ? null : io.toDevice(loss.gradient()));
        };
    }
}
