package io.infra4j.flashmla;

import io.infra4j.ffm.CudaStream;
import io.infra4j.flashmla.internal.MlaPlanner;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The split plan of one decoding step, made by {@link MlaDecode#plan} from the sequence lengths and
 * reused by every layer of that step: the keys of all sequences dealt out to {@link #parts()} work
 * items of equal cost (one per multiprocessor by default), a sequence cut into splits where it crosses
 * from one part to the next. It holds the plan words on the lengths' device
 * (int32, mla.h's layout) and a host copy of the lengths, which the decode checks against the block
 * table and the CPU path computes with.
 *
 * <p>A plan is a snapshot: make a new one when the lengths change. On a GPU it is uploaded, used and
 * freed in the order of the stream it was made on, so decodes with it run on that stream. Close it
 * (or let a try-with-resources do so) to free the device buffer.
 */
public final class MlaPlan implements AutoCloseable {
    private final Tensor words;
    private final int[] seqlens;
    private final MlaPlanner.Layout layout;
    private final int maxSeqlen;
    private final long sourceAddress;
    private final CudaStream stream;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Takes ownership of {@code words}. */
    MlaPlan(Tensor words, int[] seqlens, MlaPlanner.Layout layout, long sourceAddress, CudaStream stream) {
        this.words = words;
        this.seqlens = seqlens;
        this.layout = layout;
        int max = 0;
        for (int len : seqlens) {
            max = Math.max(max, len);
        }
        this.maxSeqlen = max;
        this.sourceAddress = sourceAddress;
        this.stream = stream;
    }

    /** Number of sequences. */
    public int batch() {
        return seqlens.length;
    }

    /** Work items of equal cost; the kernel runs one CTA per part, KV head and tile of 64 query rows. */
    public int parts() {
        return layout.parts();
    }

    /** The longest split, in tokens. */
    public int longestSplit() {
        return layout.longestSplit();
    }

    /** Splits of all sequences together. */
    public int totalSplits() {
        return layout.totalSplits();
    }

    /** Where each sequence's splits start: batch + 1 prefix sums, the last one {@link #totalSplits()}. */
    public int[] splitOffsets() {
        return layout.splitOffsets().clone();
    }

    /** The plan words as the kernel reads them (mla.h): parts, total splits, split offsets, part starts, split ranges. */
    public int[] words() {
        return layout.words();
    }

    /** The lengths the plan was made from (a copy). */
    public int[] seqlens() {
        return seqlens.clone();
    }

    /** The longest sequence. */
    public int maxSeqlen() {
        return maxSeqlen;
    }

    /** Where the plan words live: the device of the lengths it was made from. */
    public Device device() {
        return words.device();
    }

    /** The stream the plan was uploaded on, and that decodes with it use. */
    public CudaStream stream() {
        return stream;
    }

    public boolean isClosed() {
        return closed.get();
    }

    /** The plan words (int32, on {@link #device()}), for the kernel. */
    Tensor buffer() {
        checkOpen();
        return words;
    }

    /** The lengths without a copy, for the decode's checks and the CPU path. */
    int[] seqlensView() {
        return seqlens;
    }

    /** Whether {@code t} is the tensor view the plan was made from (same address, device and size). */
    boolean madeFrom(Tensor t) {
        return t.address() == sourceAddress && t.device().equals(words.device()) && t.numel() == seqlens.length;
    }

    void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("plan: the plan is closed");
        }
    }

    /** Frees the plan words (in the order of the plan's stream). Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            words.close();
        }
    }

    @Override
    public String toString() {
        return "MlaPlan(batch " + batch() + ", " + parts() + " parts, " + totalSplits() + " splits, max length "
                + maxSeqlen + ", on " + words.device() + (closed.get() ? ", closed" : "") + ")";
    }
}
