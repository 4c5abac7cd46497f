package io.infra4j.ffm.nccl;

import io.infra4j.bindings.nccl.NcclLib;
import io.infra4j.bindings.nccl.ncclUniqueId;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The id that the ranks of one communicator share to find each other ({@code ncclUniqueId}, 128
 * bytes): one rank {@link #create() creates} it, sends {@link #toBytes()} to the others by any means
 * (a TCP rendezvous, a file), and each passes {@link #fromBytes} of them to
 * {@link NcclComm#initRank}. It holds the creator's bootstrap address, so it is not printed whole.
 */
public final class NcclUniqueId {
    /** {@code NCCL_UNIQUE_ID_BYTES}. */
    public static final int BYTES = NcclLib.NCCL_UNIQUE_ID_BYTES();

    private final byte[] bytes;

    private NcclUniqueId(byte[] bytes) {
        this.bytes = bytes;
    }

    /** A new id from {@code ncclGetUniqueId}; this process then serves the ranks' bootstrap. */
    public static NcclUniqueId create() {
        Nccl.requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment id = ncclUniqueId.allocate(arena);
            Nccl.check(NcclLib.ncclGetUniqueId(id), "ncclGetUniqueId", MemorySegment.NULL);
            return new NcclUniqueId(id.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    /** The id from the {@value #BYTES} bytes another rank's {@link #toBytes()} gave. */
    public static NcclUniqueId fromBytes(byte[] bytes) {
        if (bytes == null) {
            throw new IllegalArgumentException("bytes: expected " + BYTES + " bytes of an ncclUniqueId, got null");
        }
        if (bytes.length != BYTES) {
            throw new IllegalArgumentException("bytes: expected " + BYTES + " bytes of an ncclUniqueId, got "
                    + bytes.length);
        }
        return new NcclUniqueId(bytes.clone());
    }

    /** A copy of the {@value #BYTES} bytes, to send to the other ranks. */
    public byte[] toBytes() {
        return bytes.clone();
    }

    /** The id as the struct that {@code ncclCommInitRank} takes by value, in {@code arena}. */
    MemorySegment toSegment(Arena arena) {
        MemorySegment id = ncclUniqueId.allocate(arena);
        MemorySegment.copy(bytes, 0, id, ValueLayout.JAVA_BYTE, 0, BYTES);
        return id;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NcclUniqueId other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "ncclUniqueId(hash " + Integer.toHexString(hashCode()) + ")";
    }
}
