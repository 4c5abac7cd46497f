package io.infra4j.integration;

import static io.infra4j.integration.GpuTestSupport.GPU;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The fill and strided-copy kernels and the copy paths between memories, against the CPU path. */
@GpuTest
class FillAndCopyGpuTest {
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

    @ParameterizedTest
    @EnumSource(DType.class)
    void fillWritesExactlyTheViewsElements(DType dtype) {
        SplittableRandom r = new SplittableRandom(GpuTestSupport.freshSeed("fill " + dtype));
        try (TensorScope s = TensorScope.open(stream)) {
            long bits = r.nextLong();
            for (int contiguous = 0; contiguous < 2; contiguous++) {
                Tensor dev = s.empty(dtype, GPU, 33, 4, 517);
                Tensor host = s.empty(dtype, Device.CPU, 33, 4, 517);
                TensorOps.fillBits(dev, GpuTestSupport.poison(dtype), stream);
                TensorOps.fillBits(host, GpuTestSupport.poison(dtype), stream);
                UnaryOperator<Tensor> view = contiguous == 1 ? t -> t.slice(0, 3, 30)
                        : t -> t.slice(0, 1, 33, 3).select(1, 2).transpose(0, 1);
                TensorOps.fillBits(view.apply(dev), bits, stream);
                TensorOps.fillBits(view.apply(host), bits, stream);
                GpuTestSupport.assertSameBits(host, GpuTestSupport.toHost(dev, s, stream), "fill " + dtype);
            }
        }
    }

    @Test
    void fillOfAValueEncodesLikeTheCpu() {
        try (TensorScope s = TensorScope.open(stream)) {
            for (DType dtype : new DType[] {DType.F32, DType.F16, DType.BF16, DType.F8_E4M3, DType.F8_E5M2, DType.I32}) {
                Tensor dev = s.full(dtype, GPU, 3.0, 1000);
                Tensor host = s.full(dtype, Device.CPU, 3.0, 1000);
                GpuTestSupport.assertSameBits(host, GpuTestSupport.toHost(dev, s, stream), "full " + dtype);
            }
        }
    }

    /** Views of each kind, on each side, for each element size: host->device, device->device, device->host. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"U8", "BF16", "F32", "I64"})
    void stridedCopiesBetweenMemoriesMatchTheCpu(DType dtype) {
        SplittableRandom r = new SplittableRandom(GpuTestSupport.freshSeed("copy " + dtype));
        List<UnaryOperator<Tensor>> views = List.of(
            t -> t,                                                  // dense
            t -> t.slice(2, 1, 61),                                  // pitched rows (2-D engine copy)
            t -> t.transpose(0, 2),                                  // transposed (staged)
            t -> t.slice(0, 0, 20, 3).select(1, 1),                  // stepped and selected
            t -> t.view(20, 3, 2, 32).permute(3, 1, 0, 2));          // 4-D permutation
        try (TensorScope s = TensorScope.open(stream)) {
            for (int v = 0; v < views.size(); v++) {
                for (boolean pinned : new boolean[] {false, true}) {
                    Tensor src = pinned ? s.pinned(dtype, 20, 3, 64) : s.empty(dtype, Device.CPU, 20, 3, 64);
                    GpuTestSupport.randomBits(src, r);
                    Tensor srcView = views.get(v).apply(src);

                    // host -> device into a poisoned buffer, through the same view shape
                    Tensor dev = s.empty(dtype, GPU, 20, 3, 64);
                    TensorOps.fillBits(dev, GpuTestSupport.poison(dtype), stream);
                    TensorOps.copy(srcView, views.get(v).apply(dev), stream);
                    Tensor expected = s.empty(dtype, Device.CPU, 20, 3, 64);
                    TensorOps.fillBits(expected, GpuTestSupport.poison(dtype), stream);
                    TensorOps.copy(srcView, views.get(v).apply(expected), stream);
                    GpuTestSupport.assertSameBits(expected, GpuTestSupport.toHost(dev, s, stream),
                            "h2d view " + v + (pinned ? " pinned" : ""));

                    // device -> device (kernel) into a dense tensor
                    Tensor dense = s.empty(dtype, GPU, views.get(v).apply(dev).shape());
                    TensorOps.fillBits(dense, GpuTestSupport.poison(dtype), stream);
                    TensorOps.copy(views.get(v).apply(dev), dense, stream);
                    Tensor denseExpected = s.empty(dtype, Device.CPU, srcView.shape());
                    TensorOps.copy(srcView, denseExpected, stream);
                    GpuTestSupport.assertSameBits(denseExpected, GpuTestSupport.toHost(dense, s, stream), "d2d view " + v);

                    // device -> host, into the view of a poisoned host buffer
                    Tensor back = pinned ? s.pinned(dtype, 20, 3, 64) : s.empty(dtype, Device.CPU, 20, 3, 64);
                    TensorOps.fillBits(back, GpuTestSupport.poison(dtype), stream);
                    TensorOps.copy(views.get(v).apply(dev), views.get(v).apply(back), stream);
                    stream.synchronize();
                    GpuTestSupport.assertSameBits(expected, back, "d2h view " + v + (pinned ? " pinned" : ""));
                }
            }
        }
    }
}
