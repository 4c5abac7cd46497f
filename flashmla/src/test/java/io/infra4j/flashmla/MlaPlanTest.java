package io.infra4j.flashmla;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.CudaStream;
import io.infra4j.flashmla.internal.MlaPlanner;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorScope;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** Plans made through the API on the CPU, and the options' defaults. */
class MlaPlanTest {

    private static Tensor lengths(TensorScope scope, int... lens) {
        Tensor t = scope.empty(DType.I32, Device.CPU, lens.length);
        for (int i = 0; i < lens.length; i++) {
            t.set(lens[i], i);
        }
        return t;
    }

    @Test
    void aPlanHoldsTheWordsOfMlaHAndTheLengths() {
        try (TensorScope scope = TensorScope.open()) {
            Tensor lens = lengths(scope, 4096, 0, 100, 4096);
            try (MlaPlan plan = MlaDecode.plan(lens)) {
                MlaPlanner.Layout expected = MlaPlanner.plan(new int[] {4096, 0, 100, 4096},
                        MlaPlanner.defaultParts(MlaPlanner.DEFAULT_MULTIPROCESSORS));
                assertEquals(expected.parts(), plan.parts());
                assertEquals(expected.totalSplits(), plan.totalSplits());
                assertArrayEquals(expected.words(), plan.words());
                assertArrayEquals(expected.words(), plan.buffer().segment().toArray(ValueLayout.JAVA_INT));
                assertArrayEquals(new int[] {4096, 0, 100, 4096}, plan.seqlens());
                assertEquals(4096, plan.maxSeqlen());
                assertEquals(4, plan.batch());
                assertEquals(Device.CPU, plan.device());
                assertEquals(plan.splitOffsets()[1], plan.splitOffsets()[2], "an empty sequence has no splits");
                assertTrue(plan.madeFrom(lens));
                assertFalse(plan.isClosed());
            }
        }
    }

    @Test
    void anExplicitTargetAndClosing() {
        try (TensorScope scope = TensorScope.open()) {
            Tensor lens = lengths(scope, 640, 640);
            MlaPlan plan = MlaDecode.plan(lens, 4, CudaStream.legacyDefault());
            assertEquals(4, plan.parts());
            assertEquals(448, plan.longestSplit());
            assertArrayEquals(new int[] {0, 2, 5}, plan.splitOffsets());
            plan.close();
            plan.close(); // idempotent
            assertTrue(plan.isClosed());
            assertThrows(IllegalStateException.class, plan::buffer);
        }
    }

    @Test
    void optionDefaultsFollowFlashMla() {
        MlaOptions d = MlaOptions.defaults();
        assertEquals((float) (1 / Math.sqrt(576)), d.softmaxScale(576));
        assertEquals((float) (1 / Math.sqrt(512)), d.softmaxScale(512));
        assertFalse(d.causal(1));
        assertTrue(d.causal(2));
        MlaOptions o = d.withSoftmaxScale(0.5f).withCausal(false);
        assertEquals(0.5f, o.softmaxScale(576));
        assertFalse(o.causal(4));
        assertEquals(d, o.withDefaultSoftmaxScale().withDefaultCausal());
        assertTrue(o.hasSoftmaxScale() && o.hasCausal());
    }
}
