package io.infra4j.deepgemm;

import io.infra4j.deepgemm.internal.Fp8QuantKernel;
import io.infra4j.deepgemm.internal.Fp8QuantReference;
import io.infra4j.deepgemm.internal.Granularity;
import io.infra4j.deepgemm.internal.QuantMatrix;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.DTypeCodec;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * FP8 (e4m3) quantisation of BF16 tensors with DeepSeek-V3's fine-grained scales, as DeepGEMM's
 * operands need them: per token (one F32 scale per 1 x 128 values of a row: activations, the GEMMs'
 * A) or per block (one per 128 x 128 block: weights, B).
 *
 * <pre>{@code
 * try (Fp8Tensor a = Fp8Quant.perToken(x, stream);                   // x [m, k] BF16 on the GPU
 *      Tensor sa = Fp8Quant.toMnMajor(a.scales(), stream)) {          // the layout the GEMMs read
 *     ...
 * }
 * }</pre>
 *
 * <p>Per group: {@code amax = max(max|x|, 1e-4)}, {@code e4m3 = saturate(rne(x * (448 / amax)))} (the
 * factor computed once in float32), {@code scale = amax / 448}. A NaN in a group makes its scale NaN
 * and all its values NaN; an infinity makes its scale +inf, itself NaN and the other values zero
 * (DeepGEMM's PyTorch casts propagate them the same way; the exact bits are
 * {@link Fp8QuantReference}'s).
 *
 * <p>x is BF16 [rows, cols] or [groups, rows, cols] (the masked grouped GEMM's A, or grouped weights),
 * cols a multiple of 16 (the GEMMs need 128; a shorter last group is quantised on its own), each
 * row's values adjacent (last stride 1) and rows any stride apart (a row-sliced view is fine).
 * Values come out contiguous in x's shape; scales contiguous [.., rows, ceil(cols / 128)] per token,
 * [.., ceil(rows / 128), ceil(cols / 128)] per block.
 *
 * <p>Tensors on a GPU run libinfra4j_cuda's kernels on {@code stream}, asynchronously; tensors on the
 * CPU run {@link Fp8QuantReference} at once (the stream is ignored), which gives the same bits. Bad
 * input raises {@link IllegalArgumentException} naming the argument before any native call.
 */
public final class Fp8Quant {
    /** Values per scale along a row, and rows per block. */
    public static final int BLOCK = Fp8QuantReference.BLOCK;

    private Fp8Quant() {}

    /** Whether the GPU path can run here: CUDA, libinfra4j_cuda, and its quantisation functions. */
    public static boolean isGpuAvailable() {
        return Fp8QuantKernel.isAvailable();
    }

    // ---- quantisation ----

    /** Quantises x per 1 x 128 group of a row into new tensors on x's device (caller-owned). */
    public static Fp8Tensor perToken(Tensor x, CudaStream stream) {
        return quantize(x, Granularity.PER_TOKEN, stream);
    }

    /** Quantises x per 128 x 128 block into new tensors on x's device (caller-owned). */
    public static Fp8Tensor perBlock(Tensor x, CudaStream stream) {
        return quantize(x, Granularity.PER_BLOCK, stream);
    }

    /** As {@link #perToken}, into the caller's contiguous {@code out} (values of x's shape, scales [.., rows, kb]). */
    public static void perTokenInto(Tensor x, Fp8Tensor out, CudaStream stream) {
        quantizeInto(x, out, Granularity.PER_TOKEN, stream);
    }

    /** As {@link #perBlock}, into the caller's contiguous {@code out} (values of x's shape, scales [.., ceil(rows / 128), kb]). */
    public static void perBlockInto(Tensor x, Fp8Tensor out, CudaStream stream) {
        quantizeInto(x, out, Granularity.PER_BLOCK, stream);
    }

    private static Fp8Tensor quantize(Tensor x, Granularity granularity, CudaStream stream) {
        QuantArgs.input(x);
        Device device = x.device();
        QuantArgs.stream(stream, device);
        if (device.isCuda()) {
            Fp8QuantKernel.require(); // before allocating: a library without the kernels says so first
        }
        Tensor values = allocate(DType.F8_E4M3, device, stream, x.shape());
        Tensor scales = null;
        try {
            scales = allocate(DType.F32, device, stream, granularity.scaleShape(x.shape()));
            Fp8Tensor out = new Fp8Tensor(values, scales);
            run(x, out, granularity, stream);
            return out;
        } catch (RuntimeException e) {
            values.close();
            if (scales != null) {
                scales.close();
            }
            throw e;
        }
    }

    private static void quantizeInto(Tensor x, Fp8Tensor out, Granularity granularity, CudaStream stream) {
        QuantArgs.input(x);
        QuantArgs.output(x, out, granularity);
        QuantArgs.stream(stream, x.device());
        run(x, out, granularity, stream);
    }

    private static void run(Tensor x, Fp8Tensor out, Granularity granularity, CudaStream stream) {
        long cols = x.size(-1);
        Device device = x.device();
        Tensor values = out.values();
        Tensor scales = out.scales();
        for (QuantMatrix m : QuantMatrix.of(x.shape(), x.strides(), granularity)) {
            if (device.isCpu()) {
                MemorySegment xs = x.segment().asSlice(2 * m.xOffset());
                MemorySegment vs = values.segment().asSlice(m.outOffset());
                MemorySegment ss = scales.segment().asSlice(4 * m.scalesOffset());
                if (granularity == Granularity.PER_TOKEN) {
                    Fp8QuantReference.perToken(xs, m.rows(), cols, m.ld(), vs, ss);
                } else {
                    Fp8QuantReference.perBlock(xs, m.rows(), cols, m.ld(), vs, ss);
                }
            } else {
                Fp8QuantKernel.quantize(granularity, x.address() + 2 * m.xOffset(), m.rows(), cols, m.ld(),
                        values.address() + m.outOffset(), scales.address() + 4 * m.scalesOffset(), device.index(), stream);
            }
        }
    }

    // ---- the M-major scale layout ----

    /** Rows of the M-major scale layout for m rows: m rounded up to a multiple of 4 (16 bytes of floats). */
    public static int scaleRows(int m) {
        if (m < 0 || m > Integer.MAX_VALUE - 3) {
            throw new IllegalArgumentException("m: expected 0 <= m <= " + (Integer.MAX_VALUE - 3) + ", got " + m);
        }
        return (int) Fp8QuantReference.scaleRows(m);
    }

    /**
     * The per-token scales [m, kb] or [groups, m, kb] (row-major, as quantisation writes them) in the
     * layout the GEMM kernels read: a new tensor of the same shape on the same device whose storage is
     * [groups][kb][scaleRows(m)], the padding rows 0, so that its strides are (1, m_pad) or
     * (kb * m_pad, 1, m_pad). Caller-owned; on a GPU made on {@code stream}.
     */
    public static Tensor toMnMajor(Tensor scales, CudaStream stream) {
        QuantArgs.rowMajorScales(scales);
        QuantArgs.stream(stream, scales.device());
        if (scales.device().isCuda()) {
            Fp8QuantKernel.require();
        }
        try (Tensor storage = allocate(DType.F32, scales.device(), stream, mnMajorStorageShape(scales.shape()))) {
            return toMnMajorInto(scales, storage, stream);
        } // the view returned holds the storage
    }

    /**
     * As {@link #toMnMajor}, into the caller's {@code out}: F32 [kb, m_pad] or [groups, kb, m_pad],
     * contiguous and 16-byte aligned, padding included. Returns the M-major view of {@code out} in
     * scales' shape; it shares out's storage (close it too, or let out's scope do it).
     */
    public static Tensor toMnMajorInto(Tensor scales, Tensor out, CudaStream stream) {
        QuantArgs.rowMajorScales(scales);
        QuantArgs.mnMajorStorage(scales, out);
        QuantArgs.stream(stream, scales.device());
        long[] s = scales.shape();
        int r = s.length;
        long groups = r == 3 ? s[0] : 1;
        long m = s[r - 2];
        long kb = s[r - 1];
        if (out.numel() > 0) {
            if (scales.device().isCpu()) {
                Fp8QuantReference.toMnMajor(scales.segment(), groups, m, kb, out.segment());
            } else {
                Fp8QuantKernel.toMnMajor(scales.address(), (int) groups, m, (int) kb, out.address(),
                        scales.device().index(), stream);
            }
        }
        try (Tensor firstRows = out.slice(r - 1, 0, m)) {
            return firstRows.transpose(r - 2, r - 1);
        }
    }

    /**
     * Whether {@code scales} (F32 [m, kb] or [groups, m, kb]) is already laid out as the GEMM kernels
     * read it: m's stride 1, kb's stride scaleRows(m), the group's kb * scaleRows(m), and 16-byte
     * aligned. Always true for a tensor without elements. (Whether the padding holds zeros is not
     * visible from here.)
     */
    public static boolean isMnMajor(Tensor scales) {
        QuantArgs.tensor(scales, "scales");
        int r = scales.rank();
        if (scales.dtype() != DType.F32 || (r != 2 && r != 3)) {
            return false;
        }
        if (scales.numel() == 0) {
            return true;
        }
        long m = scales.size(r - 2);
        long kb = scales.size(r - 1);
        long mPad = Fp8QuantReference.scaleRows(m);
        boolean strides = scales.stride(r - 2) == 1 && scales.stride(r - 1) == mPad
                && (r == 2 || scales.stride(0) == kb * mPad);
        return strides && scales.address() % 16 == 0;
    }

    private static long[] mnMajorStorageShape(long[] scaleShape) {
        long[] s = scaleShape.clone();
        int r = s.length;
        s[r - 2] = scaleShape[r - 1];
        s[r - 1] = Fp8QuantReference.scaleRows(scaleShape[r - 2]);
        return s;
    }

    // ---- dequantisation (CPU) ----

    /** {@code e4m3 * scale} in float32, for values quantised per token: a new caller-owned F32 host tensor. */
    public static Tensor dequantizePerToken(Fp8Tensor q) {
        return dequantize(q, Granularity.PER_TOKEN);
    }

    /** {@code e4m3 * scale} in float32, for values quantised per block: a new caller-owned F32 host tensor. */
    public static Tensor dequantizePerBlock(Fp8Tensor q) {
        return dequantize(q, Granularity.PER_BLOCK);
    }

    private static Tensor dequantize(Fp8Tensor q, Granularity granularity) {
        if (q == null) {
            throw new IllegalArgumentException("q: expected an Fp8Tensor, got null");
        }
        Tensor values = q.values();
        Tensor scales = q.scales();
        QuantArgs.tensor(values, "q.values");
        QuantArgs.tensor(scales, "q.scales");
        if (!values.device().isCpu()) {
            throw new IllegalArgumentException("q: expected tensors on the CPU (copy them to the host first), got "
                    + values.device());
        }
        long[] shape = values.shape();
        if (shape.length != 2 && shape.length != 3) {
            throw new IllegalArgumentException("q.values: expected rank 2 [rows, cols] or 3 [groups, rows, cols], got shape "
                    + Arrays.toString(shape));
        }
        long[] expected = granularity.scaleShape(shape);
        if (!Arrays.equals(scales.shape(), expected)) {
            throw new IllegalArgumentException("q.scales: expected shape " + Arrays.toString(expected) + " for values "
                    + Arrays.toString(shape) + " quantised " + granularity.name().toLowerCase().replace('_', ' ')
                    + ", got " + Arrays.toString(scales.shape()));
        }
        boolean grouped = shape.length == 3;
        long groups = grouped ? shape[0] : 1;
        long rows = shape[shape.length - 2];
        long cols = shape[shape.length - 1];
        long rowsPerScale = granularity == Granularity.PER_TOKEN ? 1 : BLOCK;
        Tensor out = Tensor.empty(DType.F32, Device.CPU, shape);
        MemorySegment o = out.segment();
        long i = 0;
        for (long g = 0; g < groups; g++) {
            for (long r = 0; r < rows; r++) {
                for (long c = 0; c < cols; c++) {
                    long[] vi = grouped ? new long[] {g, r, c} : new long[] {r, c};
                    long[] si = grouped ? new long[] {g, r / rowsPerScale, c / BLOCK} : new long[] {r / rowsPerScale, c / BLOCK};
                    float e4m3 = DTypeCodec.e4m3ToFloat((byte) values.getBits(vi));
                    float scale = Float.intBitsToFloat((int) scales.getBits(si));
                    o.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 4 * i++, e4m3 * scale);
                }
            }
        }
        return out;
    }

    private static Tensor allocate(DType dtype, Device device, CudaStream stream, long[] shape) {
        return device.isCpu() ? Tensor.empty(dtype, device, shape) : Tensor.empty(dtype, device, stream, shape);
    }
}
