package io.infra4j.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The environment-variable override of {@link NativeLibrary#search}. A process cannot set its own
 * environment, so the search runs in a child JVM ({@link SearchProbeMain}) started with the
 * variables set, on the class path made of this JVM's module and class paths.
 */
class NativeLibraryEnvOverrideTest {

    @TempDir
    static Path tmp;

    private static Map<String, String[]> results;
    private static Path file;
    private static Path dir;
    private static Path emptyDir;

    @BeforeAll
    static void runChild() throws Exception {
        file = Files.writeString(tmp.resolve("some-name-we-chose.so"), "not really a library");
        dir = Files.createDirectories(tmp.resolve("libs"));
        Files.writeString(dir.resolve("libinfra4j_ovr.so"), "second file name only");
        emptyDir = Files.createDirectories(tmp.resolve("empty"));

        Set<String> cp = new LinkedHashSet<>();
        for (String prop : List.of("jdk.module.path", "java.class.path")) {
            String v = System.getProperty(prop);
            if (v != null) {
                for (String e : v.split(File.pathSeparator)) {
                    if (!e.isBlank()) {
                        cp.add(e);
                    }
                }
            }
        }
        Path base = Paths.get(System.getProperty("basedir", "."));
        cp.add(base.resolve("target/test-classes").toString());
        cp.add(base.resolve("target/classes").toString());

        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", String.join(File.pathSeparator, cp),
                SearchProbeMain.class.getName());
        Map<String, String> env = pb.environment();
        env.put("INFRA4J_TEST_OVR_FILE", file.toString());
        env.put("INFRA4J_TEST_OVR_DIR", dir.toString());
        env.put("INFRA4J_TEST_OVR_DIR_WITHOUT", emptyDir.toString());
        env.put("INFRA4J_TEST_OVR_MISSING", "/nonexistent/infra4j/libcudart.so.13");
        env.put("INFRA4J_TEST_OVR_BLANK", "   ");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        assertEquals(0, p.exitValue(), "child JVM failed:\n" + out);
        results = new HashMap<>();
        for (String line : out.split("\n")) {
            String[] f = line.split("\t", -1);
            if (f.length == 5) {
                results.put(f[0], f);
            }
        }
        assertEquals(SearchProbeMain.SPECS.size(), results.size(), "child output:\n" + out);
    }

    private static String[] result(String name) {
        return results.get(name);
    }

    @Test
    void overrideNamingAFileIsTakenAsIs() {
        String[] r = result("ovr_file");
        assertEquals("true", r[1], "looked: " + r[4]);
        assertEquals(file.toAbsolutePath().toString(), r[2]);
        assertEquals("INFRA4J_TEST_OVR_FILE", r[3]);
        assertEquals("INFRA4J_TEST_OVR_FILE=" + file, r[4]);
    }

    @Test
    void overrideNamingAFolderFindsAnyOfTheFileNames() {
        String[] r = result("ovr_dir");
        assertEquals("true", r[1], "looked: " + r[4]);
        assertEquals(dir.resolve("libinfra4j_ovr.so").toAbsolutePath().toString(), r[2]);
        assertEquals("INFRA4J_TEST_OVR_DIR", r[3]);
    }

    @Test
    void overrideNamingAFolderWithoutTheLibraryFailsAndSaysSo() {
        String[] r = result("ovr_dir_without");
        assertEquals("false", r[1]);
        assertTrue(r[4].contains(emptyDir.toString()) && r[4].contains("(no libinfra4j_ovr.so.1, libinfra4j_ovr.so)"),
                "looked: " + r[4]);
        assertTrue(!r[4].contains("loader cache"), "a failed override does not fall through to the search: " + r[4]);
    }

    @Test
    void overrideNamingAMissingFileDoesNotFallThrough() {
        String[] r = result("ovr_missing");
        assertEquals("false", r[1], "an explicit, wrong override must fail even though the toolkit has the library: " + r[4]);
        assertEquals("INFRA4J_TEST_OVR_MISSING=/nonexistent/infra4j/libcudart.so.13 (no such file)", r[4]);
    }

    @Test
    void blankOverrideCountsAsUnset() {
        String[] r = result("ovr_blank");
        assertEquals("false", r[1]);
        assertTrue(r[4].startsWith("INFRA4J_TEST_OVR_BLANK (not set)"), "looked: " + r[4]);
        assertTrue(r[4].contains("loader cache"), "an unset override goes on with the search: " + r[4]);
    }
}
