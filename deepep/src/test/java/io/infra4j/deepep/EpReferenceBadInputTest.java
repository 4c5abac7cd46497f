package io.infra4j.deepep;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class EpReferenceBadInputTest {

    private final ExpertPlacement placement = new ExpertPlacement(8, 2);

    private RankTokens tokens(int t, int width, int topK, long expert) {
        long[] ids = new long[t * topK];
        java.util.Arrays.fill(ids, expert);
        return new RankTokens(new float[t * width], width, new Routing(t, topK, ids, new float[t * topK]));
    }

    @Test
    void anExpertIdBeyondTheExpertsIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EpReference.dispatch(List.of(tokens(2, 4, 1, 0), tokens(2, 4, 1, 8)), placement, 1));
        assertTrue(e.getMessage().contains("= 8 outside [-1, 8)"), e.getMessage());
    }

    @Test
    void ranksMustAgreeOnWidthAndTopK() {
        assertThrows(IllegalArgumentException.class, () -> EpReference.dispatch(List.of(tokens(2, 4, 1, 0), tokens(2, 8, 1, 0)), placement, 1));
        assertThrows(IllegalArgumentException.class, () -> EpReference.dispatch(List.of(tokens(2, 4, 1, 0), tokens(2, 4, 2, 0)), placement, 1));
    }

    @Test
    void oneInputPerRankAndPositiveAlignment() {
        assertThrows(IllegalArgumentException.class, () -> EpReference.dispatch(List.of(tokens(2, 4, 1, 0)), placement, 1));
        assertThrows(IllegalArgumentException.class, () -> EpReference.dispatch(List.of(tokens(2, 4, 1, 0), tokens(2, 4, 1, 0)), placement, 0));
    }

    @Test
    void lowLatencyRefusesMoreTokensThanTheBufferHolds() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EpReference.lowLatencyDispatch(List.of(tokens(3, 4, 1, 0), tokens(1, 4, 1, 0)), placement, 2, 0f));
        assertTrue(e.getMessage().contains("more than maxTokens 2"), e.getMessage());
    }

    @Test
    void combineChecksTheExpertOutputsShapes() {
        EpReference.Dispatch d = EpReference.dispatch(List.of(tokens(2, 4, 1, 0), tokens(1, 4, 1, 5)), placement, 1);
        assertThrows(IllegalArgumentException.class, () -> EpReference.combine(d, List.of(new float[12])));
        assertThrows(IllegalArgumentException.class, () -> EpReference.combine(d, List.of(new float[12], new float[3])));
        EpReference.LowLatencyDispatch ll = EpReference.lowLatencyDispatch(List.of(tokens(2, 4, 1, 0), tokens(1, 4, 1, 5)), placement, 2, 0f);
        assertThrows(IllegalArgumentException.class, () -> EpReference.lowLatencyCombine(ll, List.of(new float[64], new float[63])));
    }

    @Test
    void rowsMustMatchTheTokens() {
        assertThrows(IllegalArgumentException.class, () -> new RankTokens(new float[7], 4, new Routing(2, 1, new long[2], new float[2])));
        assertThrows(IllegalArgumentException.class, () -> new RankTokens(new float[0], 0, new Routing(0, 1, new long[0], new float[0])));
    }
}
