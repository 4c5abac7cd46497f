package io.infra4j.ffm.cublas;

import io.infra4j.bindings.cublaslt.cublasLtMatmulAlgo_t;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One algorithm the heuristic proposed ({@code cublasLtMatmulAlgo_t}, 64 opaque bytes that cuBLASLt
 * lets callers keep and reuse), with the workspace it needs and cuBLASLt's estimate of its waves.
 * Immutable; its few bytes of host memory are the garbage collector's to free.
 */
public final class CublasLtAlgo {
    private final MemorySegment algo;
    private final long workspaceBytes;
    private final float waves;

    CublasLtAlgo(MemorySegment source, long workspaceBytes, float waves) {
        this.algo = Arena.ofAuto().allocate(cublasLtMatmulAlgo_t.layout());
        this.algo.copyFrom(source.asSlice(0, cublasLtMatmulAlgo_t.sizeof()));
        this.workspaceBytes = workspaceBytes;
        this.waves = waves;
    }

    /** The {@code cublasLtMatmulAlgo_t}, for native calls (do not write to it). */
    public MemorySegment segment() {
        return algo;
    }

    /** The workspace this algorithm needs, in bytes (at most the preference's maximum). */
    public long workspaceBytes() {
        return workspaceBytes;
    }

    /** cuBLASLt's estimate of the waves of CTAs it runs (1.0: one full wave on the device). */
    public float waves() {
        return waves;
    }

    @Override
    public String toString() {
        return "CublasLtAlgo(workspace " + workspaceBytes + " B, " + waves + " waves)";
    }
}
