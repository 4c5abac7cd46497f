package io.infra4j.deepep;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.Allocators;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * An expert-parallel group that one process drives, as DeepEP's {@code Buffer}: W ranks, each with its
 * GPU and stream, and their communication buffers. The kernels of every rank read and write the other
 * ranks' buffers by address.
 *
 * <ul>
 *   <li>{@link #onDevices}: one rank per GPU of a node, with peer access enabled between them; each rank
 *       works on its own stream, and the ranks wait for each other through events (no host waits besides
 *       the one normal-mode dispatch needs to learn the sizes).
 *   <li>{@link #simulated}: W ranks on one GPU and stream, each with its own buffers, which is how the
 *       tests and {@code infra4j bench ep} exercise the kernels on one GPU.
 * </ul>
 *
 * Normal mode ({@link #dispatch}) sizes its receive buffers per call, as DeepEP's does. Low-latency mode
 * ({@link #lowLatencyDispatch}) writes into buffers reserved once by {@link #reserveLowLatency}, so that
 * a step allocates nothing and never waits for the host; each step reuses them, so a step's results are
 * valid until the next one (an older {@link LowLatencyEp.Dispatched} then refuses to be read). Closing
 * the buffer frees what it reserved. Ranks across processes or nodes use {@link NcclEp}.
 */
public final class EpBuffer implements AutoCloseable {
    private final ExpertPlacement placement;
    private final RankStreams ranks;
    private LowLatencyEp.Buffers lowLatency;
    private boolean closed;

    private EpBuffer(ExpertPlacement placement, RankStreams ranks) {
        this.placement = placement;
        this.ranks = ranks;
    }

    /** W = {@code placement.worldSize()} simulated ranks on {@code stream}'s GPU. */
    public static EpBuffer simulated(ExpertPlacement placement, CudaStream stream) {
        if (placement == null) {
            throw new IllegalArgumentException("placement: expected an ExpertPlacement, got null");
        }
        return new EpBuffer(placement, RankStreams.shared(placement.worldSize(), stream));
    }

    /**
     * Rank r on {@code streams.get(r)} and its GPU, one GPU per rank; enables peer access between every
     * two of them (IllegalStateException when the hardware has none).
     */
    public static EpBuffer onDevices(ExpertPlacement placement, List<CudaStream> streams) {
        if (placement == null) {
            throw new IllegalArgumentException("placement: expected an ExpertPlacement, got null");
        }
        RankStreams rs = RankStreams.of(streams);
        if (rs.size() != placement.worldSize()) {
            throw new IllegalArgumentException("streams: expected one per rank (" + placement.worldSize() + "), got " + rs.size());
        }
        List<CudaDevice> gpus = new ArrayList<>();
        for (int r = 0; r < rs.size(); r++) {
            CudaDevice d = Cuda.device(rs.device(r).index());
            for (int q = 0; q < r; q++) {
                if (gpus.get(q).ordinal() == d.ordinal()) {
                    throw new IllegalArgumentException("streams[" + r + "]: on " + d + " like rank " + q
                            + "'s; one GPU per rank (simulated ranks share one stream: EpBuffer.simulated)");
                }
            }
            gpus.add(d);
        }
        for (CudaDevice a : gpus) {
            for (CudaDevice b : gpus) {
                a.enablePeerAccess(b);
                // Tensors come from each GPU's stream-ordered pool, which grants peers access on its own.
                Allocators.grantAccess(Device.cuda(b.ordinal()), Device.cuda(a.ordinal()));
            }
        }
        return new EpBuffer(placement, rs);
    }

    public ExpertPlacement placement() {
        return placement;
    }

    /** Rank r's stream. */
    public CudaStream stream(int rank) {
        return ranks.stream(rank);
    }

    /**
     * Reserves every rank's low-latency receive buffers: for steps of at most {@code maxTokens} tokens
     * per rank, {@code hidden} values each, at most {@code topK} slots, the rows travelling as
     * {@code format}. Per rank {@code E / W * W * maxTokens} rows of {@code hidden} values (for FP8, one
     * byte each plus the scales; BF16 two). Replaces an earlier reservation.
     */
    public EpBuffer reserveLowLatency(int maxTokens, int hidden, int topK, LowLatencyEp.Format format) {
        checkOpen("reserveLowLatency");
        LowLatencyEp.Buffers b = LowLatencyEp.Buffers.allocate(placement, ranks, maxTokens, hidden, topK, format);
        if (lowLatency != null) {
            lowLatency.close();
        }
        lowLatency = b;
        return this;
    }

    /**
     * Every rank's stream waits for the work queued so far on every other rank's (events; the host does
     * not wait). After it, any one rank's stream has seen the whole group's work: timing with events on
     * one stream, or one synchronisation, covers every rank.
     */
    public void barrier() {
        checkOpen("barrier");
        ranks.barrier();
    }

    /** DeepEP's {@code get_dispatch_layout} of rank r's {@code topkIdx}, on its stream. */
    public GpuDispatchLayout layout(int rank, Tensor topkIdx) {
        checkOpen("layout");
        checkRank(rank);
        ranks.use(rank);
        return GpuDispatchLayout.compute(topkIdx, placement, ranks.stream(rank));
    }

    /** Normal-mode dispatch of every rank's tokens (as {@link IntranodeEp#dispatch}), each rank on its own stream. */
    public IntranodeEp.Dispatched dispatch(List<IntranodeEp.RankInput> inputs, int expertAlignment) {
        checkOpen("dispatch");
        return IntranodeEp.dispatchOn(inputs, placement, expertAlignment, ranks);
    }

    /** A low-latency step into the reserved buffers: no allocation, no host synchronisation. */
    public LowLatencyEp.Dispatched lowLatencyDispatch(List<IntranodeEp.RankInput> inputs) {
        checkOpen("lowLatencyDispatch");
        if (lowLatency == null) {
            throw new IllegalStateException("lowLatencyDispatch: no low-latency buffers yet: call reserveLowLatency first");
        }
        return LowLatencyEp.dispatchInto(lowLatency, inputs);
    }

    private void checkOpen(String what) {
        if (closed) {
            throw new IllegalStateException(what + ": this EpBuffer is closed");
        }
    }

    private void checkRank(int rank) {
        if (rank < 0 || rank >= ranks.size()) {
            throw new IllegalArgumentException("rank: expected 0.." + (ranks.size() - 1) + ", got " + rank);
        }
    }

    /** Frees the low-latency buffers (after every rank's queued work). The streams stay the caller's. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (lowLatency != null) {
            lowLatency.close();
        }
    }
}
