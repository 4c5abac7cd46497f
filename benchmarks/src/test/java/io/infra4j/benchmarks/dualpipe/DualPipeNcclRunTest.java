package io.infra4j.benchmarks.dualpipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.dualpipe.Costs;
import io.infra4j.dualpipe.Mode;
import io.infra4j.dualpipe.Op;
import io.infra4j.dualpipe.PipelineSchedule;
import io.infra4j.dualpipe.Timeline;
import io.infra4j.dualpipe.Variant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The measured timeline's arithmetic, on op times made up from the schedule (no GPU). */
class DualPipeNcclRunTest {
    private static final Costs NOMINAL = new Costs(1, 2, 1, 2.5);

    /** Each rank's compute ops, in schedule order, lasting their nominal cost in milliseconds, back to back. */
    private static List<DualPipeNcclRun.RankStep> stepAtNominalCosts(PipelineSchedule s) {
        List<DualPipeNcclRun.RankStep> ranks = new ArrayList<>();
        for (List<Op> ops : s.ranks()) {
            List<DeviceStage.OpTime> times = new ArrayList<>();
            long t = 0;
            for (Op op : ops) {
                double ms = NOMINAL.of(op);
                if (ms <= 0) {
                    continue;
                }
                long end = t + Math.round(ms * 1e6);
                times.add(new DeviceStage.OpTime(DualPipeNcclRun.kindOf(op), t, end));
                t = end;
            }
            ranks.add(new DualPipeNcclRun.RankStep(0, t, times));
        }
        return ranks;
    }

    @Test
    void aReplayAtTheNominalCostsIsTheSimulation() {
        for (Variant v : List.of(Variant.DUALPIPE, Variant.DUALPIPE_V)) {
            PipelineSchedule s = PipelineSchedule.of(v, v == Variant.DUALPIPE ? 4 : 2, 8, Mode.TRAIN_OVERLAPPED);
            Timeline replay = DualPipeNcclRun.replay(s, NOMINAL, stepAtNominalCosts(s));
            Timeline sim = Timeline.simulate(s, NOMINAL);
            assertEquals(sim.makespan(), replay.makespan(), 1e-9, v.toString());
            assertEquals(sim.maxBubble(), replay.maxBubble(), 1e-9, v.toString());
        }
    }

    @Test
    void meanCostsComeBackFromTheOpTimes() {
        PipelineSchedule s = PipelineSchedule.of(Variant.DUALPIPE_V, 2, 8, Mode.TRAIN_OVERLAPPED);
        Costs got = DualPipeNcclRun.measuredCosts(List.of(stepAtNominalCosts(s)));
        assertEquals(NOMINAL.f(), got.f(), 1e-9);
        assertEquals(NOMINAL.b(), got.b(), 1e-9);
        assertEquals(NOMINAL.w(), got.w(), 1e-9);
        assertEquals(NOMINAL.fb(), got.fb(), 1e-9);
    }

    @Test
    void opsOutOfScheduleOrderAreRefused() {
        PipelineSchedule s = PipelineSchedule.of(Variant.DUALPIPE_V, 2, 8, Mode.TRAIN_OVERLAPPED);
        List<DualPipeNcclRun.RankStep> ranks = stepAtNominalCosts(s);
        DualPipeNcclRun.RankStep r1 = ranks.get(1);
        ranks.set(1, new DualPipeNcclRun.RankStep(r1.startNs(), r1.endNs(), r1.ops().subList(1, r1.ops().size())));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> DualPipeNcclRun.replay(s, NOMINAL, ranks));
        assertTrue(e.getMessage().startsWith("rank 1"), e.getMessage());
    }
}
