package io.infra4j.benchmarks.jmh;

import io.infra4j.memory.CastMode;
import io.infra4j.memory.DType;
import io.infra4j.memory.DTypeCodec;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Throughput of the CPU codecs, per element: scalar encode/decode over arrays (the codec itself),
 * and {@link TensorOps#cast} over host tensors (the CPU path of a cast, strided walk included).
 * Inputs are normal-distributed values that span the FP8 ranges, so every branch is taken.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public class CodecBenchmark {
    static final int N = 1 << 20;

    private float[] floats;
    private short[] bf16;
    private byte[] e4m3;
    private short[] shortsOut;
    private byte[] bytesOut;
    private float[] floatsOut;
    private Tensor f32Tensor;
    private Tensor bf16Tensor;
    private Tensor e4m3Tensor;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom rnd = new SplittableRandom(42);
        floats = new float[N];
        bf16 = new short[N];
        e4m3 = new byte[N];
        for (int i = 0; i < N; i++) {
            floats[i] = (float) (gaussian(rnd) * Math.scalb(1.0, rnd.nextInt(-12, 10)));
            bf16[i] = DTypeCodec.floatToBf16(floats[i]);
            e4m3[i] = DTypeCodec.floatToE4m3(floats[i], true);
        }
        shortsOut = new short[N];
        bytesOut = new byte[N];
        floatsOut = new float[N];
        f32Tensor = Tensor.ofFloats(DType.F32, floats, N);
        bf16Tensor = Tensor.empty(DType.BF16, Device.CPU, N);
        e4m3Tensor = Tensor.empty(DType.F8_E4M3, Device.CPU, N);
    }

    private static double gaussian(SplittableRandom r) {
        double u = 1.0 - r.nextDouble();
        double v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        f32Tensor.close();
        bf16Tensor.close();
        e4m3Tensor.close();
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public short[] encodeBf16() {
        for (int i = 0; i < N; i++) {
            shortsOut[i] = DTypeCodec.floatToBf16(floats[i]);
        }
        return shortsOut;
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public short[] encodeF16() {
        for (int i = 0; i < N; i++) {
            shortsOut[i] = DTypeCodec.floatToF16(floats[i]);
        }
        return shortsOut;
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public byte[] encodeE4m3Saturating() {
        for (int i = 0; i < N; i++) {
            bytesOut[i] = DTypeCodec.floatToE4m3(floats[i], true);
        }
        return bytesOut;
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public byte[] encodeE5m2() {
        for (int i = 0; i < N; i++) {
            bytesOut[i] = DTypeCodec.floatToE5m2(floats[i], false);
        }
        return bytesOut;
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public float[] decodeBf16() {
        for (int i = 0; i < N; i++) {
            floatsOut[i] = DTypeCodec.bf16ToFloat(bf16[i]);
        }
        return floatsOut;
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public float[] decodeE4m3() {
        for (int i = 0; i < N; i++) {
            floatsOut[i] = DTypeCodec.e4m3ToFloat(e4m3[i]);
        }
        return floatsOut;
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public Tensor tensorCastF32ToBf16() {
        TensorOps.cast(f32Tensor, bf16Tensor);
        return bf16Tensor;
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public Tensor tensorCastF32ToE4m3Saturating() {
        TensorOps.cast(f32Tensor, e4m3Tensor, CastMode.SATURATE, io.infra4j.ffm.CudaStream.legacyDefault());
        return e4m3Tensor;
    }
}
