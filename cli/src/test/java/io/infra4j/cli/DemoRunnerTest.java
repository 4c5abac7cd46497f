package io.infra4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The stage framework on its own: failures, exceptions and leaks each fail the demo. */
class DemoRunnerTest {
    private static final List<Tensor> LEAKED = new ArrayList<>();

    private record FakeStage(String name, java.util.function.Function<DemoContext, StageResult> body) implements DemoStage {
        @Override
        public String description() {
            return "fake";
        }

        @Override
        public StageResult run(DemoContext ctx) {
            return body.apply(ctx);
        }
    }

    private static DemoReport run(DemoStage... stages) {
        DemoContext ctx = new DemoContext(new DeviceChoice(Device.CPU, "test"),
                new DemoOptions(10, "cpu", 1, null), Progress.none());
        PrintStream sink = new PrintStream(new ByteArrayOutputStream());
        return DemoRunner.run(List.of(stages), ctx, new Session(sink, sink, false, false, false));
    }

    @Test
    void passingStagesPass() {
        DemoReport r = run(new FakeStage("ok", ctx -> StageResult.of(List.of(), Map.of("n", ctx.size()))));
        assertTrue(r.passed());
        assertEquals(10L, r.stages().get(0).figures().get("n"));
    }

    @Test
    void aThrowingStageFailsAndTheNextStillRuns() {
        DemoReport r = run(new FakeStage("boom", ctx -> {
            throw new IllegalStateException("kaput\nsecond line");
        }), new FakeStage("ok", ctx -> StageResult.of(List.of(), Map.of())));
        assertFalse(r.passed());
        assertEquals(List.of("threw IllegalStateException: kaput"), r.stages().get(0).failures());
        assertTrue(r.stages().get(1).passed());
    }

    @Test
    void aLeakFailsTheDemo() {
        try {
            DemoReport r = run(new FakeStage("leaky", ctx -> {
                LEAKED.add(Tensor.empty(DType.F32, Device.CPU, 4));
                return StageResult.of(List.of(), Map.of());
            }));
            assertTrue(r.stages().get(0).passed());
            assertFalse(r.passed());
            assertEquals(1, r.leaks().size(), r::toString);
            assertTrue(r.leaks().get(0).contains("host"), r::toString);
        } finally {
            LEAKED.forEach(Tensor::close);
        }
    }
}
