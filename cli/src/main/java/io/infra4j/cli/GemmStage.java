package io.infra4j.cli;

import io.infra4j.deepgemm.Fp8Gemm;
import io.infra4j.deepgemm.Fp8Quant;
import io.infra4j.deepgemm.Fp8Tensor;
import io.infra4j.deepgemm.GemmOptions;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * DeepGEMM's FP8 GEMMs as a mixture-of-experts layer uses them: BF16 tokens are routed to experts
 * (each expert's rows padded to 128, the contiguous layout), quantised per token (1 x 128), the
 * experts' BF16 weights per 128 x 128 block, and one grouped GEMM computes every expert's output; a
 * dense GEMM of all tokens against expert 0 runs too. Both are held to the FP32 product of the
 * unquantised BF16 inputs (DeepGEMM's calc_diff &lt; 1e-3); on a GPU the kernel also matches the
 * FP8 CPU reference run on copies of the same quantised operands.
 */
final class GemmStage implements DemoStage {
    static final int TOKENS = 200;
    static final int EXPERTS = 4;
    static final int HIDDEN = 1024; // k
    static final int OUT = 512;     // n
    /** DeepGEMM's bound on calc_diff against the unquantised product. */
    static final double CALC_DIFF_BOUND = 1e-3;
    /** The kernel against the FP8 reference on the same operands: only summation order differs. */
    static final double KERNEL_DIFF_BOUND = 1e-5;

    @Override
    public String name() {
        return "gemm";
    }

    @Override
    public String description() {
        return "FP8 GEMMs (DeepGEMM): " + TOKENS + " tokens x " + EXPERTS + " experts, k " + HIDDEN + ", n " + OUT
                + ", quantised 1x128 / 128x128, grouped (contiguous) and dense, against the BF16 product";
    }

    @Override
    public StageResult run(DemoContext ctx) {
        Device dev = ctx.device();
        boolean gpu = dev.isCuda();
        Random random = ctx.random();
        int[] expertOf = new int[TOKENS];
        int[] perExpert = new int[EXPERTS];
        for (int t = 0; t < TOKENS; t++) {
            expertOf[t] = random.nextInt(EXPERTS);
            perExpert[expertOf[t]]++;
        }
        // The contiguous layout: each expert's tokens, then padding up to a multiple of 128 rows (-1).
        int padded = 0;
        for (int c : perExpert) {
            padded += (c + 127) / 128 * 128;
        }
        final int rows = padded;
        int[] rowToken = new int[rows];
        int[] rowExpert = new int[rows];
        int r = 0;
        for (int e = 0; e < EXPERTS; e++) {
            int start = r;
            for (int t = 0; t < TOKENS; t++) {
                if (expertOf[t] == e) {
                    rowToken[r] = t;
                    rowExpert[r++] = e;
                }
            }
            while ((r - start) % 128 != 0) {
                rowToken[r] = -1;
                rowExpert[r++] = -1;
            }
        }
        float[] x = normals(random, TOKENS * HIDDEN);
        float[] w = normals(random, EXPERTS * OUT * HIDDEN);
        roundToBf16(x);
        roundToBf16(w);
        float[] xRows = new float[rows * HIDDEN];
        for (int i = 0; i < rows; i++) {
            if (rowToken[i] >= 0) {
                System.arraycopy(x, rowToken[i] * HIDDEN, xRows, i * HIDDEN, HIDDEN);
            }
        }

        List<String> failures = new ArrayList<>();
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("tokens", TOKENS);
        f.put("experts", EXPERTS);
        f.put("tokens_per_expert", java.util.Arrays.stream(perExpert).boxed().toList());
        f.put("rows_padded", rows);
        f.put("k", HIDDEN);
        f.put("n", OUT);
        try (CudaStream own = gpu ? CudaStream.create(Cuda.device(dev.index())) : null;
             TensorScope scope = gpu ? TensorScope.open(own) : TensorScope.open();
             OpTimer timer = gpu ? OpTimer.gpu(own) : OpTimer.cpu();
             Progress.Task task = ctx.progress().start("demo " + name(), gpu ? 6 : 5)) {
            CudaStream stream = scope.stream();
            GemmOptions options = GemmOptions.on(stream);
            Tensor xDev = task.step("inputs to " + dev, () -> place(scope.ofFloats(DType.BF16, xRows, rows, HIDDEN), dev, scope));
            Tensor wDev = place(scope.ofFloats(DType.BF16, w, EXPERTS, OUT, HIDDEN), dev, scope);
            Tensor idx = scope.empty(DType.I32, Device.CPU, rows);
            for (int i = 0; i < rows; i++) {
                idx.setBits(rowExpert[i], i);
            }
            Tensor idxDev = place(idx, dev, scope);
            // The operands are made once and quantised into (the GPU timer may run an op more than once);
            // expert 0's weights are a view of the grouped ones, closed before the tensors it shares.
            try (Fp8Tensor a = Fp8Quant.perToken(xDev, stream); Fp8Tensor b = Fp8Quant.perBlock(wDev, stream);
                 Fp8Tensor b0 = new Fp8Tensor(b.values().select(0, 0), b.scales().select(0, 0))) {
                double quantS = task.step("quantise", () -> timer.seconds(() -> {
                    Fp8Quant.perTokenInto(xDev, a, stream);
                    Fp8Quant.perBlockInto(wDev, b, stream);
                }));
                Tensor grouped = scope.empty(DType.BF16, dev, rows, OUT);
                Tensor dense = scope.empty(DType.BF16, dev, rows, OUT);
                double groupedS = task.step("grouped GEMM on " + dev,
                        () -> timer.seconds(() -> Fp8Gemm.mGroupedContiguous(a, b, idxDev, grouped, options)));
                double denseS = task.step("dense GEMM on " + dev, () -> timer.seconds(() -> Fp8Gemm.gemmNt(a, b0, dense, options)));
                f.put("quantise_ms", quantS * 1e3);
                f.put("grouped_ms", groupedS * 1e3);
                f.put("dense_ms", denseS * 1e3);
                f.put("timing", timer.method());
                try (TensorScope host = TensorScope.open()) {
                    float[] g = toHostFloats(grouped, host, stream);
                    float[] d = toHostFloats(dense, host, stream);
                    task.step("check against the BF16 product", () -> {
                        double gDiff = calcDiff(g, xRows, w, rowExpert);
                        int[] zeros = new int[rows];
                        for (int i = 0; i < rows; i++) {
                            zeros[i] = rowExpert[i] < 0 ? -1 : 0;
                        }
                        double dDiff = calcDiff(d, xRows, w, zeros);
                        f.put("grouped_calc_diff", gDiff);
                        f.put("dense_calc_diff", dDiff);
                        if (!(gDiff < CALC_DIFF_BOUND)) {
                            failures.add("grouped: calc_diff " + gDiff + " against the BF16 product, bound " + CALC_DIFF_BOUND);
                        }
                        if (!(dDiff < CALC_DIFF_BOUND)) {
                            failures.add("dense: calc_diff " + dDiff + " against the BF16 product, bound " + CALC_DIFF_BOUND);
                        }
                    });
                    if (gpu) {
                        task.step("kernel against the FP8 CPU reference", () -> {
                            Fp8Tensor ah = new Fp8Tensor(toHost(a.values(), host, stream), toHost(a.scales(), host, stream));
                            Fp8Tensor bh = new Fp8Tensor(toHost(b.values(), host, stream), toHost(b.scales(), host, stream));
                            Tensor ref = host.empty(DType.BF16, Device.CPU, rows, OUT);
                            TensorOps.fill(ref, 0);
                            Fp8Gemm.mGroupedContiguous(ah, bh, toHost(idxDev, host, stream), ref, GemmOptions.defaults());
                            float[] want = ref.toFloatArray();
                            double diff = calcDiffRows(g, want, rowExpert);
                            f.put("kernel_vs_fp8_reference_calc_diff", diff);
                            if (!(diff < KERNEL_DIFF_BOUND)) {
                                failures.add("grouped: the kernel differs from the FP8 CPU reference by calc_diff " + diff);
                            }
                        });
                    }
                }
                f.put("runs_on", gpu ? "GPU " + dev.index() + " (" + Cuda.device(dev.index()).name()
                        + "): infra4j's FP8 kernels, checked against the BF16 product and the FP8 CPU reference"
                        : "CPU: the FP8 reference, checked against the BF16 product");
            }
        }
        return StageResult.of(failures, f);
    }

    private static Tensor place(Tensor host, Device dev, TensorScope scope) {
        return dev.isCpu() ? host : TensorOps.to(host, dev, scope);
    }

    private static Tensor toHost(Tensor t, TensorScope host, CudaStream stream) {
        Tensor h = host.empty(t.dtype(), Device.CPU, t.shape());
        TensorOps.copy(t, h, stream);
        stream.synchronize();
        return h;
    }

    private static float[] toHostFloats(Tensor t, TensorScope host, CudaStream stream) {
        return t.device().isCpu() ? t.toFloatArray() : toHost(t, host, stream).toFloatArray();
    }

    /** calc_diff of got [rows, OUT] against x [rows, HIDDEN] times w[expert]^T, over rows with an expert. */
    static double calcDiff(float[] got, float[] x, float[] w, int[] expertOfRow) {
        double sxy = 0, sxx = 0, syy = 0;
        for (int r = 0; r < expertOfRow.length; r++) {
            int e = expertOfRow[r];
            if (e < 0) {
                continue;
            }
            for (int c = 0; c < OUT; c++) {
                float acc = 0;
                int wo = (e * OUT + c) * HIDDEN;
                for (int i = 0; i < HIDDEN; i++) {
                    acc += x[r * HIDDEN + i] * w[wo + i];
                }
                double g = got[r * OUT + c];
                sxy += g * acc;
                sxx += g * g;
                syy += (double) acc * acc;
            }
        }
        return sxx + syy == 0 ? 0 : 1 - 2 * sxy / (sxx + syy);
    }

    private static double calcDiffRows(float[] got, float[] want, int[] expertOfRow) {
        double sxy = 0, sxx = 0, syy = 0;
        for (int r = 0; r < expertOfRow.length; r++) {
            if (expertOfRow[r] < 0) {
                continue;
            }
            for (int c = 0; c < OUT; c++) {
                double g = got[r * OUT + c], y = want[r * OUT + c];
                sxy += g * y;
                sxx += g * g;
                syy += y * y;
            }
        }
        return sxx + syy == 0 ? 0 : 1 - 2 * sxy / (sxx + syy);
    }

    private static float[] normals(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    private static void roundToBf16(float[] v) {
        for (int i = 0; i < v.length; i++) {
            v[i] = io.infra4j.memory.DTypeCodec.bf16ToFloat(io.infra4j.memory.DTypeCodec.floatToBf16(v[i]));
        }
    }
}
