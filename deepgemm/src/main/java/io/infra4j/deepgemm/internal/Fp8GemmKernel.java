package io.infra4j.deepgemm.internal;

import io.infra4j.bindings.kernels.Infra4jKernels;
import io.infra4j.bindings.kernels.infra4j_fp8_gemm_problem;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.KernelLibrary;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The GPU path: fp8_gemm.h's {@code infra4j_fp8_gemm} in libinfra4j_cuda. Arguments are checked in
 * Java before anything here runs; the library is probed for the symbol first, so that one built
 * before it gives a clear {@link io.infra4j.ffm.CudaUnavailableException}.
 */
public final class Fp8GemmKernel {
    private static final String[] SYMBOLS = {"infra4j_fp8_gemm", "infra4j_fp8_gemm_workspace_bytes", "infra4j_fp8_scale_rows"};

    private Fp8GemmKernel() {}

    /** Throws unless the kernels can run here and the library has the FP8 GEMM. */
    public static void require() {
        KernelLibrary.requireSymbols("The FP8 GEMM", SYMBOLS);
    }

    /** Whether the FP8 GEMM kernel can run on a GPU here. */
    public static boolean isAvailable() {
        return KernelLibrary.hasSymbols(SYMBOLS);
    }

    /** Device pointers of one GEMM (0 where the kind has no such operand); sa in the M-major layout. */
    public record Pointers(long a, long sa, long b, long sb, long mIndices, long maskedM, long d) {}

    /**
     * Queues the GEMM on {@code stream}, with scratch from the device's pool when the library asks for
     * some (split-K of small dense products), freed in stream order after the kernel.
     */
    public static void gemm(GemmShape s, int expectedM, int blockN, int numSms, Pointers p, Device device,
                            CudaStream stream) {
        require();
        Cuda.useDevice(device.index());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment problem = infra4j_fp8_gemm_problem.allocate(arena);
            infra4j_fp8_gemm_problem.kind(problem, s.kind().code());
            infra4j_fp8_gemm_problem.m(problem, s.m());
            infra4j_fp8_gemm_problem.n(problem, s.n());
            infra4j_fp8_gemm_problem.k(problem, s.k());
            infra4j_fp8_gemm_problem.groups(problem, s.groups());
            infra4j_fp8_gemm_problem.expected_m(problem, expectedM);
            infra4j_fp8_gemm_problem.block_n(problem, blockN);
            infra4j_fp8_gemm_problem.num_sms(problem, numSms);
            long bytes = Infra4jKernels.infra4j_fp8_gemm_workspace_bytes(problem);
            if (bytes < 0) {
                throw new IllegalStateException("infra4j_fp8_gemm_workspace_bytes returned " + bytes + " for " + s
                        + ": the library refuses a problem that Java accepted");
            }
            try (Tensor workspace = bytes == 0 ? null : Tensor.empty(DType.U8, device, stream, bytes)) {
                Cuda.check(Infra4jKernels.infra4j_fp8_gemm(problem, ptr(p.a()), ptr(p.sa()), ptr(p.b()), ptr(p.sb()),
                        ptr(p.mIndices()), ptr(p.maskedM()), ptr(p.d()), ptr(workspace == null ? 0 : workspace.address()),
                        stream.handle()), "infra4j_fp8_gemm(" + s + ")");
            } // freed in stream order, after the kernel

        }
    }

    private static MemorySegment ptr(long address) {
        return address == 0 ? MemorySegment.NULL : MemorySegment.ofAddress(address);
    }
}
