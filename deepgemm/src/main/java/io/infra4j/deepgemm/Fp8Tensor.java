package io.infra4j.deepgemm;

import io.infra4j.memory.DType;
import io.infra4j.memory.Tensor;
import java.util.Objects;

/**
 * An FP8 operand: e4m3 {@code values} and the F32 {@code scales} that restore them
 * ({@code x ~ e4m3 * scale}). For a matrix {@code [rows, cols]} quantised per token the scales are
 * {@code [rows, ceil(cols / 128)]} (one per 1 x 128 group); per block they are
 * {@code [ceil(rows / 128), ceil(cols / 128)]}. Grouped operands put the group first in both. The
 * scales may be any strided view: the M-major layout the kernels read ({@code Fp8Quant.toMnMajor}) is
 * a view of the same shape whose rows are contiguous.
 *
 * <p>Closing it closes both tensors.
 */
public record Fp8Tensor(Tensor values, Tensor scales) implements AutoCloseable {

    public Fp8Tensor {
        Objects.requireNonNull(values, "values");
        Objects.requireNonNull(scales, "scales");
        if (values.dtype() != DType.F8_E4M3) {
            throw new IllegalArgumentException("values: expected F8_E4M3, got " + values.dtype());
        }
        if (scales.dtype() != DType.F32) {
            throw new IllegalArgumentException("scales: expected F32, got " + scales.dtype());
        }
        if (!values.device().equals(scales.device())) {
            throw new IllegalArgumentException("scales: on " + scales.device() + ", values on " + values.device());
        }
    }

    @Override
    public void close() {
        values.close();
        scales.close();
    }
}
