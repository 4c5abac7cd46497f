package io.infra4j.deepep;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DispatchLayoutTest {

    // 8 experts on 4 ranks (2 each); 3 tokens of top-3.
    private final ExpertPlacement placement = new ExpertPlacement(8, 4);
    private final Routing routing = new Routing(3, 3, new long[] {
            0, 1, 7,    // ranks 0 (twice) and 3
            -1, 5, -1,  // rank 2
            -1, -1, -1, // nowhere
    }, new float[9]);

    @Test
    void aTokenCountsOncePerRankAndOncePerSlotPerExpert() {
        DispatchLayout l = DispatchLayout.of(routing, placement);
        assertArrayEquals(new int[] {1, 0, 1, 1}, l.tokensPerRank());
        assertArrayEquals(new int[] {1, 1, 0, 0, 0, 1, 0, 1}, l.tokensPerExpert());
        assertTrue(l.isTokenInRank(0, 0));
        assertFalse(l.isTokenInRank(0, 1));
        assertTrue(l.isTokenInRank(0, 3));
        assertTrue(l.isTokenInRank(1, 2));
        for (int r = 0; r < 4; r++) {
            assertFalse(l.isTokenInRank(2, r), "a token of -1 slots goes nowhere");
        }
    }

    @Test
    void noTokensGiveAnEmptyLayout() {
        DispatchLayout l = DispatchLayout.of(new Routing(0, 8, new long[0], new float[0]), placement);
        assertArrayEquals(new int[4], l.tokensPerRank());
        assertArrayEquals(new int[8], l.tokensPerExpert());
        assertEquals(0, l.tokenInRank().length);
    }

    @Test
    void anExpertIdOutsideTheRangeIsRefusedWithItsPosition() {
        Routing bad = new Routing(2, 2, new long[] {0, 1, 8, -1}, new float[4]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DispatchLayout.of(bad, placement));
        assertTrue(e.getMessage().contains("expertIds[1, 0] = 8"), e.getMessage());
        Routing negative = new Routing(1, 2, new long[] {0, -2}, new float[2]);
        assertThrows(IllegalArgumentException.class, () -> DispatchLayout.of(negative, placement));
    }

    @Test
    void routingShapesAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new Routing(2, 2, new long[3], new float[3]));
        assertThrows(IllegalArgumentException.class, () -> new Routing(2, 2, new long[4], new float[3]));
        assertThrows(IllegalArgumentException.class, () -> new Routing(-1, 2, new long[0], new float[0]));
        assertThrows(IllegalArgumentException.class, () -> new Routing(0, 0, new long[0], new float[0]));
    }
}
