package io.infra4j.ffm.nvshmem;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.infra4j.bindings.nvshmem.nvshmemx_init_args_v1;
import io.infra4j.bindings.nvshmem.nvshmemx_init_attr_t;
import io.infra4j.bindings.nvshmem.nvshmemx_init_attr_v1;
import io.infra4j.bindings.nvshmem.nvshmemx_uniqueid_args_v1;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * The init attributes NVSHMEM reads: the generated layouts match the sizes NVSHMEM 3.4's headers
 * assert (a wrong padding would shift every field NVSHMEM reads), and {@link NvshmemWorld#initAttr}
 * writes what {@code NVSHMEMX_INIT_ATTR_INITIALIZER} would, byte for byte.
 */
class NvshmemInitAttrTest {

    @Test
    void layoutsHaveTheSizesTheHeadersAssert() {
        assertEquals(144, nvshmemx_init_attr_v1.sizeof(), "static_assert(sizeof(nvshmemx_init_attr_v1) == 144)");
        assertEquals(144, nvshmemx_init_attr_t.sizeof());
        assertEquals(128, nvshmemx_init_args_v1.sizeof(), "static_assert(sizeof(nvshmemx_init_args_v1) == 128)");
        assertEquals(24, nvshmemx_uniqueid_args_v1.sizeof(), "static_assert(sizeof(nvshmemx_uniqueid_args_v1) == 24)");
        // x86-64 offsets: int, 4 bytes of padding, then 8-byte aligned pointers.
        var attr = nvshmemx_init_attr_v1.layout();
        assertEquals(8, attr.byteOffset(PathElement.groupElement("mpi_comm")));
        assertEquals(16, attr.byteOffset(PathElement.groupElement("args")));
        var args = nvshmemx_init_args_v1.layout();
        assertEquals(8, args.byteOffset(PathElement.groupElement("uid_args")));
        assertEquals(32, args.byteOffset(PathElement.groupElement("content")));
        var uid = nvshmemx_uniqueid_args_v1.layout();
        assertEquals(8, uid.byteOffset(PathElement.groupElement("id")));
        assertEquals(16, uid.byteOffset(PathElement.groupElement("myrank")));
        assertEquals(20, uid.byteOffset(PathElement.groupElement("nranks")));
    }

    @Test
    void initAttrWritesTheInitialisersBytes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = nvshmemx_init_attr_v1.allocate(arena);
            attr.fill((byte) 0x5A); // initAttr must not rely on a zeroed struct for the fields it owns
            MemorySegment content = nvshmemx_init_args_v1.content(nvshmemx_init_attr_v1.args(attr));
            content.fill((byte) 0);
            NvshmemWorld.initAttr(attr);
            assertEquals((1 << 16) + 144, attr.get(ValueLayout.JAVA_INT, 0), "attr.version");
            assertEquals(0L, attr.get(ValueLayout.JAVA_LONG, 8), "attr.mpi_comm = NULL");
            assertEquals((1 << 16) + 128, attr.get(ValueLayout.JAVA_INT, 16), "attr.args.version");
            assertEquals((1 << 16) + 24, attr.get(ValueLayout.JAVA_INT, 24), "attr.args.uid_args.version");
            assertEquals(0L, attr.get(ValueLayout.JAVA_LONG, 32), "attr.args.uid_args.id = NULL");
            assertEquals(-1, attr.get(ValueLayout.JAVA_INT, 40), "attr.args.uid_args.myrank = -1");
            assertEquals(-1, attr.get(ValueLayout.JAVA_INT, 44), "attr.args.uid_args.nranks = -1");
            assertEquals(65680, nvshmemx_init_attr_v1.version(attr));
        }
    }
}
