package io.infra4j.deepep;

import io.infra4j.ffm.CudaStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import java.util.function.ObjIntConsumer;

/** The argument checks and small host copies both GPU modes share. */
final class EpTensors {
    private EpTensors() {}

    // Small reads into a confined arena: a host tensor's shared arena costs a thread handshake when closed.
    static int[] toInts(Tensor t, CudaStream stream) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(Math.max(4, 4 * t.numel()), 16);
            TensorOps.copyToHost(t, host, stream);
            return host.asSlice(0, 4 * t.numel()).toArray(ValueLayout.JAVA_INT);
        }
    }

    static int[] toBytes(Tensor t, CudaStream stream, int n) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(Math.max(1, t.numel()), 16);
            TensorOps.copyToHost(t, host, stream);
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = host.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
            }
            return out;
        }
    }

    static void checkDevice(Tensor t, String name, Device device) {
        if (t.isClosed()) {
            throw new IllegalArgumentException(name + ": the tensor is closed");
        }
        if (!t.device().equals(device)) {
            throw new IllegalArgumentException(name + ": expected a tensor on " + device + " (the stream's device), got one on "
                    + t.device());
        }
    }

    /**
     * The combine's checks, shared by both modes: the dispatch's own stream (what the handle frees is
     * ordered on it), then one contiguous BF16 tensor per rank of the shape {@code shapeOf(rank)}, on
     * that rank's GPU. Returns their addresses.
     */
    static long[] expertOutputs(List<Tensor> outputs, int world, RankStreams ranks, CudaStream dispatchStream, CudaStream stream,
            IntFunction<long[]> shapeOf) {
        if (stream != dispatchStream) {
            throw new IllegalArgumentException("stream: combine runs on the dispatch's stream (" + dispatchStream
                    + "), whose order frees the dispatch's buffers; got " + stream);
        }
        if (outputs == null || outputs.size() != world) {
            throw new IllegalArgumentException("expertOutputs: expected one tensor per rank (" + world + "), got "
                    + (outputs == null ? "null" : outputs.size()));
        }
        long[] ptrs = new long[world];
        for (int r = 0; r < world; r++) {
            Tensor y = outputs.get(r);
            String name = "expertOutputs[" + r + "]";
            if (y == null) {
                throw new IllegalArgumentException(name + ": expected a tensor, got null");
            }
            checkDevice(y, name, ranks.device(r));
            long[] shape = shapeOf.apply(r);
            if (y.dtype() != DType.BF16 || !java.util.Arrays.equals(y.shape(), shape)) {
                throw new IllegalArgumentException(name + ": expected BF16 " + java.util.Arrays.toString(shape) + ", got " + y.dtype()
                        + " " + java.util.Arrays.toString(y.shape()));
            }
            checkLayout(y, name);
            ptrs[r] = y.address();
        }
        return ptrs;
    }

    /** One new BF16 {@code [tokens(s), hidden]} per source rank s, on its GPU, each filled by {@code launch}; all closed if one fails. */
    static List<Tensor> perSource(RankStreams ranks, IntFunction<Integer> tokens, int hidden, ObjIntConsumer<Tensor> launch) {
        List<Tensor> out = new ArrayList<>();
        try {
            for (int s = 0; s < ranks.size(); s++) {
                ranks.use(s);
                Tensor o = Tensor.empty(DType.BF16, ranks.device(s), ranks.stream(s), tokens.apply(s), hidden);
                out.add(o);
                launch.accept(o, s);
            }
        } catch (RuntimeException e) {
            out.forEach(Tensor::close);
            throw e;
        }
        return out;
    }

    // Contiguous, and 4-byte aligned: the kernels move rows 4 or 16 bytes at a time.
    private static void checkLayout(Tensor t, String name) {
        if (!t.isContiguous()) {
            throw new IllegalArgumentException(name + ": expected a contiguous tensor");
        }
        if (t.numel() > 0 && t.address() % 4 != 0) {
            throw new IllegalArgumentException(name + ": expected a 4-byte aligned start, got address 0x" + Long.toHexString(t.address()));
        }
    }

    static void checkMatrix(Tensor t, String name, DType dtype, long rows, long cols) {
        if (t.dtype() != dtype) {
            throw new IllegalArgumentException(name + ": expected dtype " + dtype + ", got " + t.dtype());
        }
        if (t.rank() != 2 || t.size(0) != rows || t.size(1) != cols) {
            throw new IllegalArgumentException(name + ": expected shape [" + rows + ", " + cols + "], got "
                    + java.util.Arrays.toString(t.shape()));
        }
        checkLayout(t, name);
    }

    static void closeAll(Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t != null) {
                t.close();
            }
        }
    }
}
