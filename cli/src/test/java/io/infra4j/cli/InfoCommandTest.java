package io.infra4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.JsonNode;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.LibrarySpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class InfoCommandTest {
    @Test
    void jsonHasEverySection() {
        Cli r = Cli.run("info", "--json");
        assertEquals(0, r.code(), r::toString);
        JsonNode j = r.json();

        assertEquals(System.getProperty("java.version"), j.at("/jdk/version").asText());
        assertEquals(System.getProperty("java.vendor"), j.at("/jdk/vendor").asText());
        assertEquals(System.getProperty("java.home"), j.at("/jdk/home").asText());
        assertEquals(System.getProperty("os.name"), j.at("/os/name").asText());
        assertEquals(System.getProperty("os.arch"), j.at("/os/arch").asText());
        assertTrue(j.at("/os/available_processors").asInt() > 0, r::toString);

        assertTrue(j.at("/cuda/available").isBoolean(), r::toString);
        assertTrue(j.at("/cuda/runtime_version").isTextual(), r::toString);
        assertTrue(j.at("/cuda/driver_version").isTextual(), r::toString);
        assertTrue(j.at("/cuda/gpus").isArray(), r::toString);
        assertTrue(j.at("/kernels/available").isBoolean(), r::toString);
        assertFalse(j.at("/leak_tracking/mode").asText().isEmpty(), r::toString);

        List<LibrarySpec> known = LibrarySpec.known();
        JsonNode libs = j.at("/libraries");
        assertEquals(known.size(), libs.size(), r::toString);
        for (int i = 0; i < known.size(); i++) {
            JsonNode lib = libs.get(i);
            assertEquals(known.get(i).name(), lib.get("name").asText());
            assertEquals(known.get(i).envVar(), lib.get("env_var").asText());
            assertTrue(lib.get("found").isBoolean());
            assertEquals(lib.get("found").asBoolean(), !lib.get("path").isNull(), lib::toString);
            // JSON always carries the search trail, found or not.
            assertTrue(lib.get("looked").isArray() && !lib.get("looked").isEmpty(), lib::toString);
        }
    }

    @Test
    void withoutGpuSaysWhy() {
        assumeFalse(Cuda.isAvailable(), "this machine has a GPU");
        JsonNode j = Cli.run("--json", "info").json();
        assertFalse(j.at("/cuda/available").asBoolean());
        assertFalse(j.at("/cuda/unavailable_reason").asText().isBlank());
        assertEquals(0, j.at("/cuda/device_count").asInt());
        assertTrue(j.at("/cuda/gpus").isEmpty());
        assertFalse(j.at("/kernels/available").asBoolean());
        assertFalse(j.at("/kernels/unavailable_reason").asText().isBlank());
    }

    @Test
    void textNamesEverySection() {
        Cli r = Cli.run("info");
        assertEquals(0, r.code(), r::toString);
        for (String s : new String[] {"JDK", "OS", "CUDA", "Native libraries", "Kernels", "Leak tracking",
                System.getProperty("java.version")}) {
            assertTrue(r.out().contains(s), () -> s + " missing from\n" + r);
        }
        for (LibrarySpec spec : LibrarySpec.known()) {
            assertTrue(r.out().contains(spec.name()), r::toString);
        }
        if (!Cuda.isAvailable()) {
            assertTrue(r.out().contains("available      no: "), r::toString);
        }
    }
}
