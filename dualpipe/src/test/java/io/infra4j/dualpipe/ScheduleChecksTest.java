package io.infra4j.dualpipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** The golden README's invariants, on the recorded configurations and on many more. */
class ScheduleChecksTest {
    @TestFactory
    Stream<DynamicTest> goldenConfigurationsPassTheChecksUpstreamsDid() {
        return GoldenTraces.ofType("trace").stream().map((JsonNode t) -> {
            Variant variant = Variant.parse(t.get("variant").asText());
            int n = t.get("num_ranks").intValue();
            int c = t.get("num_chunks").intValue();
            Mode mode = Mode.parse(t.get("mode").asText());
            return DynamicTest.dynamicTest(variant + " " + n + "x" + c + " " + mode.upstreamName(), () -> {
                ScheduleChecks.Report report = ScheduleChecks.check(PipelineSchedule.of(variant, n, c, mode));
                assertTrue(report.ok(), () -> report.problems().toString());
                JsonNode checks = t.get("checks");
                assertEquals(checks.get("rounds").intValue(), report.rounds(), "rounds of the batched run");
                if (checks.has("mirror_ok")) {
                    assertEquals(checks.get("mirror_ok").asBoolean(), report.mirrorOk());
                }
            });
        });
    }

    @TestFactory
    Stream<DynamicTest> manyMoreConfigurationsKeepTheInvariants() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Mode mode : Mode.values()) {
            for (int n = 2; n <= 16; n += 2) {
                for (int c : new int[] {2 * n, 2 * n + 2, 3 * n + (3 * n) % 2, 4 * n, 64}) {
                    if (c >= 2 * n) {
                        tests.add(invariants(Variant.DUALPIPE, n, c, mode));
                    }
                }
            }
            for (int n = 1; n <= 12; n++) {
                for (int c : new int[] {2 * n, 2 * n + 1, 3 * n, 5 * n + 3}) {
                    tests.add(invariants(Variant.DUALPIPE_V, n, c, mode));
                }
            }
        }
        return tests.stream();
    }

    private static DynamicTest invariants(Variant v, int n, int c, Mode mode) {
        return DynamicTest.dynamicTest(v + " " + n + "x" + c + " " + mode.upstreamName(), () -> {
            ScheduleChecks.Report report = ScheduleChecks.check(PipelineSchedule.of(v, n, c, mode));
            assertTrue(report.ok(), () -> report.problems().toString());
            assertTrue(report.deadlockFree());
        });
    }

    @Test
    void dualPipeVIsDualPipeCutInHalf() {
        for (Mode mode : Mode.values()) {
            for (int n = 1; n <= 8; n++) {
                for (int c = 2 * n; c <= 2 * n + 5; c++) {
                    List<List<Op>> v = DualPipeSchedule.generateAll(Variant.DUALPIPE_V, n, c, mode);
                    List<List<Op>> cut = ScheduleChecks.cutInHalf(DualPipeSchedule.generateAll(Variant.DUALPIPE, 2 * n, 2 * c, mode));
                    for (int r = 0; r < n; r++) {
                        GoldenScheduleTest.assertOps(cut.get(r), v.get(r), "DualPipeV(" + n + "," + c + ") " + mode + " rank " + r);
                    }
                }
            }
        }
    }

    @Test
    void brokenSchedulesAreCaught() {
        PipelineSchedule good = PipelineSchedule.of(Variant.DUALPIPE, 4, 8, Mode.TRAIN_PLAIN);
        // Drop rank 1's first forward: counts fail.
        List<List<Op>> ranks = new ArrayList<>(good.ranks());
        List<Op> r1 = new ArrayList<>(ranks.get(1));
        r1.remove(r1.indexOf(new Op.Forward(0, 0)));
        ranks.set(1, r1);
        ScheduleChecks.Report dropped = ScheduleChecks.check(new PipelineSchedule(good.kind(), 4, 8, good.mode(), ranks));
        assertFalse(dropped.countsOk());
        // Swap the chunks of two sends on one link: FIFO fails.
        ranks = new ArrayList<>(good.ranks());
        List<Op> r0 = new ArrayList<>(ranks.get(0));
        int a = r0.indexOf(new Op.SendForward(0, 0, 1));
        int b = r0.indexOf(new Op.SendForward(0, 1, 1));
        r0.set(a, new Op.SendForward(0, 1, 1));
        r0.set(b, new Op.SendForward(0, 0, 1));
        ranks.set(0, r0);
        ScheduleChecks.Report swapped = ScheduleChecks.check(new PipelineSchedule(good.kind(), 4, 8, good.mode(), ranks));
        assertFalse(swapped.fifoOk());
        // Commit each transfer alone: the batched schedule now deadlocks.
        List<List<Op>> oneByOne = new ArrayList<>();
        for (List<Op> ops : good.ranks()) {
            List<Op> split = new ArrayList<>();
            for (Op op : ops) {
                if (op instanceof Op.Commit) {
                    continue;
                }
                split.add(op);
                if (op.isComm()) {
                    split.add(new Op.Commit(1));
                }
            }
            oneByOne.add(split);
        }
        ScheduleChecks.Report serial = ScheduleChecks.check(new PipelineSchedule(good.kind(), 4, 8, good.mode(), oneByOne));
        assertFalse(serial.deadlockFree());
    }
}
