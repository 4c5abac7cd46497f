package io.infra4j.deepep;

import io.infra4j.deepep.internal.EpKernels;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * DeepEP's {@code get_dispatch_layout} on the GPU, without synchronising: for one rank's
 * {@code topkIdx} (I64 {@code [T, k]}, -1 = none), {@code tokensPerRank} I32 {@code [W]},
 * {@code tokensPerExpert} I32 {@code [E]} and {@code isTokenInRank} U8 {@code [T, W]}, new device
 * tensors this object owns. {@link #toHost} reads them back as a {@link DispatchLayout} (the same as
 * {@link DispatchLayout#of} computes on the CPU) and checks the ids.
 */
public final class GpuDispatchLayout implements AutoCloseable {
    private final ExpertPlacement placement;
    private final int numTokens;
    private final CudaStream stream;
    private final Tensor tokensPerRank;
    private final Tensor tokensPerExpert;
    private final Tensor isTokenInRank;
    private final Tensor sendOffset; // the kernel's by-product: each token's place among those for a rank
    private final Tensor badIds;
    private boolean closed;

    private GpuDispatchLayout(ExpertPlacement placement, int numTokens, CudaStream stream, List<Tensor> t) {
        this.placement = placement;
        this.numTokens = numTokens;
        this.stream = stream;
        this.tokensPerRank = t.get(0);
        this.tokensPerExpert = t.get(1);
        this.isTokenInRank = t.get(2);
        this.sendOffset = t.get(3);
        this.badIds = t.get(4);
    }

    /** Queues the layout of {@code topkIdx} (on the stream's GPU) over {@code placement} on {@code stream}. */
    public static GpuDispatchLayout compute(Tensor topkIdx, ExpertPlacement placement, CudaStream stream) {
        if (placement == null) {
            throw new IllegalArgumentException("placement: expected an ExpertPlacement, got null");
        }
        if (stream == null) {
            throw new IllegalArgumentException("stream: expected a CudaStream, got null");
        }
        if (topkIdx == null || topkIdx.isClosed()) {
            throw new IllegalArgumentException("topkIdx: expected an open tensor, got " + (topkIdx == null ? "null" : "a closed one"));
        }
        Device device = topkIdx.device();
        if (!device.isCuda()) {
            throw new IllegalArgumentException("topkIdx: expected a tensor on a GPU, got one on " + device
                    + " (DispatchLayout.of is the CPU path)");
        }
        if (!stream.isLegacyDefault() && stream.device() != device.index()) {
            throw new IllegalArgumentException("stream: expected a stream of " + device + ", got one of cuda:" + stream.device());
        }
        if (topkIdx.rank() != 2 || topkIdx.size(1) < 1) {
            throw new IllegalArgumentException("topkIdx: expected I64 [T, k] with k >= 1, got shape " + Arrays.toString(topkIdx.shape()));
        }
        EpTensors.checkMatrix(topkIdx, "topkIdx", DType.I64, topkIdx.size(0), topkIdx.size(1));
        int w = placement.worldSize();
        if (w > EpKernels.MAX_RANKS) {
            throw new IllegalArgumentException("placement: at most " + EpKernels.MAX_RANKS + " ranks, got " + w);
        }
        if (topkIdx.size(0) > Integer.MAX_VALUE / w) {
            throw new IllegalArgumentException("topkIdx: too many tokens (" + topkIdx.size(0) + ")");
        }
        int t = (int) topkIdx.size(0);
        int k = (int) topkIdx.size(1);
        EpKernels.require();
        Cuda.useDevice(device.index());
        List<Tensor> made = new ArrayList<>();
        try {
            made.add(Tensor.empty(DType.I32, device, stream, w));
            made.add(Tensor.empty(DType.I32, device, stream, placement.numExperts()));
            made.add(Tensor.empty(DType.U8, device, stream, t, w));
            made.add(Tensor.empty(DType.I32, device, stream, Math.max(1, (long) t * w)));
            made.add(Tensor.empty(DType.I32, device, stream, 1));
            EpKernels.layout(topkIdx.address(), t, k, placement.numExperts(), w, made.get(0).address(), made.get(1).address(),
                    made.get(2).address(), made.get(3).address(), made.get(4).address(), stream);
            return new GpuDispatchLayout(placement, t, stream, made);
        } catch (RuntimeException e) {
            made.forEach(Tensor::close);
            throw e;
        }
    }

    public Tensor tokensPerRank() {
        return tokensPerRank;
    }

    public Tensor tokensPerExpert() {
        return tokensPerExpert;
    }

    public Tensor isTokenInRank() {
        return isTokenInRank;
    }

    /**
     * Synchronises the stream and reads the layout back; IllegalArgumentException when an id lay outside
     * {@code [-1, E)} (the counts then leave those slots out).
     */
    public DispatchLayout toHost() {
        if (closed) {
            throw new IllegalStateException("toHost: this layout is closed");
        }
        int bad = EpTensors.toInts(badIds, stream)[0];
        if (bad != 0) {
            throw new IllegalArgumentException("topkIdx: " + bad + " expert ids outside [-1, " + placement.numExperts() + ")");
        }
        int[] perRank = EpTensors.toInts(tokensPerRank, stream);
        int[] perExpert = EpTensors.toInts(tokensPerExpert, stream);
        boolean[] in = new boolean[numTokens * placement.worldSize()];
        if (in.length > 0) {
            int[] flags = EpTensors.toBytes(isTokenInRank, stream, in.length);
            for (int i = 0; i < in.length; i++) {
                in[i] = flags[i] != 0;
            }
        }
        return new DispatchLayout(placement, numTokens, perRank, perExpert, in);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        EpTensors.closeAll(tokensPerRank, tokensPerExpert, isTokenInRank, sendOffset, badIds);
    }
}
