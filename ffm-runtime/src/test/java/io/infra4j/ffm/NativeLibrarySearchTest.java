package io.infra4j.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.infra4j.natives.BundledNatives;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The reported search of {@link NativeLibrary}: what it finds here, and every place it names when it finds nothing. */
class NativeLibrarySearchTest {

    private static final Path TOOLKIT_CUDART = Path.of("/usr/local/cuda/lib64/libcudart.so.13");

    /** A library nobody has, behind an environment variable nobody sets. */
    private static final LibrarySpec NOWHERE = new LibrarySpec("infra4j_test_nowhere",
            "INFRA4J_TEST_NOWHERE_PATH_7f3a", List.of("libinfra4j_test_nowhere.so.7", "libinfra4j_test_nowhere.so"),
            List.of("nvidia/infra4j_test_nowhere/lib"), true, false);

    private static boolean anyStartsWith(List<String> looked, String prefix) {
        return looked.stream().anyMatch(l -> l.startsWith(prefix));
    }

    private static boolean anyContains(List<String> looked, String part) {
        return looked.stream().anyMatch(l -> l.contains(part));
    }

    private static void assumeEnvUnset(String var) {
        assumeTrue(System.getenv(var) == null, var + " is set in this environment");
    }

    @Test
    void cudartIsFoundInTheToolkit() {
        assumeEnvUnset("INFRA4J_CUDART_PATH");
        assumeTrue(Files.isRegularFile(TOOLKIT_CUDART), "no CUDA toolkit at /usr/local/cuda here");
        NativeLibrary.SearchResult r = NativeLibrary.search(LibrarySpec.CUDART);
        assertTrue(r.found(), "libcudart.so.13 exists at " + TOOLKIT_CUDART + " but was not found; looked: " + r.looked());
        Path p = r.path().orElseThrow();
        assertEquals("libcudart.so.13", p.getFileName().toString());
        assertTrue(Files.isRegularFile(p), "found path should be a file: " + p);
        assertTrue(p.isAbsolute(), "found path should be absolute: " + p);
        assertTrue(r.looked().get(0).equals("INFRA4J_CUDART_PATH (not set)"),
                "the environment variable is looked at first: " + r.looked());
        if (System.getenv("CUDA_HOME") == null) {
            assertEquals("/usr/local/cuda", r.foundBy(), "looked: " + r.looked());
            assertEquals(TOOLKIT_CUDART.toAbsolutePath(), p);
        }
        assertTrue(r.looked().get(r.looked().size() - 1).endsWith(p.toString()),
                "the last place listed is where it was found: " + r.looked());
        assertEquals(LibrarySpec.CUDART, r.spec());
    }

    @Test
    void ncclIsAbsentAndTheSearchListsWhereItLooked() {
        assumeEnvUnset("INFRA4J_NCCL_PATH");
        NativeLibrary.SearchResult r = NativeLibrary.search(LibrarySpec.NCCL);
        assumeFalse(r.found(), "NCCL is installed here (" + r.path() + "); this test is for machines without it");
        checkLookedEverywhere(r, "INFRA4J_NCCL_PATH", "libnccl.so.2", false);
        assertEquals("", r.foundBy());
    }

    @Test
    void nvshmemIsAbsentAndTheSearchListsWhereItLooked() {
        assumeEnvUnset("INFRA4J_NVSHMEM_PATH");
        NativeLibrary.SearchResult r = NativeLibrary.search(LibrarySpec.NVSHMEM);
        assumeFalse(r.found(), "NVSHMEM is installed here (" + r.path() + ")");
        checkLookedEverywhere(r, "INFRA4J_NVSHMEM_PATH", "libnvshmem_host.so.3", false);
    }

    @Test
    void madeUpLibraryIsNotFoundAndEveryPlaceIsListed() {
        NativeLibrary.SearchResult r = NativeLibrary.search(NOWHERE);
        assertFalse(r.found(), "a made-up library was found at " + r.path());
        checkLookedEverywhere(r, NOWHERE.envVar(), "libinfra4j_test_nowhere.so.7", true);
    }

