package io.infra4j.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.ResourceTracker;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A tensor that is not closed shows in the leak report, with its kind, dtype, shape and bytes; closed, it is gone. */
class LeakReportTest {

    @Test
    void anUnclosedTensorIsReportedUntilClosed() {
        List<Long> idsBefore = ResourceTracker.live("host-memory").stream().map(ResourceTracker.Entry::id).toList();
        Tensor leaked = Tensor.empty(DType.BF16, Device.CPU, 3, 7);

        List<ResourceTracker.Entry> mine = ResourceTracker.live("host-memory").stream()
                .filter(e -> !idsBefore.contains(e.id())).toList();
        assertEquals(1, mine.size(), "one new host-memory entry: " + mine);
        ResourceTracker.Entry entry = mine.get(0);
        assertEquals("host-memory", entry.kind());
        assertEquals(42, entry.bytes(), "3 x 7 bfloat16 = 42 bytes");
        assertEquals("host storage on cpu for bfloat16[3, 7]", entry.description());

        String line = "#" + entry.id() + " host-memory host storage on cpu for bfloat16[3, 7] (42 bytes)";
        String report = ResourceTracker.report();
        assertTrue(report.contains(line), "the leak report lists the tensor as '" + line + "':\n" + report);

        // a view is no second allocation
        Tensor view = leaked.transpose(0, 1);
        assertEquals(1, ResourceTracker.live("host-memory").stream().filter(e -> !idsBefore.contains(e.id())).count());

        leaked.close();
        assertTrue(ResourceTracker.report().contains(line), "a view still holds the storage");
        view.close();
        String after = ResourceTracker.report();
        assertFalse(after.contains("#" + entry.id() + " "), "closed, the tensor leaves the report:\n" + after);
        assertTrue(ResourceTracker.live("host-memory").stream().noneMatch(e -> e.id() == entry.id()));
    }
}
