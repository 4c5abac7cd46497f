package io.infra4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.dualpipe.ToyMlp;
import io.infra4j.dualpipe.ToyPipelineSetup;
import io.infra4j.dualpipe.Variant;
import io.infra4j.memory.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DualPipeStageTest {
    private static DemoContext context(long seed) {
        return new DemoContext(new DeviceChoice(Device.CPU, "test"), new DemoOptions(1000, "cpu", seed, "dualpipe"),
                Progress.none());
    }

    @Test
    void bothSchedulesMatchTheReferenceAndBeat1F1B() {
        StageResult r = new DualPipeStage().run(context(42));
        assertTrue(r.passed(), r::toString);
        List<?> runs = (List<?>) r.figures().get("runs");
        assertEquals(2, runs.size());
        for (Object o : runs) {
            Map<?, ?> run = (Map<?, ?>) o;
            assertTrue((double) run.get("max_grad_rel_diff") <= DualPipeStage.LIMIT, run::toString);
            assertTrue((double) run.get("loss_rel_diff") <= DualPipeStage.LIMIT, run::toString);
            assertTrue((double) run.get("loss") > 0, run::toString);
            assertEquals("ok", run.get("checks"));
            assertTrue((double) run.get("bubble") < (double) run.get("bubble_1f1b"), run::toString);
        }
        assertEquals("DualPipe 4x16", ((Map<?, ?>) runs.get(0)).get("schedule"));
        assertEquals("DualPipeV 2x8", ((Map<?, ?>) runs.get(1)).get("schedule"));
        assertEquals(4, ((Map<?, ?>) runs.get(1)).get("stages"), "DualPipeV's 2 ranks run 4 stages");
    }

    @Test
    void aGradientOffTheReferenceFailsTheStage() {
        DualPipeStage.Setup s = new DualPipeStage.Setup(Variant.DUALPIPE_V, 2, 4);
        ToyPipelineSetup toy = new ToyPipelineSetup(s.variant(), s.ranks(), s.chunks(), 3, 1, 2, new Random(1));
        // One extra forward and backward on a stage before the step: its gradient is no longer the reference's.
        ToyMlp stage = toy.stage(1, 0);
        double[][] x = {{0.1, 0.2, 0.3}};
        stage.forward(99, x, true);
        stage.backwardInput(99, x, false);
        List<String> failures = new ArrayList<>();
        Map<String, Object> row = DualPipeStage.run(s, toy, Progress.none().start("test", 3), failures);
        assertTrue((double) row.get("max_grad_rel_diff") > DualPipeStage.LIMIT, row::toString);
        assertEquals(1, failures.size(), failures::toString);
        assertTrue(failures.get(0).startsWith("DualPipeV 2x4: gradients differ from the reference's by"), failures::toString);
    }

    @Test
    void relativeDifferenceIsTakenOverTheWholeTensor() {
        double[][] ref = {{1, 1e-20}};
        double[][] got = {{1, 2e-20}};
        assertEquals(1e-20, ToyPipelineSetup.relativeDifference(got, ref), 1e-30, "not 1, as an element-wise ratio would say");
        assertEquals(0.5, ToyPipelineSetup.relativeDifference(3, 2));
        assertEquals(2, ToyPipelineSetup.relativeDifference(2, 0));
    }
}