    private static void checkLookedEverywhere(NativeLibrary.SearchResult r, String envVar, String fileName, boolean toolkit) {
        List<String> looked = r.looked();
        assertTrue(r.path().isEmpty());
        assertEquals(envVar + " (not set)", looked.get(0), "the override variable is listed first: " + looked);
        assertTrue(anyContains(looked, "loader cache"), "the loader cache is listed: " + looked);
        assertTrue(anyContains(looked, fileName), "the file name looked for is listed: " + looked);
        assertTrue(anyContains(looked, "pip"), "pip's wheel folders are listed: " + looked);
        if (toolkit) {
            assertTrue(anyStartsWith(looked, "/usr/local/cuda: /usr/local/cuda/lib64"),
                    "the toolkit folder is listed for a toolkit library: " + looked);
            assertTrue(anyStartsWith(looked, "CUDA_HOME"), "CUDA_HOME is listed for a toolkit library: " + looked);
        } else {
            assertFalse(anyStartsWith(looked, "/usr/local/cuda:"), "not a toolkit library, yet: " + looked);
        }
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null && !ld.isBlank()) {
            assertTrue(anyStartsWith(looked, "LD_LIBRARY_PATH: "), "LD_LIBRARY_PATH is listed: " + looked);
        }
    }

    @Test
    void loadOfAMissingLibraryThrowsWithEveryPlace() {
        NativeLibraryNotFoundException e = assertThrows(NativeLibraryNotFoundException.class,
                () -> NativeLibrary.load(NOWHERE));
        assertEquals(NOWHERE.name(), e.library());
        String m = e.getMessage();
        assertTrue(m.startsWith("native library 'infra4j_test_nowhere' not found; looked in:"), m);
        assertFalse(e.looked().isEmpty());
        for (String place : e.looked()) {
            assertTrue(m.contains("\n  - " + place), "the message lists '" + place + "': " + m);
        }
        assertTrue(m.contains("Set " + NOWHERE.envVar()), "the message says how to point at a library elsewhere: " + m);
        assertTrue(NativeLibrary.loaded(NOWHERE).isEmpty(), "a failed load is not remembered as loaded");
        // a second attempt searches again and fails the same way (no half-loaded state)
        NativeLibraryNotFoundException again = assertThrows(NativeLibraryNotFoundException.class,
                () -> NativeLibrary.load(NOWHERE));
        assertEquals(e.looked(), again.looked());
    }

    @Test
    void loadNcclThrowsNotFoundListingPlaces() {
        assumeEnvUnset("INFRA4J_NCCL_PATH");
        assumeFalse(NativeLibrary.search(LibrarySpec.NCCL).found(), "NCCL is installed here");
        NativeLibraryNotFoundException e = assertThrows(NativeLibraryNotFoundException.class,
                () -> NativeLibrary.load(LibrarySpec.NCCL));
        assertEquals("nccl", e.library());
        assertTrue(e.getMessage().contains("INFRA4J_NCCL_PATH (not set)"), e.getMessage());
        assertTrue(e.getMessage().contains("loader cache"), e.getMessage());
        assertTrue(e.getMessage().contains("pip"), e.getMessage());
        assertTrue(e.getMessage().contains("Set INFRA4J_NCCL_PATH"), e.getMessage());
    }

    @Test
    void bundledKernelsAreExtractedOncePerContent() throws Exception {
        assumeEnvUnset("INFRA4J_CUDA_KERNELS_PATH");
        assumeTrue(BundledNatives.platformMatches(), "not linux-x86_64");
        Properties manifest = BundledNatives.manifest().orElse(null);
        assumeTrue(manifest != null, "the infra4j-native jar was built without nvcc: nothing bundled");

        NativeLibrary.SearchResult r = NativeLibrary.search(LibrarySpec.INFRA4J_CUDA);
        assertTrue(r.found(), "the bundled kernels should be found; looked: " + r.looked());
        assertEquals("bundled", r.foundBy());
        Path p = r.path().orElseThrow();
        assertEquals("libinfra4j_cuda.so", p.getFileName().toString());
        assertTrue(Files.isRegularFile(p), "extracted file exists: " + p);

        String sha = manifest.getProperty("sha256");
        assertNotNull(sha, "manifest has a sha256: " + manifest);
        Path fallback = Paths.get(System.getProperty("java.io.tmpdir"), "infra4j-" + System.getProperty("user.name", "user"));
        Path expectedDir = NativeCache.root().resolve("native").resolve(sha.substring(0, 16));
        Path fallbackDir = fallback.resolve("native").resolve(sha.substring(0, 16));
        if (!p.getParent().equals(expectedDir) && !p.getParent().equals(fallbackDir)) {
            fail("extracted to " + p + ", expected under " + expectedDir + " or the fallback " + fallbackDir);
        }
        assertEquals(sha, NativeCache.sha256(p), "the extracted file has the manifest's content");
        assertTrue(r.looked().stream().anyMatch(l -> l.startsWith("bundled ") && l.endsWith(p.toString())),
                "the search says it took the bundled copy: " + r.looked());

        long modified = Files.getLastModifiedTime(p).toMillis();
        NativeLibrary.SearchResult again = NativeLibrary.search(LibrarySpec.INFRA4J_CUDA);
        assertEquals(r.path(), again.path(), "a second search returns the same extracted file");
        assertEquals(modified, Files.getLastModifiedTime(p).toMillis(), "the file is not extracted twice");
        try (var files = Files.list(p.getParent())) {
            List<Path> left = files.filter(f -> f.getFileName().toString().endsWith(".part")).toList();
            assertTrue(left.isEmpty(), "no temporary .part files are left behind: " + left);
        }
    }

    @Test
    void nativeCacheRootFollowsTheEnvironment() {
        Path root = NativeCache.root();
        String explicit = System.getenv("INFRA4J_CACHE_DIR");
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (explicit != null && !explicit.isBlank()) {
            assertEquals(Paths.get(explicit), root);
        } else if (xdg != null && !xdg.isBlank()) {
            assertEquals(Paths.get(xdg, "infra4j"), root);
        } else {
            assertEquals(Paths.get(System.getProperty("user.home"), ".cache", "infra4j"), root);
        }
    }

    @Test
    void librarySpecRefusesBadInput() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LibrarySpec("x", "X_PATH", List.of(), List.of(), false, false));
        assertTrue(e.getMessage().startsWith("fileNames"), e.getMessage());
        NullPointerException n = assertThrows(NullPointerException.class,
                () -> new LibrarySpec(null, "X_PATH", List.of("libx.so"), List.of(), false, false));
        assertEquals("name", n.getMessage());
        NullPointerException v = assertThrows(NullPointerException.class,
                () -> new LibrarySpec("x", null, List.of("libx.so"), List.of(), false, false));
        assertEquals("envVar", v.getMessage());
    }

    @Test
    void knownLibrariesHaveDistinctNamesAndVariables() {
        List<LibrarySpec> known = LibrarySpec.known();
        assertEquals(known.size(), known.stream().map(LibrarySpec::name).distinct().count(), "names: " + known);
        assertEquals(known.size(), known.stream().map(LibrarySpec::envVar).distinct().count(), "env vars: " + known);
        for (LibrarySpec s : known) {
            assertTrue(s.envVar().startsWith("INFRA4J_") && s.envVar().endsWith("_PATH"), s.envVar());
        }
    }
}
