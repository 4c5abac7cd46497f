package io.infra4j.cli;

import io.infra4j.deepep.EpReference;
import io.infra4j.deepep.ExpertPlacement;
import io.infra4j.deepep.IntranodeEp;
import io.infra4j.deepep.RankTokens;
import io.infra4j.deepep.Routing;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
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
 * DeepEP's dispatch and combine as an expert-parallel MoE layer uses them, over W ranks in this
 * process: each rank routes its tokens to top-k of E experts (some slots -1), dispatch sends every
 * token once to each rank holding one of its experts, each rank returns what it received (an identity
 * "expert"), and combine must give every token back times the number of ranks that got it. The
 * low-latency mode's weighted combine is checked the same way. On a GPU the intranode kernels run and
 * must match the CPU reference exactly.
 */
final class EpStage implements DemoStage {
    static final int RANKS = 4;
    static final int EXPERTS = 32;
    static final int TOP_K = 8;
    static final int HIDDEN = 256;
    static final int TOKENS = 64; // per rank, at most

    @Override
    public String name() {
        return "ep";
    }

    @Override
    public String description() {
        return "expert-parallel dispatch and combine (DeepEP): " + RANKS + " ranks, " + EXPERTS + " experts, top-" + TOP_K
                + ", hidden " + HIDDEN + ", both modes against the expected sums";
    }

