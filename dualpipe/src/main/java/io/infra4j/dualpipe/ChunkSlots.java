package io.infra4j.dualpipe;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Payloads of one kind (inputs, outputs, output gradients, input gradients) waiting for the op that
 * uses them, keyed by (direction, micro-batch). Each is filed once and taken once; anything else
 * means the ops and the data disagree, and fails loudly rather than computing with the wrong chunk.
 */
final class ChunkSlots<T> {
    private final String kind;
    private final int rank;
    private final List<Map<Integer, T>> byDirection = List.of(new TreeMap<>(), new TreeMap<>());

    ChunkSlots(String kind, int rank) {
        this.kind = kind;
        this.rank = rank;
    }

    void put(int d, int c, T payload) {
        if (payload == null) {
            throw new IllegalStateException("rank " + rank + ": null " + kind + " for (" + d + "," + c + ")");
        }
        if (byDirection.get(d).putIfAbsent(c, payload) != null) {
            throw new IllegalStateException("rank " + rank + ": " + kind + " of (" + d + "," + c + ") filed twice");
        }
    }

    T take(int d, int c) {
        T payload = byDirection.get(d).remove(c);
        if (payload == null) {
            throw new IllegalStateException("rank " + rank + ": no " + kind + " of (" + d + "," + c + ") when an op needs it");
        }
        return payload;
    }

    /** The (d,c) still held, e.g. "inputs (0,3) (1,2)"; empty when none. */
    String leftovers() {
        List<String> left = new ArrayList<>();
        for (int d = 0; d < 2; d++) {
            for (int c : byDirection.get(d).keySet()) {
                left.add("(" + d + "," + c + ")");
            }
        }
        return left.isEmpty() ? "" : kind + " " + String.join(" ", left);
    }
}
