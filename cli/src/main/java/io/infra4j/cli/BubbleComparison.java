package io.infra4j.cli;

import io.infra4j.dualpipe.Costs;
import io.infra4j.dualpipe.PipelineSchedule;
import io.infra4j.dualpipe.Timeline;

/**
 * A DualPipe or DualPipeV step simulated with per-op costs, beside 1F1B and ZB1P over the same
 * pipeline stages (PP: DualPipe's N ranks are N stages, DualPipeV's N ranks run 2N) and the same
 * micro-batches, with the bubble formulas of DualPipe's table to hold them against.
 *
 * @param zb1p null in inference, which has no backwards to split
 */
record BubbleComparison(Timeline dualPipe, int stages, Timeline oneFOneB, Timeline zb1p) {

    static BubbleComparison of(PipelineSchedule schedule, Costs costs) {
        int stages = stages(schedule);
        Timeline dual = Timeline.simulate(schedule, costs);
        Timeline oneF = Timeline.simulate(PipelineSchedule.oneFOneB(stages, schedule.numChunks(), schedule.mode()), costs);
        Timeline zb = schedule.mode().training()
                ? Timeline.simulate(PipelineSchedule.zb1p(stages, schedule.numChunks()), costs) : null;
        return new BubbleComparison(dual, stages, oneF, zb);
    }

    /** PP, the pipeline's stages: DualPipeV folds 2N stages onto N ranks. */
    static int stages(PipelineSchedule s) {
        return s.kind() == PipelineSchedule.Kind.DUALPIPE_V ? 2 * s.numRanks() : s.numRanks();
    }

    Costs costs() {
        return dualPipe.costs();
    }

    /** The formulas are for training steps; an inference step has only forwards. */
    boolean formulasApply() {
        return dualPipe.schedule().mode().training();
    }

    /** (PP/2-1)(F&amp;B+B-3W). */
    double dualPipeFormula() {
        Costs k = costs();
        return (stages / 2 - 1) * (k.fb() + k.b() - 3 * k.w());
    }

    /** (PP-1)(F+B). */
    double oneFOneBFormula() {
        Costs k = costs();
        return (stages - 1) * (k.f() + k.b());
    }

    /** (PP-1)(F+B-2W). */
    double zb1pFormula() {
        Costs k = costs();
        return (stages - 1) * (k.f() + k.b() - 2 * k.w());
    }

    /**
     * DualPipe's formula counts a backward for inputs (B - W) as long as a forward, as the
     * zero-bubble papers do; with other costs the simulation and the formula part ways.
     */
    boolean dualPipeFormulaAssumptionHolds() {
        Costs k = costs();
        return Math.abs(k.f() - (k.b() - k.w())) <= 1e-12 * Math.max(1, k.f());
    }
}
