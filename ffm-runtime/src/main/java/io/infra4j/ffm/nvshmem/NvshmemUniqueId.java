package io.infra4j.ffm.nvshmem;

import io.infra4j.bindings.nvshmem.NvshmemLib;
import io.infra4j.bindings.nvshmem.nvshmemx_uniqueid_t;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The id that the processes of one NVSHMEM world share to find each other ({@code nvshmemx_uniqueid_t},
 * 128 bytes): one process {@link #create() creates} it, sends {@link #toBytes()} to the others by any
 * means (a TCP rendezvous, a file), and each passes {@link #fromBytes} of them to
 * {@link NvshmemWorld#init}. Creating it starts NVSHMEM's bootstrap listener in the creating process,
 * which must then join the world itself (normally as rank 0). It holds that listener's address, so
 * it is not printed whole.
 */
public final class NvshmemUniqueId {
    /** {@code sizeof(nvshmemx_uniqueid_t)}. */
    public static final int BYTES = (int) nvshmemx_uniqueid_t.sizeof();

    /** The struct's version field as {@code NVSHMEMX_UNIQUEID_INITIALIZER} sets it: (1 << 16) + size. */
    static final int STRUCT_VERSION = (1 << 16) + BYTES;

    private final byte[] bytes;

    private NvshmemUniqueId(byte[] bytes) {
        this.bytes = bytes;
    }

    /** A new id from {@code nvshmemx_get_uniqueid}; this process then serves the world's bootstrap. */
    public static NvshmemUniqueId create() {
        Nvshmem.requireAvailable();
        NvshmemEnv.prepare(); // NVSHMEM reads its environment at this first call
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment id = nvshmemx_uniqueid_t.allocate(arena);
            nvshmemx_uniqueid_t.version(id, STRUCT_VERSION);
            Nvshmem.check(NvshmemLib.nvshmemx_get_uniqueid(id), "nvshmemx_get_uniqueid");
            return new NvshmemUniqueId(id.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    /** The id from the {@value #BYTES} bytes another process's {@link #toBytes()} gave. */
    public static NvshmemUniqueId fromBytes(byte[] bytes) {
        if (bytes == null) {
            throw new IllegalArgumentException("bytes: expected " + BYTES + " bytes of an nvshmemx_uniqueid_t, got null");
        }
        if (bytes.length != BYTES) {
            throw new IllegalArgumentException("bytes: expected " + BYTES + " bytes of an nvshmemx_uniqueid_t, got "
                    + bytes.length);
        }
        return new NvshmemUniqueId(bytes.clone());
    }

    /** A copy of the {@value #BYTES} bytes, to send to the other processes. */
    public byte[] toBytes() {
        return bytes.clone();
    }

    /** The id as the struct {@code nvshmemx_set_attr_uniqueid_args} points to, in {@code arena}. */
    MemorySegment toSegment(Arena arena) {
        MemorySegment id = nvshmemx_uniqueid_t.allocate(arena);
        MemorySegment.copy(bytes, 0, id, ValueLayout.JAVA_BYTE, 0, BYTES);
        return id;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NvshmemUniqueId other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "nvshmemx_uniqueid_t(hash " + Integer.toHexString(hashCode()) + ")";
    }
}
