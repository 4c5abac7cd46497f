package io.infra4j.dualpipe;

import java.util.List;

/**
 * How pipeline ranks exchange activations and gradients: as upstream's {@code batch_isend_irecv}
 * followed by waiting on every request, a batch is posted whole, started, and waited for. Messages
 * between two ranks arrive in the order they were sent (FIFO per ordered pair), which is what the
 * schedules rely on. One communicator object serves one rank.
 *
 * @param <T> the payload: e.g. arrays for CPU ranks, device tensors for NCCL ranks
 */
public interface Communicator<T> extends AutoCloseable {
    /** This rank, in [0, size). */
    int rank();

    /** The number of ranks. */
    int size();

    /**
     * Starts every transfer of {@code batch} and waits until all are done; returns what the
     * receives got, in the order the receives appear in the batch. An empty batch returns at once.
     *
     * @throws CommunicationException when a peer failed, the wait timed out, or the transport broke
     */
    List<T> exchange(List<Transfer<T>> batch);

    @Override
    void close();
}
