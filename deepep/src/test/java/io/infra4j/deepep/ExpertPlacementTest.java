package io.infra4j.deepep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ExpertPlacementTest {

    @Test
    void expertsAreSpreadEvenlyAndInOrder() {
        ExpertPlacement p = new ExpertPlacement(256, 8);
        assertEquals(32, p.expertsPerRank());
        assertEquals(0, p.rankOf(31));
        assertEquals(1, p.rankOf(32));
        assertEquals(7, p.rankOf(255));
        assertEquals(3, p.localIndex(35));
        assertEquals(35, p.globalId(1, 3));
    }

    @Test
    void aWorldSizeThatDoesNotDivideTheExpertsIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ExpertPlacement(256, 6));
        assertTrue(e.getMessage().contains("does not divide"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ExpertPlacement(0, 1));
        assertThrows(IllegalArgumentException.class, () -> new ExpertPlacement(8, 0));
    }

    @Test
    void expertIdsOutsideTheRangeAreRefused() {
        ExpertPlacement p = new ExpertPlacement(16, 4);
        assertThrows(IllegalArgumentException.class, () -> p.rankOf(16));
        assertThrows(IllegalArgumentException.class, () -> p.rankOf(-1));
        assertThrows(IllegalArgumentException.class, () -> p.globalId(4, 0));
        assertThrows(IllegalArgumentException.class, () -> p.globalId(0, 4));
    }
}
