package io.infra4j.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Registration, release and the leak report of {@link ResourceTracker}. Each test uses its own kind. */
class ResourceTrackerTest {

    private static String freshKind() {
        return "test-kind-" + UUID.randomUUID();
    }

    @Test
    void registerThenReleaseLeavesNothing() {
        String kind = freshKind();
        assertTrue(ResourceTracker.live(kind).isEmpty());
        assertEquals(0, ResourceTracker.liveBytes(kind));
        long a = ResourceTracker.register(kind, "buffer a", 100);
        long b = ResourceTracker.register(kind, "buffer b", 28);
        assertNotEquals(a, b, "ids are distinct");
        assertTrue(b > a, "ids increase");
        List<ResourceTracker.Entry> live = ResourceTracker.live(kind);
        assertEquals(List.of(a, b), live.stream().map(ResourceTracker.Entry::id).toList(), "oldest first");
        assertEquals("buffer a", live.get(0).description());
        assertEquals(kind, live.get(0).kind());
        assertEquals(128, ResourceTracker.liveBytes(kind));
        ResourceTracker.release(a);
        assertEquals(28, ResourceTracker.liveBytes(kind));
        assertEquals(List.of(b), ResourceTracker.live(kind).stream().map(ResourceTracker.Entry::id).toList());
        ResourceTracker.release(b);
        assertTrue(ResourceTracker.live(kind).isEmpty());
        assertEquals(0, ResourceTracker.liveBytes(kind));
    }

    @Test
    void doubleReleaseThrows() {
        long id = ResourceTracker.register(freshKind(), "once", 1);
        ResourceTracker.release(id);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ResourceTracker.release(id));
        assertTrue(e.getMessage().contains("#" + id) && e.getMessage().contains("released twice"), e.getMessage());
    }

    @Test
    void releaseOfAnUnknownIdThrows() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ResourceTracker.release(-12345));
        assertTrue(e.getMessage().contains("#-12345"), e.getMessage());
    }

    @Test
    void reportListsLiveEntriesAndForgetsReleasedOnes() {
        String kind = freshKind();
        long id = ResourceTracker.register(kind, "float32[2, 3] for the report test", 24);
        long stream = ResourceTracker.register(kind, "stream without bytes", 0);
        try {
            String report = ResourceTracker.report();
            assertTrue(report.contains("native resource(s) never closed"), report);
            assertTrue(report.contains("#" + id + " " + kind + " float32[2, 3] for the report test (24 bytes)"), report);
            assertTrue(report.contains("#" + stream + " " + kind + " stream without bytes\n"),
                    "entries of 0 bytes show no byte count: " + report);
            if (ResourceTracker.mode() != ResourceTracker.Mode.TRACE) {
                assertTrue(report.contains("-Dinfra4j.leaks=trace"), "the report says how to see where: " + report);
            }
        } finally {
            ResourceTracker.release(id);
            ResourceTracker.release(stream);
        }
        String after = ResourceTracker.report();
        assertFalse(after.contains(kind), "released entries leave the report: " + after);
    }

    @Test
    void entryToString() {
        ResourceTracker.Entry e = new ResourceTracker.Entry(7, "host-memory", "float32[4]", 16, 0, null);
        assertEquals("#7 host-memory float32[4] (16 bytes)", e.toString());
        ResourceTracker.Entry s = new ResourceTracker.Entry(8, "cuda-stream", "stream on cuda:0", 0, 0, null);
        assertEquals("#8 cuda-stream stream on cuda:0", s.toString());
    }

    @Test
    void defaultModeCountsOnly() {
        String prop = System.getProperty("infra4j.leaks", System.getenv("INFRA4J_LEAKS"));
        if (prop == null || prop.isBlank()) {
            assertEquals(ResourceTracker.Mode.COUNT, ResourceTracker.mode());
        }
    }
}
