package io.infra4j.cli;

import io.infra4j.eplb.Eplb;
import io.infra4j.eplb.LoadReport;
import io.infra4j.eplb.LoadStats;
import io.infra4j.eplb.Plan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * EPLB on the loads a router produced: tokens are routed through a DeepSeek-V3-shaped MoE (256
 * experts in 8 groups, top-8 within the top-4 groups; 8 layers to stay quick), the tokens per
 * expert are planned onto 288 slots of 32 GPUs in 4 nodes (V3's prefill deployment), and the
 * plan must cover every expert and balance the GPUs better than the layout without it. Host
 * code only: it runs the same whatever the demo's device.
 */
final class EplbStage implements DemoStage {
    static final MoeRouter ROUTER = new MoeRouter(8, 256, 8, 4, 8, 0.5);
    static final int REPLICAS = 288;
    static final int GPUS = 32;
    static final int NODES = 4;
    static final int MIN_TOKENS = 4096;
    static final int MAX_TOKENS = 65536;
    /** Room for rounding when a plan ties the layout without it (never needed by more than a few ulps). */
    private static final double TOLERANCE = 1e-9;

    @Override
    public String name() {
        return "eplb";
    }

    @Override
    public String description() {
        return "plans replicas from the expert loads the demo's router produced: " + ROUTER.experts() + " experts, "
                + REPLICAS + " slots on " + GPUS + " GPUs, imbalance before and after";
    }

    /** The router's logits [tokens, experts] hold --size elements, within [MIN_TOKENS, MAX_TOKENS] tokens. */
    static int tokens(long size) {
        return Math.clamp(size / ROUTER.experts(), MIN_TOKENS, MAX_TOKENS);
    }

    /** What one run computed, and how long routing and planning took. */
    private record Outcome(long[][] counts, Plan plan, LoadReport stats, double routeMs, double planMs) {}

    @Override
    public StageResult run(DemoContext ctx) {
        int tokens = tokens(ctx.size());
        Outcome o;
        try (Progress.Task task = ctx.progress().start("demo " + name(), 3)) {
            long t0 = System.nanoTime();
            long[][] counts = task.step("route tokens", () -> ROUTER.route(tokens, ctx.random()));
            long t1 = System.nanoTime();
            Plan plan = task.step("plan replicas", () -> Eplb.rebalance(counts, REPLICAS, ROUTER.groups(), NODES, GPUS));
            long t2 = System.nanoTime();
            LoadReport stats = task.step("statistics", () -> LoadStats.of(toFloat(counts), plan, NODES, GPUS));
            o = new Outcome(counts, plan, stats, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
        }
        Plan plan = o.plan();
        LoadReport stats = o.stats();

        Map<String, Object> f = new LinkedHashMap<>();
        f.put("tokens", tokens);
        f.put("layers", ROUTER.layers());
        f.put("experts", ROUTER.experts());
        f.put("routing", String.format(Locale.ROOT, "top-%d within the top-%d of %d groups, popularity lognormal(0, %s)",
                ROUTER.topK(), ROUTER.topGroups(), ROUTER.groups(), TextFormat.value(ROUTER.skew())));
        f.put("replicas", REPLICAS);
        f.put("gpus", GPUS);
        f.put("nodes", NODES);
        f.put("policy", plan.policy().name().toLowerCase(Locale.ROOT));
        f.put("gpu_imbalance_before", stats.before().meanGpuImbalance());
        f.put("gpu_imbalance_after", stats.after().meanGpuImbalance());
        f.put("node_imbalance_before", stats.before().meanNodeImbalance());
        f.put("node_imbalance_after", stats.after().meanNodeImbalance());
        f.put("max_replicas", plan.maxReplicas());
        f.put("route_ms", o.routeMs());
        f.put("plan_ms", o.planMs());
        f.put("runs_on", "host: routing and planning are CPU code");
        f.put("per_layer", perLayer(stats));
        return StageResult.of(check(o.counts(), plan, stats, tokens), f);
    }

    private static List<String> check(long[][] counts, Plan plan, LoadReport stats, int tokens) {
        List<String> failures = new ArrayList<>();
        for (int l = 0; l < plan.layers(); l++) {
            long routed = 0;
            for (long c : counts[l]) {
                routed += c;
            }
            if (routed != (long) tokens * ROUTER.topK()) {
                failures.add("layer " + l + ": the router placed " + routed + " tokens, expected " + tokens + " x " + ROUTER.topK());
            }
            int slots = 0;
            for (int e = 0; e < plan.experts(); e++) {
                if (plan.logcnt(l, e) < 1) {
                    failures.add("layer " + l + ": expert " + e + " has no replica");
                }
                slots += plan.logcnt(l, e);
            }
            if (slots != REPLICAS) {
                failures.add("layer " + l + ": replica counts sum to " + slots + ", expected " + REPLICAS);
            }
        }
        notWorse("GPU", stats.before().meanGpuImbalance(), stats.after().meanGpuImbalance(), failures);
        notWorse("node", stats.before().meanNodeImbalance(), stats.after().meanNodeImbalance(), failures);
        return failures;
    }

    private static void notWorse(String level, double before, double after, List<String> failures) {
        if (after > before * (1 + TOLERANCE)) {
            failures.add(level + " imbalance grew: " + TextFormat.value(before) + " before, " + TextFormat.value(after) + " after");
        }
    }

    private static List<Map<String, Object>> perLayer(LoadReport stats) {
        double[] gb = stats.before().gpuImbalance();
        double[] ga = stats.after().gpuImbalance();
        double[] nb = stats.before().nodeImbalance();
        double[] na = stats.after().nodeImbalance();
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int l = 0; l < stats.layers(); l++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("layer", l);
            row.put("gpu_before", gb[l]);
            row.put("gpu_after", ga[l]);
            row.put("node_before", nb[l]);
            row.put("node_after", na[l]);
            rows.add(row);
        }
        return rows;
    }

    /** Token counts as the planner sees them (float32; exact, as counts stay below 2^24). */
    private static float[][] toFloat(long[][] counts) {
        float[][] w = new float[counts.length][];
        for (int l = 0; l < counts.length; l++) {
            w[l] = new float[counts[l].length];
            for (int e = 0; e < w[l].length; e++) {
                w[l][e] = counts[l][e];
            }
        }
        return w;
    }
}
