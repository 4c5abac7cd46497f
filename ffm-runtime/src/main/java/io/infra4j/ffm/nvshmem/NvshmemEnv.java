package io.infra4j.ffm.nvshmem;

import io.infra4j.bindings.nvshmem.NvshmemLib;
import io.infra4j.ffm.LibrarySpec;
import io.infra4j.ffm.NativeLibrary;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The environment NVSHMEM reads, given defaults before its first call (it reads its variables once
 * per process, at the first {@code nvshmemx_get_uniqueid} or initialisation):
 * <ul>
 *   <li>{@code NVSHMEM_BOOTSTRAP_UID_PLUGIN}: NVSHMEM dlopens its unique-id bootstrap plugin by the bare
 *       name {@code nvshmem_bootstrap_uid.so.3}, which fails where that file's folder is not on the
 *       loader's path, as with pip's wheel (the plugin sits beside libnvshmem_host.so.3). When unset,
 *       it becomes the absolute path of the plugin beside the loaded host library, if that file exists.</li>
 *   <li>{@code NVSHMEM_DISABLE_NVLS}: NVLink multicast stays off in infra4j (it can take a shared
 *       host's GPUs down); when unset it becomes 1.</li>
 * </ul>
 * Variables already set are never changed. The values go through libc's {@code setenv}, since Java's
 * {@link System#getenv()} is a copy that native code never sees.
 */
final class NvshmemEnv {
    static final String UID_PLUGIN = "NVSHMEM_BOOTSTRAP_UID_PLUGIN";
    static final String DISABLE_NVLS = "NVSHMEM_DISABLE_NVLS";

    private static volatile Map<String, String> applied = Map.of();
    private static boolean prepared;

    private NvshmemEnv() {}

    /** The plugin's file name: {@code nvshmem_bootstrap_uid.so.<major>}, the name NVSHMEM itself would dlopen. */
    static String uidPluginFileName() {
        return "nvshmem_bootstrap_uid.so." + NvshmemLib.NVSHMEM_BOOTSTRAP_PLUGIN_MAJOR_VERSION();
    }

    /** The UID bootstrap plugin beside {@code hostLibrary} (or beside the file it links to), if there is one. */
    static Optional<Path> uidPluginBeside(Path hostLibrary) {
        List<Path> folders = new ArrayList<>();
        Path parent = hostLibrary.toAbsolutePath().getParent();
        if (parent != null) {
            folders.add(parent);
        }
        try {
            Path real = hostLibrary.toRealPath().getParent();
            if (real != null && !folders.contains(real)) {
                folders.add(real);
            }
        } catch (IOException e) {
            // the path as found is all there is
        }
        for (Path folder : folders) {
            Path plugin = folder.resolve(uidPluginFileName());
            if (Files.isRegularFile(plugin)) {
                return Optional.of(plugin.toAbsolutePath());
            }
        }
        return Optional.empty();
    }

    /**
     * The variables to set, in order, given how the environment reads now ({@code getenv} answers
     * null for an unset variable) and where the host library was loaded from.
     */
    static Map<String, String> defaults(UnaryOperator<String> getenv, Path hostLibrary) {
        Map<String, String> out = new LinkedHashMap<>();
        if (getenv.apply(UID_PLUGIN) == null && hostLibrary != null) {
            uidPluginBeside(hostLibrary).ifPresent(p -> out.put(UID_PLUGIN, p.toString()));
        }
        if (getenv.apply(DISABLE_NVLS) == null) {
            out.put(DISABLE_NVLS, "1");
        }
        return out;
    }

    /** Sets the defaults once per process; call after the host library is loaded and before NVSHMEM's first call. */
    static synchronized void prepare() {
        if (prepared) {
            return;
        }
        Path host = NativeLibrary.loaded(LibrarySpec.NVSHMEM).map(NativeLibrary::path).orElse(null);
        Map<String, String> set = defaults(NvshmemEnv::getenv, host);
        set.forEach(NvshmemEnv::setenvIfUnset);
        applied = Map.copyOf(set);
        prepared = true;
    }

    /** What {@link #prepare()} set. */
    static Map<String, String> applied() {
        return applied;
    }

    // ---- libc: the process environment native code reads ----

    private static final class Libc {
        static final MethodHandle GETENV;
        static final MethodHandle SETENV;

        static {
            Linker linker = Linker.nativeLinker();
            GETENV = downcall(linker, "getenv", FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            SETENV = downcall(linker, "setenv",
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        }

        @SuppressWarnings("restricted")
        private static MethodHandle downcall(Linker linker, String name, FunctionDescriptor descriptor) {
            MemorySegment address = linker.defaultLookup().find(name)
                    .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
            return linker.downcallHandle(address, descriptor);
        }
    }

    /** The variable as native code sees it now (including what was set since the JVM started), or null. */
    @SuppressWarnings("restricted")
    static String getenv(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = (MemorySegment) Libc.GETENV.invokeExact(arena.allocateFrom(name));
            return value.equals(MemorySegment.NULL) ? null : value.reinterpret(Integer.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code setenv(name, value, 0)}: sets the variable unless it is set already. */
    static void setenvIfUnset(String name, String value) {
        try (Arena arena = Arena.ofConfined()) {
            int rc = (int) Libc.SETENV.invokeExact(arena.allocateFrom(name), arena.allocateFrom(value), 0);
            if (rc != 0) {
                throw new IllegalStateException("setenv(" + name + ") failed with " + rc);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }
}
