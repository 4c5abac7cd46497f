package io.infra4j.cli;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.flashmla.KvCache;
import io.infra4j.flashmla.MlaDecode;
import io.infra4j.flashmla.MlaOptions;
import io.infra4j.flashmla.MlaPlan;
import io.infra4j.flashmla.MlaResult;
import io.infra4j.flashmla.PagedKvCache;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * FlashMLA's decode over a paged KV cache, as a serving step runs it: 4 sequences of random lengths
 * are appended to a {@link PagedKvCache} in a few interleaved pieces (blocks taken from a shuffled
 * pool, every unused slot NaN), the step is planned once and decoded (2 query tokens per sequence,
 * causal). On a GPU the kernel's output is held to the FP32 CPU reference run on copies of the same
 * inputs; on the CPU the reference is all there is, and its output must be finite (no poisoned slot
 * read).
 */
final class MlaStage implements DemoStage {
    static final int SEQUENCES = 4;
    static final int MIN_LENGTH = 100;
    static final int MAX_LENGTH = 2000;
    static final int PIECES = 3;
    static final int HEADS_Q = 16;
    static final int HEADS_KV = 1;
    static final int SEQLEN_Q = 2;
    static final int HEAD_DIM = 576;
    static final int PAGE_SIZE = 64;
    static final int SPARE_BLOCKS = 4;
    /** A GPU element passes within this absolute error of the reference's ... */
    static final double ABS_TOLERANCE = 8e-4;
    /** ... or within this relative error (two BF16 steps). */
    static final double REL_TOLERANCE = 2.0 / 128;
    /** The most 1 - 2*sum(xy)/sum(x^2+y^2) over the whole output. */
    static final double COSINE_TOLERANCE = 5e-6;

    @Override
    public String name() {
        return "mla";
    }

    @Override
    public String description() {
        return "MLA decoding (FlashMLA) over a paged BF16 KV cache: " + SEQUENCES + " sequences of " + MIN_LENGTH + ".."
                + MAX_LENGTH + " tokens, h_q " + HEADS_Q + ", s_q " + SEQLEN_Q + ", causal; on a GPU, the kernel against the "
                + "CPU reference";
    }

    /** How far one output is from another: the worst element, the elements beyond tolerance, the cosine difference. */
    record Comparison(double maxAbsError, long mismatches, double cosineDiff) {
        boolean passed() {
            return mismatches == 0 && cosineDiff <= COSINE_TOLERANCE;
        }
    }

    /** Compares {@code got} with the reference {@code ref}, element by element and as a whole. */
    static Comparison compare(float[] got, float[] ref) {
        if (got.length != ref.length) {
            throw new IllegalArgumentException("got " + got.length + " values, the reference has " + ref.length);
        }
        double maxAbs = 0;
        boolean nan = false;
        long bad = 0;
        double xy = 0;
        double squares = 0;
        for (int i = 0; i < got.length; i++) {
            double x = got[i];
            double y = ref[i];
            if (x == y && Double.isInfinite(x)) {
                continue; // a row that sees no key: +inf on both sides, no error
            }
            double err = Math.abs(x - y);
            if (!(Double.isFinite(err) && (err <= ABS_TOLERANCE || err <= REL_TOLERANCE * Math.abs(y)))) {
                bad++; // NaN, and a finite value against an infinite one, included
            }
            nan |= Double.isNaN(err);
            maxAbs = Math.max(maxAbs, err);
            xy += x * y;
            squares += x * x + y * y;
        }
        double cos = squares == 0 ? 0 : 1 - 2 * xy / squares;
        return new Comparison(nan ? Double.NaN : maxAbs, bad, Double.isFinite(cos) ? cos : Double.POSITIVE_INFINITY);
    }

