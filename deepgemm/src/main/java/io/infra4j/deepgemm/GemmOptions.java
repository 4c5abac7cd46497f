package io.infra4j.deepgemm;

import io.infra4j.ffm.CudaStream;
import java.util.Objects;

/**
 * Where and how an FP8 GEMM runs. Immutable; the withers return a copy.
 *
 * <pre>{@code
 * GemmOptions o = GemmOptions.on(stream).withBackend(GemmBackend.CUBLASLT);
 * }</pre>
 *
 * @param stream  the CUDA stream the GEMM is queued on (ignored for host tensors)
 * @param backend which implementation computes it
 * @param blockN  the kernel's tile width (16, 32, 64, 128, 192 or 256), or 0 to let it choose; for tuning and tests
 * @param numSms  persistent CTAs of the kernel, or 0 for one per multiprocessor
 */
public record GemmOptions(CudaStream stream, GemmBackend backend, int blockN, int numSms) {

    public GemmOptions {
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(backend, "backend");
        if (blockN != 0 && blockN != 16 && blockN != 32 && blockN != 64 && blockN != 128 && blockN != 192 && blockN != 256) {
            throw new IllegalArgumentException("blockN: expected 0 (choose), 16, 32, 64, 128, 192 or 256, got " + blockN);
        }
        if (numSms < 0) {
            throw new IllegalArgumentException("numSms: expected 0 (all) or a positive count, got " + numSms);
        }
    }

    /** The defaults on {@code stream}: the best backend there is, tiles chosen by the kernel. */
    public static GemmOptions on(CudaStream stream) {
        return new GemmOptions(stream, GemmBackend.AUTO, 0, 0);
    }

    /** The defaults on the legacy default stream. */
    public static GemmOptions defaults() {
        return on(CudaStream.legacyDefault());
    }

    public GemmOptions withBackend(GemmBackend b) {
        return new GemmOptions(stream, b, blockN, numSms);
    }

    public GemmOptions withBlockN(int n) {
        return new GemmOptions(stream, backend, n, numSms);
    }

    public GemmOptions withNumSms(int sms) {
        return new GemmOptions(stream, backend, blockN, sms);
    }
}
