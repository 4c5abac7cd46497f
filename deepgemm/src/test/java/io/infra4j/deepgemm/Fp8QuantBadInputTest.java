package io.infra4j.deepgemm;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorScope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Every bad argument is refused in Java with an IllegalArgumentException whose message starts with
 * the argument's name (closed things: IllegalStateException). Each case changes one thing of a valid
 * call. (Device and stream mismatches need a GPU: Fp8QuantGpuTest covers them.)
 */
class Fp8QuantBadInputTest {
    private static final CudaStream STREAM = CudaStream.legacyDefault();
    private TensorScope scope;
    private Tensor x; // [130, 272] BF16

    @BeforeEach
    void setUp() {
        scope = TensorScope.open();
        x = bf16(130, 272);
    }

    @AfterEach
    void tearDown() {
        scope.close();
    }

    private Tensor bf16(long... shape) {
        return scope.empty(DType.BF16, Device.CPU, shape);
    }

    private Tensor f32(long... shape) {
        return scope.empty(DType.F32, Device.CPU, shape);
    }

    private Tensor e4m3(long... shape) {
        return scope.empty(DType.F8_E4M3, Device.CPU, shape);
    }

    private static <T extends RuntimeException> void refused(Class<T> type, String argument, Executable call, String... parts) {
        T e = assertThrows(type, call, "expected " + type.getSimpleName() + " naming '" + argument + "'");
        assertTrue(e.getMessage() != null && e.getMessage().startsWith(argument + ":"),
                "the message should start with '" + argument + ":', got: " + e.getMessage());
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "the message should contain '" + part + "', got: " + e.getMessage());
        }
    }

    private static void refused(String argument, Executable call, String... parts) {
        refused(IllegalArgumentException.class, argument, call, parts);
    }

    /** Both granularities refuse the same x. */
    private static void xRefused(Tensor bad, String... parts) {
        refused("x", () -> Fp8Quant.perToken(bad, STREAM), parts);
        refused("x", () -> Fp8Quant.perBlock(bad, STREAM), parts);
    }

    @Test
    void theBaseCallsAreValid() {
        assertDoesNotThrow(() -> Fp8Quant.perToken(x, STREAM).close());
        assertDoesNotThrow(() -> Fp8Quant.perBlock(x, STREAM).close());
        assertDoesNotThrow(() -> Fp8Quant.perTokenInto(x, new Fp8Tensor(e4m3(130, 272), f32(130, 3)), STREAM));
        assertDoesNotThrow(() -> Fp8Quant.perBlockInto(x, new Fp8Tensor(e4m3(130, 272), f32(2, 3)), STREAM));
        assertDoesNotThrow(() -> Fp8Quant.toMnMajor(f32(130, 3), STREAM).close());
        assertDoesNotThrow(() -> Fp8Quant.toMnMajorInto(f32(130, 3), f32(3, 132), STREAM));
    }

    @Test
    void badX() {
        refused("x", () -> Fp8Quant.perToken(null, STREAM), "got null");
        xRefused(f32(130, 272), "BF16", "F32");
        xRefused(bf16(272), "rank 2", "[272]");
        xRefused(bf16(2, 2, 130, 272), "rank 2", "[2, 2, 130, 272]");
        xRefused(bf16(130, 100), "multiple of 16", "100");
        xRefused(bf16(272, 130 * 16).transpose(0, 1), "last stride 1");
        xRefused(bf16(130, 544).slice(1, 0, 544, 2), "last stride 1");
        Tensor closed = bf16(4, 16);
        closed.close();
        refused(IllegalStateException.class, "x", () -> Fp8Quant.perToken(closed, STREAM), "closed");
    }

    @Test
    void badOutputs() {
        refused("out", () -> Fp8Quant.perTokenInto(x, null, STREAM), "null");
        refused("out.values", () -> Fp8Quant.perTokenInto(x, new Fp8Tensor(e4m3(130, 256), f32(130, 3)), STREAM),
                "[130, 272]", "[130, 256]");
        refused("out.scales", () -> Fp8Quant.perTokenInto(x, new Fp8Tensor(e4m3(130, 272), f32(2, 3)), STREAM),
                "[130, 3]", "[2, 3]");
        refused("out.scales", () -> Fp8Quant.perBlockInto(x, new Fp8Tensor(e4m3(130, 272), f32(130, 3)), STREAM),
                "[2, 3]", "[130, 3]");
        refused("out.values", () -> Fp8Quant.perTokenInto(x,
                new Fp8Tensor(e4m3(272, 130).transpose(0, 1), f32(130, 3)), STREAM), "contiguous");
        refused("out.scales", () -> Fp8Quant.perTokenInto(x,
                new Fp8Tensor(e4m3(130, 272), f32(3, 130).transpose(0, 1)), STREAM), "contiguous");
        Tensor closed = f32(130, 3);
        closed.close();
        refused(IllegalStateException.class, "out.scales",
                () -> Fp8Quant.perTokenInto(x, new Fp8Tensor(e4m3(130, 272), closed), STREAM), "closed");
    }

    @Test
    void badScalesForTheMnMajorLayout() {
        refused("scales", () -> Fp8Quant.toMnMajor(null, STREAM), "null");
        refused("scales", () -> Fp8Quant.toMnMajor(bf16(130, 3), STREAM), "F32", "BF16");
        refused("scales", () -> Fp8Quant.toMnMajor(f32(130), STREAM), "rank 2", "[130]");
        refused("scales", () -> Fp8Quant.toMnMajor(f32(2, 2, 2, 2), STREAM), "rank 2");
        refused("scales", () -> Fp8Quant.toMnMajor(f32(3, 130).transpose(0, 1), STREAM), "row-major", "copy them first");
        Tensor mn = Fp8Quant.toMnMajor(f32(130, 3), STREAM);
        refused("scales", () -> Fp8Quant.toMnMajor(mn, STREAM), "M-major already");
        mn.close();
    }

    @Test
    void badMnMajorStorage() {
        Tensor scales = f32(130, 3);
        refused("out", () -> Fp8Quant.toMnMajorInto(scales, null, STREAM), "null");
        refused("out", () -> Fp8Quant.toMnMajorInto(scales, f32(3, 130), STREAM), "[3, 132]", "[3, 130]");
        refused("out", () -> Fp8Quant.toMnMajorInto(scales, bf16(3, 132), STREAM), "F32", "BF16");
        refused("out", () -> Fp8Quant.toMnMajorInto(scales, f32(132, 3).transpose(0, 1), STREAM), "contiguous");
        Tensor shifted = f32(3 * 132 + 1).slice(0, 1, 3 * 132 + 1).view(3, 132);
        refused("out", () -> Fp8Quant.toMnMajorInto(scales, shifted, STREAM), "16-byte");
        Tensor both = f32(2 * 3 * 132);
        refused("out", () -> Fp8Quant.toMnMajorInto(both.slice(0, 0, 390).view(130, 3),
                both.slice(0, 4, 4 + 396).view(3, 132), STREAM), "overlaps");
        refused("out", () -> Fp8Quant.toMnMajorInto(f32(2, 130, 3), f32(3, 132), STREAM), "[2, 3, 132]");
    }

    @Test
    void badDequantizeArguments() {
        refused("q", () -> Fp8Quant.dequantizePerToken(null), "null");
        refused("q.scales", () -> Fp8Quant.dequantizePerToken(new Fp8Tensor(e4m3(130, 272), f32(2, 3))), "[130, 3]",
                "per token");
        refused("q.scales", () -> Fp8Quant.dequantizePerBlock(new Fp8Tensor(e4m3(130, 272), f32(130, 3))), "[2, 3]",
                "per block");
        refused("q.values", () -> Fp8Quant.dequantizePerToken(new Fp8Tensor(e4m3(272), f32(3))), "rank 2");
    }

    @Test
    void badM() {
        refused("m", () -> Fp8Quant.scaleRows(-1), "-1");
    }
}
