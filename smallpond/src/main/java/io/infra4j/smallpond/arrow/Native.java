package io.infra4j.smallpond.arrow;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The C library's malloc, realloc and free: buffers that grow in place (realloc) and are freed by whoever releases
 * them last, on any thread (a consumer's release callback), which no Arena allows.
 */
final class Native {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MALLOC = LINKER.downcallHandle(LINKER.defaultLookup().find("malloc").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle REALLOC = LINKER.downcallHandle(LINKER.defaultLookup().find("realloc").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle FREE = LINKER.downcallHandle(LINKER.defaultLookup().find("free").orElseThrow(),
            FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
    // Calls a C function pointer void (*)(void*): the release callbacks of structs another producer filled.
    private static final MethodHandle CALL_RELEASE = LINKER.downcallHandle(FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));

    private Native() {}

    /** {@code bytes} of uninitialised memory (at least 1, so that the address is never NULL), unscoped. */
    static MemorySegment malloc(long bytes) {
        try {
            MemorySegment p = (MemorySegment) MALLOC.invokeExact(Math.max(bytes, 1L));
            if (p.equals(MemorySegment.NULL)) {
                throw new OutOfMemoryError("malloc(" + bytes + ") failed");
            }
            return p.reinterpret(bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code bytes} of zeroed memory. */
    static MemorySegment calloc(long bytes) {
        MemorySegment p = malloc(bytes);
        p.fill((byte) 0);
        return p;
    }

    /** {@code old}'s contents in a block of {@code bytes}; {@code old} is gone. */
    static MemorySegment realloc(MemorySegment old, long bytes) {
        try {
            MemorySegment p = (MemorySegment) REALLOC.invokeExact(old, Math.max(bytes, 1L));
            if (p.equals(MemorySegment.NULL)) {
                throw new OutOfMemoryError("realloc(" + bytes + ") failed");
            }
            return p.reinterpret(bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void free(MemorySegment p) {
        if (p == null || p.equals(MemorySegment.NULL)) {
            return;
        }
        try {
            FREE.invokeExact(p);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Calls the C function at {@code fn} with {@code arg}. */
    static void callRelease(MemorySegment fn, MemorySegment arg) {
        try {
            CALL_RELEASE.invokeExact(fn, arg);
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
