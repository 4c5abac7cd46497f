package io.infra4j.dualpipe;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;

/**
 * A communicator for ranks that are threads of one process. Each ordered pair of ranks has an
 * unbounded FIFO queue: a send never blocks, so posting a whole batch and then waiting for its
 * receives cannot deadlock on a schedule that is deadlock-free with batched posts (DualPipe's are).
 *
 * <p>Payloads pass by reference unless the group was made with a copy function, which is applied
 * to each payload when it is sent: give one for mutable payloads ({@code double[][]}, say), so that
 * neither side can change what the other holds. Without one, payloads must not be modified once sent.
 *
 * <p>A receive waits at most the group's timeout, and ends at once with a
 * {@link CommunicationException} when the peer it waits for, or its own communicator, is closed
 * (a rank that fails closes its communicator; a rank waiting for it then fails and closes its own,
 * and so on, so no rank is left waiting).
 */
public final class InProcessCommunicator<T> implements Communicator<T> {
    /** How long a receive waits when the group was made without a timeout. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private final Group<T> group;
    private final int rank;

    private InProcessCommunicator(Group<T> group, int rank) {
        this.group = group;
        this.rank = rank;
    }

    /** A group of {@code size} ranks whose payloads are passed as they are (immutable ones); the default timeout. */
    public static <T> List<Communicator<T>> group(int size) {
        return group(size, UnaryOperator.identity(), DEFAULT_TIMEOUT);
    }

    /**
     * A group of {@code size} ranks, communicator i serving rank i.
     *
     * @param copy    applied to every payload as it is sent ({@link UnaryOperator#identity()} for immutable ones)
     * @param timeout the longest a receive waits
     */
    public static <T> List<Communicator<T>> group(int size, UnaryOperator<T> copy, Duration timeout) {
        if (size < 1) {
            throw new IllegalArgumentException("size must be at least 1, got " + size);
        }
        if (copy == null) {
            throw new IllegalArgumentException("copy is null (use UnaryOperator.identity() for immutable payloads)");
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        Group<T> group = new Group<>(size, copy, timeout);
        List<Communicator<T>> members = new ArrayList<>();
        for (int r = 0; r < size; r++) {
            members.add(new InProcessCommunicator<>(group, r));
        }
        return List.copyOf(members);
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return group.size;
    }

    @Override
    public List<T> exchange(List<Transfer<T>> batch) {
        if (batch == null) {
            throw new IllegalArgumentException("batch is null");
        }
        int receives = 0;
        for (Transfer<T> t : batch) {
            if (t == null) {
                throw new IllegalArgumentException("rank " + rank + ": a transfer of the batch is null");
            }
            if (t.peer() < 0 || t.peer() >= group.size) {
                throw new IllegalArgumentException("rank " + rank + ": peer " + t.peer() + " out of [0, " + group.size + ")");
            }
            if (t instanceof Transfer.Send<T> s && s.payload() == null) {
                throw new IllegalArgumentException("rank " + rank + ": the send to rank " + t.peer() + " has a null payload");
            }
            receives += t instanceof Transfer.Recv<T> ? 1 : 0;
        }
        return group.exchange(rank, batch, receives);
    }

    /** Leaves the group: this rank's waits end, and so do its peers' waits for messages it never sent. */
    @Override
    public void close() {
        group.close(rank);
    }

    /** The state the ranks share: the queues, who has closed, one lock for all. */
    private static final class Group<T> {
        final int size;
        final UnaryOperator<T> copy;
        final Duration timeout;
        final ReentrantLock lock = new ReentrantLock();
        final Condition changed = lock.newCondition();
        final List<ArrayDeque<T>> queues = new ArrayList<>(); // [src * size + dst]
        final boolean[] closed;

        Group(int size, UnaryOperator<T> copy, Duration timeout) {
            this.size = size;
            this.copy = copy;
            this.timeout = timeout;
            this.closed = new boolean[size];
            for (int i = 0; i < size * size; i++) {
                queues.add(new ArrayDeque<>());
            }
        }

        ArrayDeque<T> queue(int src, int dst) {
            return queues.get(src * size + dst);
        }

        List<T> exchange(int rank, List<Transfer<T>> batch, int receives) {
            // Copy outside the lock: it may be slow, and the payloads are still the sender's alone.
            List<T> copies = new ArrayList<>();
            for (Transfer<T> t : batch) {
                if (t instanceof Transfer.Send<T> s) {
                    copies.add(copy.apply(s.payload()));
                }
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            List<T> received = new ArrayList<>(receives);
            lock.lock();
            try {
                if (closed[rank]) {
                    throw new CommunicationException("rank " + rank + ": the communicator is closed");
                }
                int sent = 0;
                for (Transfer<T> t : batch) {
                    if (t instanceof Transfer.Send<T>) {
                        if (closed[t.peer()]) {
                            throw new CommunicationException("rank " + rank + ": cannot send to rank " + t.peer()
                                    + ", which has closed its communicator");
                        }
                        queue(rank, t.peer()).addLast(copies.get(sent++));
                    }
                }
                changed.signalAll();
                int k = 0;
                for (Transfer<T> t : batch) {
                    if (t instanceof Transfer.Recv<T>) {
                        received.add(awaitMessage(rank, t.peer(), ++k, receives, deadline));
                    }
                }
                return received;
            } finally {
                lock.unlock();
            }
        }

        /** Waits, holding the lock, for the next message from {@code peer} to {@code rank}. */
        private T awaitMessage(int rank, int peer, int k, int receives, long deadline) {
            ArrayDeque<T> queue = queue(peer, rank);
            String which = "receive " + k + " of " + receives + " in its batch, from rank " + peer;
            while (queue.isEmpty()) {
                if (closed[rank]) {
                    throw new CommunicationException("rank " + rank + ": the communicator was closed while waiting (" + which + ")");
                }
                if (closed[peer]) {
                    throw new CommunicationException("rank " + rank + ": rank " + peer
                            + " closed its communicator without sending what it waits for (" + which + ")");
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new CommunicationException("rank " + rank + ": timed out after " + timeout.toMillis() + " ms waiting for rank "
                            + peer + " (" + which + ")");
                }
                try {
                    changed.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CommunicationException("rank " + rank + ": interrupted while waiting for rank " + peer + " (" + which + ")", e);
                }
            }
            return queue.removeFirst();
        }

        void close(int rank) {
            lock.lock();
            try {
                closed[rank] = true; // messages it already sent stay readable by their receivers
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }
}
