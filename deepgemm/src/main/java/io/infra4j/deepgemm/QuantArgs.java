package io.infra4j.deepgemm;

import io.infra4j.deepgemm.internal.Fp8QuantReference;
import io.infra4j.deepgemm.internal.Granularity;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import java.util.Arrays;

/**
 * The checks of {@link Fp8Quant}'s arguments, all in Java before any native call: each failure is an
 * {@link IllegalArgumentException} whose message starts with the argument's name and says what was
 * expected and what came (a closed tensor or stream: {@link IllegalStateException}).
 */
final class QuantArgs {
    private QuantArgs() {}

    /** x: BF16 [rows, cols] or [groups, rows, cols], cols a multiple of 16, rows of adjacent values. */
    static void input(Tensor x) {
        tensor(x, "x");
        if (x.dtype() != DType.BF16) {
            throw new IllegalArgumentException("x: expected dtype BF16, got " + x.dtype());
        }
        rank23(x, "x", "[rows, cols] or 3 [groups, rows, cols]");
        long[] shape = x.shape();
        long[] strides = x.strides();
        int r = shape.length;
        long rows = shape[r - 2];
        long cols = shape[r - 1];
        if (cols % 16 != 0) {
            throw new IllegalArgumentException("x: expected cols (the last size) a multiple of 16, got " + cols + " (shape "
                    + Arrays.toString(shape) + ")");
        }
        if (x.numel() == 0) {
            return;
        }
        if (strides[r - 1] != 1) {
            throw new IllegalArgumentException("x: expected the last stride 1 (each row's values adjacent), got strides "
                    + Arrays.toString(strides) + " for shape " + Arrays.toString(shape) + "; copy it first");
        }
        if (rows > 1 && strides[r - 2] < cols) {
            throw new IllegalArgumentException("x: expected a row stride >= cols " + cols + ", got strides "
                    + Arrays.toString(strides) + " for shape " + Arrays.toString(shape));
        }
    }

    /** out: values of x's shape and scales of the granularity's shape, contiguous, on x's device. */
    static void output(Tensor x, Fp8Tensor out, Granularity granularity) {
        if (out == null) {
            throw new IllegalArgumentException("out: expected an Fp8Tensor, got null");
        }
        tensor(out.values(), "out.values");
        tensor(out.scales(), "out.scales");
        expect(out.values(), "out.values", x.shape(), x.device(), "x");
        expect(out.scales(), "out.scales", granularity.scaleShape(x.shape()), x.device(), "x");
    }

    /** scales: F32 [m, kb] or [groups, m, kb], row-major, as quantisation writes them; groups and kb fit an int32. */
    static void rowMajorScales(Tensor scales) {
        tensor(scales, "scales");
        if (scales.dtype() != DType.F32) {
            throw new IllegalArgumentException("scales: expected dtype F32, got " + scales.dtype());
        }
        rank23(scales, "scales", "[m, kb] or 3 [groups, m, kb]");
        if (!scales.isContiguous()) {
            throw new IllegalArgumentException("scales: expected row-major (contiguous) scales as quantisation writes them,"
                    + " got strides " + Arrays.toString(scales.strides()) + " for shape " + Arrays.toString(scales.shape())
                    + (Fp8Quant.isMnMajor(scales) ? "; they are M-major already" : "; copy them first"));
        }
        long[] s = scales.shape();
        int r = s.length;
        if (s[r - 1] > Integer.MAX_VALUE || (r == 3 && s[0] > Integer.MAX_VALUE)) {
            throw new IllegalArgumentException("scales: expected groups and kb that fit an int32, got shape " + Arrays.toString(s));
        }
    }

    /** out of toMnMajorInto: F32 [kb, m_pad] or [groups, kb, m_pad], contiguous, 16-byte aligned, apart from scales. */
    static void mnMajorStorage(Tensor scales, Tensor out) {
        tensor(out, "out");
        if (out.dtype() != DType.F32) {
            throw new IllegalArgumentException("out: expected dtype F32, got " + out.dtype());
        }
        long[] s = scales.shape();
        int r = s.length;
        long[] expected = s.clone();
        expected[r - 2] = s[r - 1];
        expected[r - 1] = Fp8QuantReference.scaleRows(s[r - 2]);
        expect(out, "out", expected, scales.device(), "scales");
        if (out.numel() > 0 && out.address() % 16 != 0) {
            throw new IllegalArgumentException("out: expected a 16-byte-aligned tensor (the GEMMs load each K block's scales"
                    + " as one 16-byte-aligned box), got one at byte offset " + out.byteOffset() + " of its storage");
        }
        if (out.sharesStorageWith(scales) && out.numel() > 0 && scales.numel() > 0) {
            long s0 = scales.address();
            long o0 = out.address();
            if (s0 < o0 + out.byteSize() && o0 < s0 + scales.byteSize()) {
                throw new IllegalArgumentException("out: overlaps scales in the same storage; write into a separate tensor");
            }
        }
    }

    /** A GPU run needs an open stream of the tensors' device (or the legacy default stream). */
    static void stream(CudaStream stream, Device device) {
        if (device.isCpu()) {
            return; // the CPU path runs at once and ignores the stream
        }
        if (stream == null) {
            throw new IllegalArgumentException("stream: expected a CudaStream (CudaStream.legacyDefault() for the default),"
                    + " got null");
        }
        if (stream.isClosed()) {
            throw new IllegalStateException("stream: the stream is closed");
        }
        if (!stream.isLegacyDefault() && stream.device() != device.index()) {
            throw new IllegalArgumentException("stream: expected a stream of " + device + ", got one of cuda:" + stream.device());
        }
    }

    static void tensor(Tensor t, String name) {
        if (t == null) {
            throw new IllegalArgumentException(name + ": expected a tensor, got null");
        }
        if (t.isClosed()) {
            throw new IllegalStateException(name + ": tensor is closed: " + t);
        }
    }

    private static void rank23(Tensor t, String name, String dims) {
        if (t.rank() != 2 && t.rank() != 3) {
            throw new IllegalArgumentException(name + ": expected rank 2 " + dims + ", got shape " + Arrays.toString(t.shape()));
        }
    }

    private static void expect(Tensor t, String name, long[] shape, Device device, String like) {
        if (!t.device().equals(device)) {
            throw new IllegalArgumentException(name + ": expected a tensor on " + device + " like " + like + ", got one on "
                    + t.device());
        }
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException(name + ": expected shape " + Arrays.toString(shape) + ", got "
                    + Arrays.toString(t.shape()));
        }
        if (!t.isContiguous()) {
            throw new IllegalArgumentException(name + ": expected a contiguous tensor, got strides "
                    + Arrays.toString(t.strides()) + " for shape " + Arrays.toString(t.shape()));
        }
    }
}
