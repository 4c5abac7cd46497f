package io.infra4j.dualpipe;

/** One point-to-point transfer of a batch: a send of a payload to a peer, or a receive from one. */
public sealed interface Transfer<T> {
    int peer();

    /** Sends {@code payload} to {@code peer}. */
    record Send<T>(int peer, T payload) implements Transfer<T> {}

    /** Receives the next message from {@code peer}. */
    record Recv<T>(int peer) implements Transfer<T> {}

    static <T> Transfer<T> send(int peer, T payload) {
        return new Send<>(peer, payload);
    }

    static <T> Transfer<T> recv(int peer) {
        return new Recv<>(peer);
    }
}
