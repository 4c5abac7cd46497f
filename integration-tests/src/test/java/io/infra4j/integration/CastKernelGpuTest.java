package io.infra4j.integration;

import static io.infra4j.integration.GpuTestSupport.GPU;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.Cuda;
import io.infra4j.memory.CastMode;
import io.infra4j.memory.DType;
import io.infra4j.memory.DTypeCodec;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The cast kernels against the CPU codecs: random inputs, strided views, and every bit pattern. */
@GpuTest
class CastKernelGpuTest {
    static final DType[] FLOATS = {DType.F32, DType.F16, DType.BF16, DType.F8_E4M3, DType.F8_E5M2};
    static CudaStream stream;

    @BeforeAll
    static void open() {
        stream = CudaStream.create(Cuda.device(0));
    }

    @AfterAll
    static void close() {
        if (stream != null) {
            stream.close();
        }
    }

    static Stream<Arguments> pairs() {
        List<Arguments> out = new ArrayList<>();
        for (DType from : FLOATS) {
            for (DType to : FLOATS) {
                for (CastMode m : CastMode.values()) {
                    out.add(Arguments.of(from, to, m));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} -> {1} {2}")
    @MethodSource("pairs")
    void contiguousRandomBitsMatchTheCpu(DType from, DType to, CastMode mode) {
        SplittableRandom r = new SplittableRandom(GpuTestSupport.freshSeed("cast " + from + "->" + to));
        try (TensorScope s = TensorScope.open(stream)) {
            // An odd size: the vector body and the scalar tail both run.
            Tensor hostIn = s.empty(from, Device.CPU, 257, 1031);
            GpuTestSupport.randomBits(hostIn, r);
            Tensor devIn = TensorOps.to(hostIn, GPU, s);
            Tensor devOut = s.empty(to, GPU, 257, 1031);
            TensorOps.fillBits(devOut, GpuTestSupport.poison(to), stream);
            TensorOps.cast(devIn, devOut, mode, stream);
            Tensor expected = s.empty(to, Device.CPU, 257, 1031);
            TensorOps.cast(hostIn, expected, mode, stream);
            GpuTestSupport.assertSameBits(expected, GpuTestSupport.toHost(devOut, s, stream), from + "->" + to + " " + mode);
        }
    }

    @ParameterizedTest(name = "{0} -> {1} {2}")
    @MethodSource("pairs")
    void stridedViewsTouchOnlyTheirElements(DType from, DType to, CastMode mode) {
        SplittableRandom r = new SplittableRandom(GpuTestSupport.freshSeed("strided cast " + from + "->" + to));
        try (TensorScope s = TensorScope.open(stream)) {
            // Input: a transposed, stepped slice of a larger buffer whose other elements are NaN.
            Tensor hostBase = s.empty(from, Device.CPU, 48, 3, 130);
            TensorOps.fillBits(hostBase, GpuTestSupport.poison(from), stream);
            Tensor hostView = hostBase.slice(0, 5, 45, 2).select(1, 1).transpose(0, 1); // [130, 20]
            Tensor dense = s.empty(from, Device.CPU, hostView.shape());
            GpuTestSupport.randomBits(dense, r);
            TensorOps.copy(dense, hostView, stream);
            Tensor devBase = TensorOps.to(hostBase, GPU, s);
            Tensor devView = devBase.slice(0, 5, 45, 2).select(1, 1).transpose(0, 1);

            // Output: a strided window of a poisoned buffer; the rest must stay poisoned.
            Tensor devOutBase = s.empty(to, GPU, 140, 2, 25);
            TensorOps.fillBits(devOutBase, GpuTestSupport.poison(to), stream);
            Tensor devOutView = devOutBase.slice(0, 3, 133).select(1, 0).slice(1, 2, 22); // [130, 20]
            TensorOps.cast(devView, devOutView, mode, stream);

            Tensor expectedBase = s.empty(to, Device.CPU, 140, 2, 25);
            TensorOps.fillBits(expectedBase, GpuTestSupport.poison(to), stream);
            TensorOps.cast(hostView, expectedBase.slice(0, 3, 133).select(1, 0).slice(1, 2, 22), mode, stream);
            GpuTestSupport.assertSameBits(expectedBase, GpuTestSupport.toHost(devOutBase, s, stream),
                    "strided " + from + "->" + to + " " + mode);
        }
    }

    @Test
    void everyNarrowPatternDecodesLikeTheCpu() {
        try (TensorScope s = TensorScope.open(stream)) {
            for (DType from : new DType[] {DType.BF16, DType.F16, DType.F8_E4M3, DType.F8_E5M2}) {
                int count = 1 << (8 * from.byteSize());
                Tensor host = s.empty(from, Device.CPU, count);
                for (int i = 0; i < count; i++) {
                    host.setBits(i, i);
                }
                Tensor dev = TensorOps.to(host, GPU, s);
                Tensor out = s.empty(DType.F32, GPU, count);
                TensorOps.fillBits(out, GpuTestSupport.poison(DType.F32), stream);
                TensorOps.cast(dev, out, CastMode.STANDARD, stream);
                Tensor back = GpuTestSupport.toHost(out, s, stream);
                for (int i = 0; i < count; i++) {
                    int expected = DTypeCodec.toF32Bits(from, i);
                    int actual = (int) back.getBits(i);
                    if (expected != actual) {
                        fail(from + " pattern 0x" + Integer.toHexString(i) + ": expected f32 0x" + Integer.toHexString(expected)
                                + ", GPU gave 0x" + Integer.toHexString(actual));
                    }
                }
            }
        }
    }

    /** All 2^32 float32 inputs through every narrow encoder, both modes, on the GPU, against the CPU codec. */
    @Test
    @Tag(GpuSuite.EXHAUSTIVE_TAG)
    void everyFloat32EncodesLikeTheCpu() {
        final long chunk = 1L << 28;
        DType[] targets = {DType.BF16, DType.F16, DType.F8_E4M3, DType.F8_E5M2};
        try (TensorScope s = TensorScope.open(stream)) {
            Tensor hostIn = s.pinned(DType.F32, chunk);
            Tensor devIn = s.empty(DType.F32, GPU, chunk);
            Tensor[] devOut = new Tensor[targets.length * 2];
            Tensor[] hostOut = new Tensor[targets.length * 2];
            for (int t = 0; t < devOut.length; t++) {
                devOut[t] = s.empty(targets[t / 2], GPU, chunk);
                hostOut[t] = s.pinned(targets[t / 2], chunk);
            }
            MemorySegment in = hostIn.segment();
            AtomicLong mismatches = new AtomicLong();
            StringBuffer firstBad = new StringBuffer();
            for (long base = 0; base < (1L << 32); base += chunk) {
                final long b = base;
                IntStream.range(0, 64).parallel().forEach(p -> {
                    for (long i = chunk * p / 64; i < chunk * (p + 1) / 64; i++) {
                        in.setAtIndex(ValueLayout.JAVA_INT, i, (int) (b + i));
                    }
                });
                TensorOps.copy(hostIn, devIn, stream);
                for (int t = 0; t < devOut.length; t++) {
                    TensorOps.fillBits(devOut[t], GpuTestSupport.poison(targets[t / 2]), stream);
                    TensorOps.cast(devIn, devOut[t], t % 2 == 0 ? CastMode.STANDARD : CastMode.SATURATE, stream);
                    TensorOps.copy(devOut[t], hostOut[t], stream);
                }
                stream.synchronize();
                for (int t = 0; t < devOut.length; t++) {
                    DType to = targets[t / 2];
                    boolean sat = t % 2 == 1;
                    MemorySegment got = hostOut[t].segment();
                    IntStream.range(0, 64).parallel().forEach(p -> {
                        for (long i = chunk * p / 64; i < chunk * (p + 1) / 64; i++) {
                            int f = (int) (b + i);
                            long expected = DTypeCodec.fromF32Bits(to, f, sat);
                            long actual = to.byteSize() == 2 ? got.getAtIndex(ValueLayout.JAVA_SHORT, i) & 0xFFFFL
                                    : got.getAtIndex(ValueLayout.JAVA_BYTE, i) & 0xFFL;
                            if (expected != actual && mismatches.getAndIncrement() < 8) {
                                firstBad.append("\n  f32 0x").append(Integer.toHexString(f)).append(" -> ").append(to)
                                        .append(sat ? " (saturate)" : "").append(": CPU 0x").append(Long.toHexString(expected))
                                        .append(", GPU 0x").append(Long.toHexString(actual));
                            }
                        }
                    });
                }
            }
            assertEquals(0, mismatches.get(), "GPU and CPU encoders differ" + firstBad);
        }
    }
}
