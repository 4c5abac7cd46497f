package io.infra4j.ffm;

import java.util.List;

/**
 * Run in a child JVM by {@link NativeLibraryEnvOverrideTest}, with environment variables that a
 * test cannot set in its own process: prints one tab-separated line per spec (name, found, path,
 * foundBy, looked joined by " | ").
 */
public final class SearchProbeMain {
    private SearchProbeMain() {}

    static final List<LibrarySpec> SPECS = List.of(
            spec("ovr_file", "INFRA4J_TEST_OVR_FILE"),
            spec("ovr_dir", "INFRA4J_TEST_OVR_DIR"),
            spec("ovr_dir_without", "INFRA4J_TEST_OVR_DIR_WITHOUT"),
            // would be found in /usr/local/cuda if a failed override fell through to the search
            new LibrarySpec("ovr_missing", "INFRA4J_TEST_OVR_MISSING", List.of("libcudart.so.13"),
                    List.of("nvidia/cu13/lib"), true, false),
            spec("ovr_blank", "INFRA4J_TEST_OVR_BLANK"));

    private static LibrarySpec spec(String name, String env) {
        return new LibrarySpec(name, env, List.of("libinfra4j_ovr.so.1", "libinfra4j_ovr.so"), List.of(), false, false);
    }

    public static void main(String[] args) {
        for (LibrarySpec s : SPECS) {
            NativeLibrary.SearchResult r = NativeLibrary.search(s);
            System.out.println(s.name() + "\t" + r.found() + "\t" + r.path().map(Object::toString).orElse("") + "\t"
                    + r.foundBy() + "\t" + String.join(" | ", r.looked()));
        }
    }
}
