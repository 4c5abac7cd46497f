package io.infra4j.ffm;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Downcall handles that skip the thread-state transition of an ordinary FFM call
 * ({@link Linker.Option#critical(boolean)}): cheaper by some nanoseconds, but while the native code
 * runs the JVM cannot reach a safepoint, so only for calls that return within microseconds, never
 * block, and never call back into Java (a stream or event query, an event record). Use the
 * generated bindings' {@code $address()} and {@code $descriptor()} to build one.
 */
public final class CriticalDowncalls {
    private CriticalDowncalls() {}

    @SuppressWarnings("restricted")
    public static MethodHandle of(MemorySegment address, FunctionDescriptor descriptor) {
        return Linker.nativeLinker().downcallHandle(address, descriptor, Linker.Option.critical(false));
    }
}
