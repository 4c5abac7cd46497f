package io.infra4j.ffm;

import java.util.function.Supplier;

/**
 * An optional native library probed once per process: loaded as its {@link LibrarySpec} says, then
 * asked its version, so that a file of that name which is not the library shows up as unavailable
 * (a {@link LinkageError}) rather than failing later. NCCL and cuBLASLt answer {@code isAvailable()}
 * and {@code unavailableReason()} from one of these.
 */
public final class LibraryProbe {
    /** The outcome: available with a version, or not with the reason. */
    public record Result(boolean available, String reason, long version) {
        public static Result of(long version) {
            return new Result(true, "", version);
        }

        public static Result failed(String reason) {
            return new Result(false, reason, 0);
        }
    }

    private final LibrarySpec spec;
    private final String versionCall;
    private final Supplier<Result> askVersion;
    private volatile Result result;

    /**
     * @param spec        what to load
     * @param versionCall the native function {@code askVersion} calls, for the message when it is missing
     * @param askVersion  runs once the library is loaded: its version, or why it cannot be used
     */
    public LibraryProbe(LibrarySpec spec, String versionCall, Supplier<Result> askVersion) {
        this.spec = spec;
        this.versionCall = versionCall;
        this.askVersion = askVersion;
    }

    /** The outcome, computed on the first call. */
    public Result get() {
        Result r = result;
        if (r == null) {
            synchronized (this) {
                r = result;
                if (r == null) {
                    r = run();
                    result = r;
                }
            }
        }
        return r;
    }

    private Result run() {
        String lib = "lib" + spec.name();
        try {
            NativeLibrary.load(spec);
        } catch (NativeLibraryNotFoundException | UnsatisfiedLinkError e) {
            return Result.failed(lib + " could not be loaded: " + e.getMessage());
        }
        try {
            return askVersion.get();
        } catch (LinkageError e) {
            return Result.failed(lib + " loaded but does not answer " + versionCall + ": " + e);
        }
    }
}
