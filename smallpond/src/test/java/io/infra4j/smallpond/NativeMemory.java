package io.infra4j.smallpond;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the leak tests measure. DuckDB, infra4j's buffers and FFM arenas all allocate with malloc, so the bytes malloc
 * has handed out and not got back (glibc's mallinfo2) show a native leak precisely. The resident size also grows
 * as the Java heap's young generation first touches its pages, more so after a test class that made much garbage,
 * so it is only a loose bound.
 */
final class NativeMemory {
    private static final MethodHandle MALLINFO2 = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("mallinfo2").orElseThrow(),
            FunctionDescriptor.of(MemoryLayout.structLayout(MemoryLayout.sequenceLayout(10, ValueLayout.JAVA_LONG))));

    private NativeMemory() {}

    /** uordblks (bytes in use in malloc's heaps) + hblkhd (bytes in blocks malloc mmapped). */
    static long mallocInUse() throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment info = (MemorySegment) MALLINFO2.invoke((SegmentAllocator) a);
            return info.getAtIndex(ValueLayout.JAVA_LONG, 7) + info.getAtIndex(ValueLayout.JAVA_LONG, 4);
        }
    }

    static long residentBytes() throws Exception {
        String[] f = Files.readString(Path.of("/proc/self/statm")).trim().split(" ");
        return Long.parseLong(f[1]) * 4096;
    }
}
