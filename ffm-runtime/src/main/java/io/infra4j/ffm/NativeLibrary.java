package io.infra4j.ffm;

import io.infra4j.natives.BundledNatives;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Finds native libraries by an explicit, reported search and loads them once per process.
 *
 * <p>The search, in order: the library's environment variable ({@code INFRA4J_CUDART_PATH}, ...:
 * a file, or a folder holding one of its file names); the copy inside the infra4j jar (extracted
 * once per content hash, see {@link NativeCache}); {@code $CUDA_HOME/lib64}, {@code $CUDA_HOME/lib}
 * and {@code /usr/local/cuda/lib64}, {@code /usr/local/cuda/lib} for toolkit libraries;
 * {@code LD_LIBRARY_PATH}; the dynamic loader's cache ({@code ldconfig -p}); and the
 * {@code nvidia/*}{@code /lib} folders of pip's wheels in the Python site-packages folders it knows of.
 * A library that is not found raises {@link NativeLibraryNotFoundException} listing every place.
 *
 * <p>Loading uses {@link System#load}, so the generated bindings (whose symbol lookup is their
 * class loader's) see the library; libraries loaded first satisfy the dependencies of those loaded
 * later by their soname (our kernels need the very libcudart that Java loaded).
 */
public final class NativeLibrary {
    private static final Map<String, NativeLibrary> LOADED = new ConcurrentHashMap<>();
    private static volatile List<Path> ldCache;

    private final LibrarySpec spec;
    private final Path path;
    private final String foundBy;

    private NativeLibrary(LibrarySpec spec, Path path, String foundBy) {
        this.spec = spec;
        this.path = path;
        this.foundBy = foundBy;
    }

    public LibrarySpec spec() {
        return spec;
    }

    /** The file that was loaded. */
    public Path path() {
        return path;
    }

    /** How it was found: the environment variable, "bundled", "CUDA_HOME", "loader cache", "pip", ... */
    public String foundBy() {
        return foundBy;
    }

    @Override
    public String toString() {
        return spec.name() + " at " + path + " (" + foundBy + ")";
    }

    /** Where a search found the library, if it did, and every place it looked. */
    public record SearchResult(LibrarySpec spec, Optional<Path> path, String foundBy, List<String> looked) {
        public boolean found() {
            return path.isPresent();
        }
    }

    /** Loads the library (searching on first use), or throws {@link NativeLibraryNotFoundException}. */
    public static NativeLibrary load(LibrarySpec spec) {
        NativeLibrary lib = LOADED.get(spec.name());
        if (lib != null) {
            return lib;
        }
        synchronized (NativeLibrary.class) {
            lib = LOADED.get(spec.name());
            if (lib != null) {
                return lib;
            }
            SearchResult r = search(spec);
            if (r.path().isEmpty()) {
                throw new NativeLibraryNotFoundException(spec.name(), r.looked(),
                        "Set " + spec.envVar() + " to the file (or its folder) to use a library elsewhere.");
            }
            Path p = r.path().get();
            try {
                System.load(p.toString());
            } catch (UnsatisfiedLinkError e) {
                UnsatisfiedLinkError err = new UnsatisfiedLinkError(
                        "native library '" + spec.name() + "' found at " + p + " (" + r.foundBy()
                                + ") but could not be loaded: " + e.getMessage());
                err.initCause(e);
                throw err;
            }
            lib = new NativeLibrary(spec, p, r.foundBy());
            LOADED.put(spec.name(), lib);
            return lib;
        }
    }

    /** The library if already loaded by {@link #load}. */
    public static Optional<NativeLibrary> loaded(LibrarySpec spec) {
        return Optional.ofNullable(LOADED.get(spec.name()));
    }

    /** Searches without loading. */
    public static SearchResult search(LibrarySpec spec) {
        List<String> looked = new ArrayList<>();

        String override = System.getenv(spec.envVar());
        if (override != null && !override.isBlank()) {
            Path o = Paths.get(override.trim());
            if (Files.isDirectory(o)) {
                Optional<Path> hit = inFolder(o, spec, looked, spec.envVar());
                if (hit.isPresent()) {
                    return new SearchResult(spec, hit, spec.envVar(), looked);
                }
            } else {
                looked.add(spec.envVar() + "=" + o + (Files.isRegularFile(o) ? "" : " (no such file)"));
                if (Files.isRegularFile(o)) {
                    return new SearchResult(spec, Optional.of(o.toAbsolutePath()), spec.envVar(), looked);
                }
            }
            // An explicit override that fails is an error the user wants to hear about, not to fall past.
            return new SearchResult(spec, Optional.empty(), "", looked);
        }
        looked.add(spec.envVar() + " (not set)");

        if (spec.bundled()) {
            String file = spec.fileNames().get(0);
            if (!BundledNatives.platformMatches()) {
                looked.add("bundled " + BundledNatives.resourcePath(file) + " (built for "
                        + BundledNatives.PLATFORM + ", this is " + System.getProperty("os.name") + "/"
                        + System.getProperty("os.arch") + ")");
            } else {
                Optional<Properties> manifest = BundledNatives.manifest(file);
                if (manifest.isPresent()) {
                    Path extracted = NativeCache.extract(file, manifest.get());
                    looked.add("bundled " + BundledNatives.resourcePath(file) + " -> " + extracted);
                    return new SearchResult(spec, Optional.of(extracted), "bundled", looked);
                }
                looked.add("bundled " + BundledNatives.resourcePath(file)
                        + (file.equals("libinfra4j_cuda.so") ? " (absent: the infra4j-native jar was built without nvcc)"
                                : " (absent: the infra4j-native jar was built without it)"));
            }
        }

        if (spec.cudaToolkit()) {
            String cudaHome = System.getenv("CUDA_HOME");
            if (cudaHome != null && !cudaHome.isBlank()) {
                for (String sub : List.of("lib64", "lib")) {
                    Optional<Path> hit = inFolder(Paths.get(cudaHome, sub), spec, looked, "CUDA_HOME");
                    if (hit.isPresent()) {
                        return new SearchResult(spec, hit, "CUDA_HOME", looked);
                    }
                }
            } else {
                looked.add("CUDA_HOME (not set)");
            }
            for (String dir : List.of("/usr/local/cuda/lib64", "/usr/local/cuda/lib")) {
                Optional<Path> hit = inFolder(Paths.get(dir), spec, looked, "/usr/local/cuda");
                if (hit.isPresent()) {
                    return new SearchResult(spec, hit, "/usr/local/cuda", looked);
                }
            }
        }

        String ldPath = System.getenv("LD_LIBRARY_PATH");
        if (ldPath != null && !ldPath.isBlank()) {
            for (String dir : ldPath.split(":")) {
                if (!dir.isBlank()) {
                    Optional<Path> hit = inFolder(Paths.get(dir), spec, looked, "LD_LIBRARY_PATH");
                    if (hit.isPresent()) {
                        return new SearchResult(spec, hit, "LD_LIBRARY_PATH", looked);
                    }
                }
            }
        }

        List<Path> cache = loaderCache();
        for (String name : spec.fileNames()) {
            for (Path p : cache) {
                if (p.getFileName().toString().equals(name) && Files.isRegularFile(p)) {
                    looked.add("loader cache: " + p);
                    return new SearchResult(spec, Optional.of(p), "loader cache", looked);
                }
            }
        }
        looked.add("loader cache (ldconfig -p: " + (cache.isEmpty() ? "unavailable or empty" : cache.size() + " entries")
                + ", none named " + String.join(" or ", spec.fileNames()) + ")");

        if (!spec.pipFolders().isEmpty()) {
            List<Path> sites = pythonSitePackages();
            // Only site-packages that hold pip's NVIDIA wheels at all are worth a line each.
            List<Path> withNvidia = sites.stream().filter(site -> Files.isDirectory(site.resolve("nvidia"))).toList();
            if (sites.isEmpty()) {
                looked.add("pip wheels (no Python site-packages folder found; set INFRA4J_PYTHON_SITE_PACKAGES)");
            } else if (withNvidia.size() < sites.size()) {
                looked.add("pip wheels: " + (sites.size() - withNvidia.size()) + " site-packages folder(s) without nvidia/ ("
                        + sites.get(0) + (sites.size() > 1 ? ", ..." : "") + ")");
            }
            for (Path site : withNvidia) {
                for (String sub : spec.pipFolders()) {
                    Optional<Path> hit = inFolder(site.resolve(sub), spec, looked, "pip");
                    if (hit.isPresent()) {
                        return new SearchResult(spec, hit, "pip (" + site + ")", looked);
                    }
                }
            }
        }
        return new SearchResult(spec, Optional.empty(), "", looked);
    }

    private static Optional<Path> inFolder(Path dir, LibrarySpec spec, List<String> looked, String label) {
        if (!Files.isDirectory(dir)) {
            looked.add(label + ": " + dir + " (no such folder)");
            return Optional.empty();
        }
        for (String name : spec.fileNames()) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                looked.add(label + ": " + p);
                return Optional.of(p.toAbsolutePath());
            }
        }
        looked.add(label + ": " + dir + " (no " + String.join(", ", spec.fileNames()) + ")");
        return Optional.empty();
    }

    /** Paths listed by {@code ldconfig -p}, read once per process (empty where ldconfig is absent). */
    static List<Path> loaderCache() {
        List<Path> c = ldCache;
        if (c != null) {
            return c;
        }
        List<Path> out = new ArrayList<>();
        for (String ldconfig : List.of("/sbin/ldconfig", "/usr/sbin/ldconfig", "/usr/bin/ldconfig")) {
            if (!Files.isExecutable(Paths.get(ldconfig))) {
                continue;
            }
            try {
                Process p = new ProcessBuilder(ldconfig, "-p").redirectErrorStream(true).start();
                String text = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
                for (String line : text.split("\n")) {
                    int arrow = line.lastIndexOf("=> ");
                    if (arrow > 0) {
                        out.add(Paths.get(line.substring(arrow + 3).trim()));
                    }
                }
                break;
            } catch (IOException e) {
                // try the next location
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        ldCache = List.copyOf(out);
        return ldCache;
    }

    /** Python site-packages folders where pip's NVIDIA wheels may live, most specific first. */
    static List<Path> pythonSitePackages() {
        Set<Path> out = new LinkedHashSet<>();
        String explicit = System.getenv("INFRA4J_PYTHON_SITE_PACKAGES");
        if (explicit != null) {
            for (String s : explicit.split(":")) {
                if (!s.isBlank()) {
                    out.add(Paths.get(s));
                }
            }
        }
        String pythonPath = System.getenv("PYTHONPATH");
        if (pythonPath != null) {
            for (String s : pythonPath.split(":")) {
                if (!s.isBlank()) {
                    out.add(Paths.get(s));
                }
            }
        }
        List<Path> prefixes = new ArrayList<>();
        for (String env : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            String v = System.getenv(env);
            if (v != null && !v.isBlank()) {
                prefixes.add(Paths.get(v));
            }
        }
        String home = System.getProperty("user.home", "");
        prefixes.add(Paths.get(home, ".local"));
        prefixes.add(Paths.get("/usr/local"));
        prefixes.add(Paths.get("/usr"));
        prefixes.add(Paths.get("/opt/conda"));
        prefixes.addAll(children(Paths.get("/opt"), ".venv"));
        prefixes.addAll(children(Paths.get(home, ".pyenv", "versions"), ""));
        for (Path prefix : prefixes) {
            for (Path lib : children(prefix.resolve("lib"), "")) {
                String n = lib.getFileName().toString();
                if (n.startsWith("python3")) {
                    out.add(lib.resolve("site-packages"));
                    out.add(lib.resolve("dist-packages"));
                }
            }
        }
        out.add(Paths.get("/usr/lib/python3/dist-packages"));
        return out.stream().filter(Files::isDirectory).toList();
    }

    /** The sub-folders of {@code dir} (each joined with {@code suffix} when given). */
    private static List<Path> children(Path dir, String suffix) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory)
                    .map(p -> suffix.isEmpty() ? p : p.resolve(suffix))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }
}
