package io.infra4j.ffm.nvshmem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The environment defaults NVSHMEM gets: the UID bootstrap plugin beside the host library (found the
 * way pip lays the wheel out, and through a link to it) and NVLink multicast off, never overriding
 * what is set; and the libc calls that set them, which need no NVSHMEM.
 */
class NvshmemEnvTest {
    @TempDir
    Path dir;

    private static final Map<String, String> NOTHING_SET = Map.of();

    private Path wheelLib() throws IOException {
        Path lib = Files.createDirectories(dir.resolve("nvidia/nvshmem/lib"));
        Files.writeString(lib.resolve("libnvshmem_host.so.3"), "not a library");
        return lib;
    }

    @Test
    void thePluginNameIsTheOneNvshmemWouldOpen() {
        assertEquals("nvshmem_bootstrap_uid.so.3", NvshmemEnv.uidPluginFileName());
    }

    @Test
    void unsetVariablesGetThePluginBesideTheLibraryAndNvlsOff() throws IOException {
        Path lib = wheelLib();
        Path plugin = Files.writeString(lib.resolve("nvshmem_bootstrap_uid.so.3"), "not a plugin");
        Map<String, String> set = NvshmemEnv.defaults(NOTHING_SET::get, lib.resolve("libnvshmem_host.so.3"));
        assertEquals(List.of("NVSHMEM_BOOTSTRAP_UID_PLUGIN", "NVSHMEM_DISABLE_NVLS"), List.copyOf(set.keySet()));
        assertEquals(plugin.toAbsolutePath().toString(), set.get("NVSHMEM_BOOTSTRAP_UID_PLUGIN"));
        assertTrue(Path.of(set.get("NVSHMEM_BOOTSTRAP_UID_PLUGIN")).isAbsolute(), "an absolute path, not a bare name");
        assertEquals("1", set.get("NVSHMEM_DISABLE_NVLS"));
    }

    @Test
    void withoutThePluginFileOnlyNvlsIsSet() throws IOException {
        Path lib = wheelLib();
        Map<String, String> set = NvshmemEnv.defaults(NOTHING_SET::get, lib.resolve("libnvshmem_host.so.3"));
        assertEquals(Map.of("NVSHMEM_DISABLE_NVLS", "1"), set, "NVSHMEM's own search by name stays in place");
        assertEquals(Map.of("NVSHMEM_DISABLE_NVLS", "1"), NvshmemEnv.defaults(NOTHING_SET::get, null));
    }

    @Test
    void variablesAlreadySetAreLeftAlone() throws IOException {
        Path lib = wheelLib();
        Files.writeString(lib.resolve("nvshmem_bootstrap_uid.so.3"), "not a plugin");
        Map<String, String> env = Map.of("NVSHMEM_BOOTSTRAP_UID_PLUGIN", "/opt/mine.so", "NVSHMEM_DISABLE_NVLS", "0");
        assertEquals(Map.of(), NvshmemEnv.defaults(env::get, lib.resolve("libnvshmem_host.so.3")));
        Map<String, String> empty = Map.of("NVSHMEM_BOOTSTRAP_UID_PLUGIN", "", "NVSHMEM_DISABLE_NVLS", "");
        assertEquals(Map.of(), NvshmemEnv.defaults(empty::get, lib.resolve("libnvshmem_host.so.3")),
                "set, even to nothing, is the user's choice");
    }

    @Test
    void thePluginIsFoundBesideTheFileALinkPointsTo() throws IOException {
        Path lib = wheelLib();
        Path plugin = Files.writeString(lib.resolve("nvshmem_bootstrap_uid.so.3"), "not a plugin");
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        Path link = Files.createSymbolicLink(elsewhere.resolve("libnvshmem_host.so.3"), lib.resolve("libnvshmem_host.so.3"));
        Optional<Path> found = NvshmemEnv.uidPluginBeside(link);
        assertEquals(Optional.of(plugin.toRealPath()), found.map(p -> {
            try {
                return p.toRealPath();
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }));
        assertEquals(Optional.empty(), NvshmemEnv.uidPluginBeside(dir.resolve("nowhere/libnvshmem_host.so.3")));
    }

    @Test
    void libcSetsWhatNativeCodeReadsButNeverOverrides() {
        String name = "INFRA4J_TEST_" + UUID.randomUUID().toString().replace('-', '_').toUpperCase();
        assertNull(NvshmemEnv.getenv(name), "a fresh name is unset");
        NvshmemEnv.setenvIfUnset(name, "first value");
        assertEquals("first value", NvshmemEnv.getenv(name), "native getenv sees what setenv set");
        NvshmemEnv.setenvIfUnset(name, "second value");
        assertEquals("first value", NvshmemEnv.getenv(name), "an existing value is never replaced");
        assertNull(System.getenv(name), "Java's copy of the environment never sees it: why libc is called");
        assertEquals(System.getenv("PATH"), NvshmemEnv.getenv("PATH"), "variables from the start are the same in both");
    }
}
