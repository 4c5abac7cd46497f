package io.infra4j.cli;

import io.infra4j.eplb.LoadReport;
import io.infra4j.eplb.Plan;
import io.infra4j.eplb.Policy;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** One plan as text: the shape and policy, imbalance before and after; per layer and phy2log with --verbose. */
final class EplbText {
    private EplbText() {}

    static void print(EplbOptions.Single o, Plan plan, LoadReport stats, boolean verbose, PrintStream out) {
        out.println("eplb plan of " + o.input() + ": " + plan.layers() + (plan.layers() == 1 ? " layer" : " layers")
                + " x " + plan.experts() + " experts");
        fact("policy", policy(plan.policy(), o), out);
        fact("replicas", o.replicas() + " on " + o.gpus() + " GPUs (" + o.replicas() / o.gpus() + " per GPU), " + nodes(o), out);
        fact("max replicas", plan.maxReplicas() + " of one expert in one layer", out);
        fact("total load", TextFormat.value(stats.totalLoad()), out);
        if (o.chart() != null) {
            fact("chart", "written to " + o.chart(), out);
        }
        out.println();
        out.println("imbalance, max/mean load (mean over layers):");
        LoadReport.Loads before = stats.before();
        LoadReport.Loads after = stats.after();
        indent(TextFormat.table(List.of("level", "before", "after"), List.of(
                List.of("GPU", TextFormat.value(before.meanGpuImbalance()), TextFormat.value(after.meanGpuImbalance())),
                List.of("node", TextFormat.value(before.meanNodeImbalance()), TextFormat.value(after.meanNodeImbalance())))),
                out);
        out.println("  (before: no EPLB, expert e alone on GPU e*" + o.gpus() + "/" + plan.experts() + "; after: this plan)");
        if (verbose) {
            perLayer(stats, out);
            phy2log(plan, o.gpus(), out);
        }
    }

    private static String policy(Policy p, EplbOptions.Single o) {
        return p == Policy.HIERARCHICAL
                ? "hierarchical (groups " + o.groups() + " % nodes " + o.nodes() + " == 0: groups packed onto nodes first)"
                : "global (groups " + o.groups() + " % nodes " + o.nodes() + " != 0: one pool of " + o.gpus() + " GPUs)";
    }

    private static String nodes(EplbOptions.Single o) {
        if (o.gpus() % o.nodes() == 0) {
            return o.nodes() + (o.nodes() == 1 ? " node" : " nodes") + " of " + o.gpus() / o.nodes() + " GPUs";
        }
        return o.nodes() + " nodes (GPU g on node g*" + o.nodes() + "/" + o.gpus() + ")";
    }

    private static void perLayer(LoadReport stats, PrintStream out) {
        out.println();
        out.println("imbalance per layer:");
        double[][] columns = {stats.before().gpuImbalance(), stats.after().gpuImbalance(),
                stats.before().nodeImbalance(), stats.after().nodeImbalance()};
        List<List<String>> rows = new ArrayList<>();
        for (int l = 0; l < stats.layers(); l++) {
            List<String> row = new ArrayList<>();
            row.add(Integer.toString(l));
            for (double[] c : columns) {
                row.add(TextFormat.value(c[l]));
            }
            rows.add(row);
        }
        indent(TextFormat.table(List.of("layer", "GPU before", "GPU after", "node before", "node after"), rows), out);
    }

    private static void phy2log(Plan plan, int gpus, PrintStream out) {
        out.println();
        out.println("phy2log, the expert in each slot ('|' between GPUs):");
        int perGpu = plan.replicas() / gpus;
        String width = "%" + Integer.toString(plan.experts() - 1).length() + "d";
        int[][] phy2log = plan.phy2log();
        for (int l = 0; l < plan.layers(); l++) {
            StringBuilder sb = new StringBuilder(String.format("  layer %" + Integer.toString(plan.layers() - 1).length()
                    + "d:", l));
            int[] slots = phy2log[l];
            for (int s = 0; s < slots.length; s++) {
                sb.append(s > 0 && s % perGpu == 0 ? " | " : " ").append(String.format(width, slots[s]));
            }
            out.println(sb);
        }
    }

    private static void fact(String name, String value, PrintStream out) {
        out.printf("  %-13s %s%n", name, value);
    }

    private static void indent(List<String> lines, PrintStream out) {
        lines.forEach(line -> out.println("  " + line));
    }
}