    @Override
    public StageResult run(DemoContext ctx) {
        Device dev = ctx.device();
        boolean gpu = dev.isCuda();
        Random random = ctx.random();
        ExpertPlacement placement = new ExpertPlacement(EXPERTS, RANKS);
        List<RankTokens> ranks = new ArrayList<>();
        for (int s = 0; s < RANKS; s++) {
            int t = TOKENS / 2 + random.nextInt(TOKENS / 2 + 1);
            long[] ids = new long[t * TOP_K];
            float[] weights = new float[t * TOP_K];
            for (int i = 0; i < t; i++) {
                List<Long> chosen = new ArrayList<>();
                for (int j = 0; j < TOP_K; j++) {
                    long e = random.nextInt(6) == 0 ? -1 : random.nextInt(EXPERTS);
                    if (chosen.contains(e)) {
                        e = -1;
                    }
                    chosen.add(e);
                    ids[i * TOP_K + j] = e;
                    weights[i * TOP_K + j] = (1 + random.nextInt(8)) / 8f; // exact sums
                }
            }
            float[] rows = new float[t * HIDDEN];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = random.nextInt(17) - 8; // small integers: exact in BF16 and in every sum here
            }
            ranks.add(new RankTokens(rows, HIDDEN, new Routing(t, TOP_K, ids, weights)));
        }
        List<String> failures = new ArrayList<>();
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("ranks", RANKS);
        f.put("experts", EXPERTS);
        f.put("top_k", TOP_K);
        f.put("hidden", HIDDEN);
        f.put("tokens_per_rank", ranks.stream().map(RankTokens::numTokens).toList());
        try (Progress.Task task = ctx.progress().start("demo " + name(), gpu ? 4 : 3)) {
            EpReference.Dispatch ref = task.step("dispatch (CPU reference)", () -> EpReference.dispatch(ranks, placement, 1));
            f.put("rows_received", ref.received().stream().map(EpReference.Received::numRows).toList());
            List<float[]> identity = ref.received().stream().map(EpReference.Received::rows).toList();
            List<float[]> combined = task.step("combine (CPU reference)", () -> EpReference.combine(ref, identity));
            checkNormal(ranks, ref, combined, failures);
            task.step("low-latency dispatch and combine", () -> checkLowLatency(ranks, placement, failures));
            if (gpu) {
                task.step("intranode kernels on " + dev, () -> checkGpu(dev, ranks, placement, ref, combined, failures, f));
            }
        }
        f.put("runs_on", gpu ? "GPU " + dev.index() + " (" + Cuda.device(dev.index()).name()
                + "): infra4j's intranode kernels over " + RANKS + " simulated ranks, checked against the CPU reference"
                : "CPU: the reference of both modes over " + RANKS + " ranks in this process");
        return StageResult.of(failures, f);
    }

    // Every token comes back times the number of ranks that received it.
    private static void checkNormal(List<RankTokens> ranks, EpReference.Dispatch ref, List<float[]> combined, List<String> failures) {
        for (int s = 0; s < ranks.size(); s++) {
            RankTokens in = ranks.get(s);
            for (int t = 0; t < in.numTokens(); t++) {
                int copies = 0;
                for (int r = 0; r < ranks.size(); r++) {
                    copies += ref.layouts().get(s).isTokenInRank(t, r) ? 1 : 0;
                }
                for (int c = 0; c < HIDDEN; c++) {
                    if (combined.get(s)[t * HIDDEN + c] != in.rows()[t * HIDDEN + c] * copies) {
                        failures.add("normal combine: rank " + s + " token " + t + " is not its row times " + copies);
                        return;
                    }
                }
            }
        }
    }

    // Weighted by its slots: every token comes back times the sum of its weights.
    private static void checkLowLatency(List<RankTokens> ranks, ExpertPlacement placement, List<String> failures) {
        EpReference.LowLatencyDispatch ll = EpReference.lowLatencyDispatch(ranks, placement, TOKENS, Float.NaN);
        List<float[]> out = EpReference.lowLatencyCombine(ll, ll.received().stream().map(EpReference.LowLatencyReceived::rows).toList());
        for (int s = 0; s < ranks.size(); s++) {
            Routing rt = ranks.get(s).routing();
            for (int t = 0; t < rt.numTokens(); t++) {
                float weight = 0;
                for (int j = 0; j < TOP_K; j++) {
                    weight += rt.expert(t, j) >= 0 ? rt.weight(t, j) : 0f;
                }
                for (int c = 0; c < HIDDEN; c++) {
                    if (out.get(s)[t * HIDDEN + c] != ranks.get(s).rows()[t * HIDDEN + c] * weight) {
                        failures.add("low-latency combine: rank " + s + " token " + t + " is not its row times its weights");
                        return;
                    }
                }
            }
        }
    }

    private static void checkGpu(Device dev, List<RankTokens> ranks, ExpertPlacement placement, EpReference.Dispatch ref,
            List<float[]> combined, List<String> failures, Map<String, Object> f) {
        try (CudaStream stream = CudaStream.create(Cuda.device(dev.index())); TensorScope scope = TensorScope.open(stream)) {
            List<IntranodeEp.RankInput> in = new ArrayList<>();
            for (RankTokens r : ranks) {
                int t = r.numTokens();
                Tensor ids = scope.empty(DType.I64, Device.CPU, t, TOP_K);
                for (int i = 0; i < t * TOP_K; i++) {
                    ids.setBits(r.routing().expertIds()[i], i / TOP_K, i % TOP_K);
                }
                in.add(IntranodeEp.RankInput.bf16(TensorOps.to(scope.ofFloats(DType.BF16, r.rows(), t, HIDDEN), dev, scope),
                        TensorOps.to(ids, dev, scope), TensorOps.to(scope.ofFloats(DType.F32, r.routing().weights(), t, TOP_K), dev, scope)));
            }
            long start = System.nanoTime();
            try (IntranodeEp.Dispatched d = IntranodeEp.dispatch(in, placement, 1, stream)) {
                List<Tensor> echo = d.received().stream().map(IntranodeEp.Received::x).toList();
                List<Tensor> out = d.combine(echo, stream);
                try {
                    stream.synchronize();
                    f.put("gpu_round_trip_ms", (System.nanoTime() - start) / 1e6);
                    for (int r = 0; r < ranks.size(); r++) {
                        if (!Arrays.equals(ref.received().get(r).rows(), host(d.received().get(r).x(), stream, scope))) {
                            failures.add("GPU dispatch: rank " + r + "'s rows differ from the reference");
                        }
                        if (!Arrays.equals(combined.get(r), host(out.get(r), stream, scope))) {
                            failures.add("GPU combine: rank " + r + "'s tokens differ from the reference");
                        }
                    }
                } finally {
                    out.forEach(Tensor::close);
                }
            }
        }
    }

    private static float[] host(Tensor t, CudaStream stream, TensorScope scope) {
        Tensor h = scope.empty(t.dtype(), Device.CPU, t.shape());
        TensorOps.copy(t, h, stream);
        return h.toFloatArray();
    }
}
