package io.infra4j.cli;

import io.infra4j.dualpipe.Costs;
import io.infra4j.dualpipe.DualPipe;
import io.infra4j.dualpipe.Mode;
import io.infra4j.dualpipe.PipelineSchedule;
import io.infra4j.dualpipe.ScheduleChecks;
import io.infra4j.dualpipe.StepResult;
import io.infra4j.dualpipe.ToyMlp;
import io.infra4j.dualpipe.ToyPipelineSetup;
import io.infra4j.dualpipe.Variant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DualPipe and DualPipeV running a training step for real, with CPU threads as ranks: the executor
 * over the in-process communicator, the FP64 toy model as stages. The step must give the loss and
 * every gradient of the same stages run one after another on the whole batch, to rounding; the
 * schedule must pass its checks and, simulated with typical costs, idle less than 1F1B over the
 * same stages. Host code only: it runs the same whatever the demo's device.
 */
final class DualPipeStage implements DemoStage {
    /** A group to run: DualPipe needs an even number of ranks, and both at least twice as many chunks. */
    record Setup(Variant variant, int ranks, int chunks) {
        String label() {
            return variant + " " + ranks + "x" + chunks;
        }
    }

    static final List<Setup> SETUPS = List.of(new Setup(Variant.DUALPIPE, 4, 16), new Setup(Variant.DUALPIPE_V, 2, 8));
    static final Mode MODE = Mode.TRAIN_OVERLAPPED;
    static final int WIDTH = 16;
    static final int LAYERS = 2;
    static final int ROWS = 4;
    /** FP64 sums taken in another order differ by a few ulps; a wrong schedule or executor, by far more. */
    static final double LIMIT = 1e-12;

    @Override
    public String name() {
        return "dualpipe";
    }

    @Override
    public String description() {
        return "a training step of DualPipe (4 ranks, 16 chunks) and DualPipeV (2 ranks, 8 chunks) on CPU threads, "
                + "against the same model run without a pipeline";
    }

    @Override
    public StageResult run(DemoContext ctx) {
        List<String> failures = new ArrayList<>();
        List<Map<String, Object>> runs = new ArrayList<>();
        try (Progress.Task task = ctx.progress().start("demo " + name(), 3 * SETUPS.size())) {
            for (Setup s : SETUPS) {
                runs.add(run(s, new ToyPipelineSetup(s.variant(), s.ranks(), s.chunks(), WIDTH, LAYERS, ROWS, ctx.random()), task,
                        failures));
            }
        }
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("model", "per stage " + LAYERS + " tanh layers of width " + WIDTH + ", FP64; " + ROWS + " rows per micro-batch");
        f.put("mode", MODE.upstreamName());
        f.put("runs_on", "host: a thread per rank, in-process communicator");
        f.put("limit", LIMIT);
        f.put("runs", runs);
        f.put("bubbles", "simulated with costs " + DualPipeText.costs(Costs.typical()) + ", communication free");
        return StageResult.of(failures, f);
    }

    /** One group: the pipelined step, the reference, the schedule's checks and bubble; a row of figures. */
    static Map<String, Object> run(Setup s, ToyPipelineSetup toy, Progress.Task task, List<String> failures) {
        ToyMlp[][] reference = toy.copies(); // before the step, while the gradients are still zero
        long t0 = System.nanoTime();
        List<StepResult<double[][]>> results = task.step(s.label() + ": pipelined step",
                () -> DualPipe.runAll(s.variant(), MODE, s.chunks(), toy.setups(), ToyMlp.squaredError(), ToyMlp::copyRows));
        long t1 = System.nanoTime();
        double referenceLoss = task.step(s.label() + ": reference", () -> toy.runReference(reference));
        long t2 = System.nanoTime();
        PipelineSchedule schedule = PipelineSchedule.of(s.variant(), s.ranks(), s.chunks(), MODE);
        ScheduleChecks.Report checks = task.step(s.label() + ": checks", () -> ScheduleChecks.check(schedule));
        BubbleComparison bubbles = BubbleComparison.of(schedule, Costs.typical());

        double loss = results.stream().mapToDouble(StepResult::totalLoss).sum();
        double lossDiff = ToyPipelineSetup.relativeDifference(loss, referenceLoss);
        double gradDiff = toy.maxGradientDifference(reference);
        String where = s.label() + ": ";
        if (!(lossDiff <= LIMIT)) {
            failures.add(where + "loss " + loss + " differs from the reference's " + referenceLoss + " by " + lossDiff
                    + " (relative), limit " + LIMIT);
        }
        if (!(gradDiff <= LIMIT)) {
            failures.add(where + "gradients differ from the reference's by " + gradDiff + " (relative), limit " + LIMIT);
        }
        if (!ToyPipelineSetup.hasGradients(reference)) {
            failures.add(where + "the reference has no gradients, so the comparison proves nothing");
        }
        if (toy.inFlight() != 0) {
            failures.add(where + toy.inFlight() + " micro-batch(es) left in flight in the stages after the step");
        }
        if (!checks.ok()) {
            failures.add(where + "schedule checks failed: " + String.join("; ", checks.problems()));
        }
        double bubble = bubbles.dualPipe().maxBubble();
        double oneF = bubbles.oneFOneB().maxBubble();
        if (!(bubble < oneF)) {
            failures.add(where + "simulated bubble " + bubble + " is not below 1F1B's " + oneF);
        }

        Map<String, Object> row = new LinkedHashMap<>();
        row.put("schedule", s.label());
        row.put("stages", bubbles.stages());
        row.put("loss", loss);
        row.put("loss_rel_diff", lossDiff);
        row.put("max_grad_rel_diff", gradDiff);
        row.put("step_ms", (t1 - t0) / 1e6);
        row.put("reference_ms", (t2 - t1) / 1e6);
        row.put("checks", checks.ok() ? "ok" : "FAILED");
        row.put("rounds", checks.rounds());
        row.put("bubble", bubble);
        row.put("bubble_1f1b", oneF);
        return row;
    }
}