    @Override
    public StageResult run(DemoContext ctx) {
        Device dev = ctx.device();
        boolean gpu = dev.isCuda();
        Random random = ctx.random();
        int[] lengths = new int[SEQUENCES];
        int[][] pieces = new int[SEQUENCES][];
        for (int s = 0; s < SEQUENCES; s++) {
            lengths[s] = MIN_LENGTH + random.nextInt(MAX_LENGTH - MIN_LENGTH + 1);
            pieces[s] = pieces(lengths[s], random);
        }
        int blocks = SPARE_BLOCKS;
        long tokens = 0;
        for (int len : lengths) {
            blocks += (len + PAGE_SIZE - 1) / PAGE_SIZE;
            tokens += len;
        }
        MlaOptions options = MlaOptions.defaults().withCausal(true);
        List<String> failures = new ArrayList<>();
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("sequences", SEQUENCES);
        f.put("lengths", Arrays.stream(lengths).boxed().toList());
        f.put("tokens", tokens);
        f.put("appends", SEQUENCES * PIECES + " (" + PIECES + " pieces per sequence, interleaved)");
        f.put("heads_q", HEADS_Q);
        f.put("heads_kv", HEADS_KV);
        f.put("seqlen_q", SEQLEN_Q);
        f.put("head_dim", HEAD_DIM);
        f.put("head_dim_v", MlaDecode.HEAD_DIM_V);
        f.put("causal", true);
        f.put("kv_cache", "BF16, " + blocks + " blocks of " + PAGE_SIZE + " tokens (" + SPARE_BLOCKS
                + " spare), pool shuffled, unused slots NaN");

        // Closed in reverse: the task, the timer's events, the tensors and the cache (freed in stream order), the stream.
        try (CudaStream own = gpu ? CudaStream.create(Cuda.device(dev.index())) : null;
             PagedKvCache cache = PagedKvCache.builder().dtype(DType.BF16).device(dev)
                     .stream(own != null ? own : CudaStream.legacyDefault()).sequences(SEQUENCES).blocks(blocks)
                     .pageSize(PAGE_SIZE).headsKv(HEADS_KV).headDim(HEAD_DIM).build();
             TensorScope scope = gpu ? TensorScope.open(own) : TensorScope.open();
             OpTimer timer = gpu ? OpTimer.gpu(own) : OpTimer.cpu();
             Progress.Task task = ctx.progress().start("demo " + name(), gpu ? 6 : 4)) {
            CudaStream stream = scope.stream();
            Tensor q = task.step("fill the paged KV cache", () -> fill(cache, pieces, random, scope, dev));
            if (!Arrays.equals(cache.lengths(), lengths)) {
                failures.add("the cache holds lengths " + Arrays.toString(cache.lengths()) + ", appended "
                        + Arrays.toString(lengths));
            }
            if (cache.freeBlocks() != SPARE_BLOCKS) {
                failures.add("the cache has " + cache.freeBlocks() + " free blocks after the appends, expected "
                        + SPARE_BLOCKS);
            }
            Tensor blockTable = cache.blockTable(scope);
            Tensor seqlens = cache.seqlens(scope);
            try (MlaPlan plan = task.step("plan", () -> MlaDecode.plan(seqlens, stream))) {
                f.put("plan_splits", plan.totalSplits());
                f.put("plan_parts", plan.parts());
                Tensor out = scope.empty(DType.BF16, dev, SEQUENCES, SEQLEN_Q, HEADS_Q, MlaDecode.HEAD_DIM_V);
                Tensor lse = scope.empty(DType.F32, dev, SEQUENCES, HEADS_Q, SEQLEN_Q);
                KvCache kv = cache.kvCache();
                double s = task.step("decode on " + dev, () -> timer.seconds(
                        () -> MlaDecode.decodeInto(q, kv, blockTable, seqlens, plan, options, out, lse)));
                f.put("decode_ms", s * 1e3);
                f.put("timing", timer.method());
                if (gpu) {
                    checkAgainstReference(q, cache, blockTable, seqlens, out, lse, options, stream, task, f, failures);
                    f.put("runs_on", "GPU " + dev.index() + " (" + Cuda.device(dev.index()).name()
                            + "): the kernel, checked against the FP32 CPU reference on copies of its inputs");
                } else {
                    task.step("check", () -> checkFinite(out, lse, f, failures));
                    f.put("runs_on", "CPU: the FP32 reference only (no GPU here to check it against)");
                }
            }
        }
        return StageResult.of(failures, f);
    }

    /** Sizes of the pieces a sequence of {@code length} >= 3 tokens is appended in: PIECES of them, each >= 1. */
    static int[] pieces(int length, Random random) {
        int first = 1 + random.nextInt(length / 2);
        int second = 1 + random.nextInt(length - first - 1);
        return new int[] {first, second, length - first - second};
    }

