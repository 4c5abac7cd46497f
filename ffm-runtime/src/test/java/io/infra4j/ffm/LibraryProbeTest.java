package io.infra4j.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The once-per-process probe of an optional library: a missing file, and a library that is not the one asked for. */
class LibraryProbeTest {
    private static final LibrarySpec MISSING = new LibrarySpec("infra4j_no_such_lib", "INFRA4J_NO_SUCH_LIB_PATH",
            List.of("libinfra4j_no_such_lib.so.7"), List.of(), false, false);

    @Test
    void aMissingLibraryIsUnavailableWithTheReasonAndNeverAsked() {
        AtomicInteger asked = new AtomicInteger();
        LibraryProbe probe = new LibraryProbe(MISSING, "noSuchVersion", () -> {
            asked.incrementAndGet();
            return LibraryProbe.Result.of(1);
        });
        LibraryProbe.Result r = probe.get();
        assertFalse(r.available());
        assertTrue(r.reason().startsWith("libinfra4j_no_such_lib could not be loaded: "), r.reason());
        assertEquals(0, r.version());
        assertSame(r, probe.get(), "probed once");
        assertEquals(0, asked.get());
    }

    @Test
    void resultsSayWhatTheyAre() {
        assertEquals(new LibraryProbe.Result(true, "", 130101), LibraryProbe.Result.of(130101));
        assertEquals(new LibraryProbe.Result(false, "why", 0), LibraryProbe.Result.failed("why"));
    }
}
