package io.infra4j.deepgemm.internal;

import io.infra4j.bindings.kernels.Infra4jKernels;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.KernelLibrary;
import java.lang.foreign.MemorySegment;

/**
 * The GPU path: fp8_gemm.h's quantisation functions in libinfra4j_cuda. Arguments are checked in
 * Java before anything here runs; the library is probed for the symbols first, so that one built
 * before them gives a clear {@link io.infra4j.ffm.CudaUnavailableException} instead of a failed class
 * initialiser.
 */
public final class Fp8QuantKernel {
    private static final String[] SYMBOLS = {"infra4j_fp8_scale_rows", "infra4j_fp8_quant_per_token",
        "infra4j_fp8_quant_per_block", "infra4j_fp8_scales_to_mn_major"};

    private Fp8QuantKernel() {}

    /** Throws unless the kernels can run here and the library has FP8 quantisation. */
    public static void require() {
        KernelLibrary.requireSymbols("FP8 quantisation", SYMBOLS);
    }

    /** Whether FP8 quantisation can run on a GPU here. */
    public static boolean isAvailable() {
        return KernelLibrary.hasSymbols(SYMBOLS);
    }

    /** The library's {@code infra4j_fp8_scale_rows} (the tests hold Java's formula to it). */
    public static long scaleRows(long m) {
        require();
        return Infra4jKernels.infra4j_fp8_scale_rows(m);
    }

    /** Queues one matrix's quantisation on {@code stream}; addresses are device pointers. */
    public static void quantize(Granularity granularity, long x, long rows, long cols, long ld, long out, long scales,
                                int device, CudaStream stream) {
        require();
        Cuda.useDevice(device);
        if (granularity == Granularity.PER_TOKEN) {
            Cuda.check(Infra4jKernels.infra4j_fp8_quant_per_token(ptr(x), rows, cols, ld, ptr(out), ptr(scales),
                    stream.handle()), "infra4j_fp8_quant_per_token(rows " + rows + ", cols " + cols + ", ld " + ld + ")");
        } else {
            Cuda.check(Infra4jKernels.infra4j_fp8_quant_per_block(ptr(x), rows, cols, ld, ptr(out), ptr(scales),
                    stream.handle()), "infra4j_fp8_quant_per_block(rows " + rows + ", cols " + cols + ", ld " + ld + ")");
        }
    }

    /** Queues the copy of scales [groups][m][kb] to [groups][kb][scaleRows(m)] on {@code stream}. */
    public static void toMnMajor(long scales, int groups, long m, int kb, long out, int device, CudaStream stream) {
        require();
        Cuda.useDevice(device);
        Cuda.check(Infra4jKernels.infra4j_fp8_scales_to_mn_major(ptr(scales), groups, m, kb, ptr(out), stream.handle()),
                "infra4j_fp8_scales_to_mn_major(groups " + groups + ", m " + m + ", kb " + kb + ")");
    }

    private static MemorySegment ptr(long address) {
        return address == 0 ? MemorySegment.NULL : MemorySegment.ofAddress(address);
    }
}