    /** Poisons the cache, shuffles its pool, appends every sequence piece by piece (round-robin); returns q. */
    private static Tensor fill(PagedKvCache cache, int[][] pieces, Random random, TensorScope scope, Device dev) {
        TensorOps.fill(cache.data(), Double.NaN, scope.stream());
        cache.shuffleFreeBlocks(random);
        for (int p = 0; p < PIECES; p++) {
            for (int s = 0; s < pieces.length; s++) {
                int n = pieces[s][p];
                try (Tensor tokens = normal(scope, DType.F32, random, n, HEADS_KV, HEAD_DIM)) {
                    cache.append(s, tokens);
                }
            }
        }
        Tensor q = normal(scope, DType.BF16, random, SEQUENCES, SEQLEN_Q, HEADS_Q, HEAD_DIM);
        if (dev.isCpu()) {
            return q;
        }
        try (q) {
            return TensorOps.to(q, dev, scope); // from pageable memory: read before it returns
        }
    }

    /** A host tensor of standard normals, owned by {@code scope}. */
    private static Tensor normal(TensorScope scope, DType dtype, Random random, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return scope.ofFloats(dtype, v, shape);
    }

    /** The same decode on the CPU, on host copies of the GPU's inputs; the GPU's out and lse must match it. */
    private static void checkAgainstReference(Tensor q, PagedKvCache cache, Tensor blockTable, Tensor seqlens, Tensor out,
                                              Tensor lse, MlaOptions options, CudaStream stream, Progress.Task task,
                                              Map<String, Object> f, List<String> failures) {
        try (TensorScope host = TensorScope.open()) {
            // Into pageable host memory: each copy waits for the stream, so the GPU's writes are all in.
            Tensor[] h = task.step("copy to the host", () -> new Tensor[] {toHost(q, host, stream),
                    toHost(cache.data(), host, stream), toHost(blockTable, host, stream), toHost(seqlens, host, stream),
                    toHost(out, host, stream), toHost(lse, host, stream)});
            long t0 = System.nanoTime();
            MlaResult ref = task.step("CPU reference", () -> {
                try (MlaPlan plan = MlaDecode.plan(h[3])) {
                    return MlaDecode.decode(h[0], KvCache.bf16(h[1]), h[2], h[3], plan, options, host);
                }
            });
            f.put("reference_ms", (System.nanoTime() - t0) / 1e6);
            task.step("compare", () -> {
                Comparison o = compare(h[4].toFloatArray(), ref.out().toFloatArray());
                Comparison l = compare(h[5].toFloatArray(), ref.lse().toFloatArray());
                f.put("max_abs_error", o.maxAbsError());
                f.put("mismatches", o.mismatches());
                f.put("cosine_diff", o.cosineDiff());
                f.put("max_lse_error", l.maxAbsError());
                f.put("tolerance", "|err| <= " + ABS_TOLERANCE + " or <= 2/128 relative per element; cosine diff <= "
                        + COSINE_TOLERANCE);
                if (o.mismatches() > 0) {
                    failures.add("out: " + o.mismatches() + " of " + out.numel() + " elements beyond tolerance of the CPU "
                            + "reference (max abs error " + o.maxAbsError() + ")");
                }
                if (!(o.cosineDiff() <= COSINE_TOLERANCE)) {
                    failures.add("out: cosine difference " + o.cosineDiff() + " from the CPU reference > " + COSINE_TOLERANCE);
                }
                if (l.mismatches() > 0) {
                    failures.add("lse: " + l.mismatches() + " of " + lse.numel() + " values beyond tolerance of the CPU "
                            + "reference (max abs error " + l.maxAbsError() + ")");
                }
            });
        }
    }

    private static Tensor toHost(Tensor t, TensorScope host, CudaStream stream) {
        Tensor h = host.empty(t.dtype(), Device.CPU, t.shape());
        TensorOps.copy(t, h, stream);
        return h;
    }

    /** CPU only: nothing to compare with, but no NaN of an unused slot may reach the output. */
    private static void checkFinite(Tensor out, Tensor lse, Map<String, Object> f, List<String> failures) {
        long bad = 0;
        for (float v : out.toFloatArray()) {
            bad += Float.isFinite(v) ? 0 : 1;
        }
        for (float v : lse.toFloatArray()) {
            bad += Float.isFinite(v) ? 0 : 1;
        }
        f.put("non_finite", bad);
        f.put("check", "outputs finite (unused cache slots hold NaN); the GPU comparison needs a GPU");
        if (bad > 0) {
            failures.add(bad + " non-finite values in out and lse: the decode read a slot it must not");
        }
    }
}
