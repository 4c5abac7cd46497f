package io.infra4j.dualpipe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The simulated bubbles against the formulas of DualPipe's table: 1F1B (PP-1)(F+B), ZB1P
 * (PP-1)(F+B-2W), DualPipe and DualPipeV (PP/2-1)(F&amp;B+B-3W). The DualPipe formula assumes
 * that a backward for inputs costs as much as a forward (F = B - W, the zero-bubble papers'
 * convention) and that W &lt;= F; the others hold for any costs.
 */
class BubbleTest {
    private static final double EPS = 1e-9;
    /** Cost sets with F = B - W. */
    private static final List<Costs> CONVENTIONAL = List.of(new Costs(1, 2, 1, 2.5), new Costs(1, 2, 1, 3),
            new Costs(2, 3, 1, 4), new Costs(1.5, 2.5, 1, 3.2), new Costs(3, 4, 1, 5.5));
    private static final List<Costs> ANY = List.of(new Costs(1, 1, 0.5, 1.8), new Costs(1, 2, 0.5, 2.2),
            new Costs(1, 2.5, 0.25, 3), new Costs(2, 3, 1, 4));

    @Test
    void dualPipeAndDualPipeVMatchTheirFormula() {
        for (Costs k : CONVENTIONAL) {
            for (int pp = 2; pp <= 16; pp += 2) {
                double formula = (pp / 2 - 1) * (k.fb() + k.b() - 3 * k.w());
                for (int chunks : new int[] {2 * pp, 3 * pp, 6 * pp}) {
                    int c = chunks + chunks % 2;
                    Timeline dp = Timeline.simulate(PipelineSchedule.of(Variant.DUALPIPE, pp, c, Mode.TRAIN_PLAIN), k);
                    assertEquals(formula, dp.maxBubble(), EPS, "DualPipe PP=" + pp + " chunks=" + c + " " + k);
                    // DualPipeV runs the same PP stages on PP/2 devices.
                    Timeline v = Timeline.simulate(PipelineSchedule.of(Variant.DUALPIPE_V, pp / 2, c / 2, Mode.TRAIN_PLAIN), k);
                    assertEquals(formula, v.maxBubble(), EPS, "DualPipeV devices=" + pp / 2 + " chunks=" + c / 2 + " " + k);
                }
            }
        }
    }

    @Test
    void oneFOneBAndZb1pMatchTheirFormulas() {
        for (Costs k : ANY) {
            for (int pp = 2; pp <= 16; pp++) {
                for (int chunks : new int[] {pp, 2 * pp, 5 * pp}) {
                    Timeline o = Timeline.simulate(PipelineSchedule.oneFOneB(pp, chunks, Mode.TRAIN_PLAIN), k);
                    assertEquals((pp - 1) * (k.f() + k.b()), o.maxBubble(), EPS, "1F1B PP=" + pp + " chunks=" + chunks);
                    Timeline z = Timeline.simulate(PipelineSchedule.zb1p(pp, chunks), k);
                    assertEquals((pp - 1) * (k.f() + k.b() - 2 * k.w()), z.maxBubble(), EPS, "ZB1P PP=" + pp + " chunks=" + chunks);
                }
            }
        }
    }

    @Test
    void dualPipeHalvesTheBubbleOfZb1pAndBeats1F1B() {
        Costs k = Costs.typical();
        for (int pp = 4; pp <= 16; pp += 2) {
            double dual = Timeline.simulate(PipelineSchedule.of(Variant.DUALPIPE, pp, 4 * pp, Mode.TRAIN_PLAIN), k).maxBubble();
            double oneF = Timeline.simulate(PipelineSchedule.oneFOneB(pp, 4 * pp, Mode.TRAIN_PLAIN), k).maxBubble();
            double zb = Timeline.simulate(PipelineSchedule.zb1p(pp, 4 * pp), k).maxBubble();
            org.junit.jupiter.api.Assertions.assertTrue(dual < zb && zb < oneF, pp + ": " + dual + " " + zb + " " + oneF);
        }
    }

    /** A replay with every op at its nominal cost is the simulation; one op made longer can only delay the end. */
    @Test
    void aReplayWithPerOpCostsFollowsTheSameRules() {
        Costs k = new Costs(1, 2, 1, 2.5);
        PipelineSchedule s = PipelineSchedule.of(Variant.DUALPIPE_V, 2, 8, Mode.TRAIN_OVERLAPPED);
        Timeline plain = Timeline.simulate(s, k);
        Timeline same = Timeline.simulate(s, k, (rank, index, op) -> k.of(op));
        assertEquals(plain.makespan(), same.makespan(), EPS);
        assertEquals(plain.maxBubble(), same.maxBubble(), EPS);
        int first = 0;
        while (k.of(s.ranks().get(0).get(first)) == 0) {
            first++;
        }
        int slow = first;
        Timeline delayed = Timeline.simulate(s, k, (rank, index, op) -> rank == 0 && index == slow ? k.of(op) + 5 : k.of(op));
        assertEquals(plain.makespan() + 5, delayed.makespan(), EPS, "rank 0's first op is on the critical path");
        assertEquals(plain.busy(0) + 5, delayed.busy(0), EPS);
    }
}
