package io.infra4j.dualpipe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the executor relies on when it files a received payload under its receive op's (d, c): on
 * every link, the k-th message sent is the k-th one received, of the same kind, direction and chunk.
 * A communicator without tags (FIFO per ordered pair, as NCCL's and gloo's) can then not mix them up.
 */
class LinkOrderTest {
    @Test
    void everyLinkCarriesItsMessagesInTheOrderTheyAreReceived() {
        for (Variant variant : Variant.values()) {
            for (int ranks = variant == Variant.DUALPIPE ? 2 : 1; ranks <= 8; ranks += variant == Variant.DUALPIPE ? 2 : 1) {
                for (int chunks = 2 * ranks; chunks <= 2 * ranks + 6; chunks += variant == Variant.DUALPIPE ? 2 : 1) {
                    for (Mode mode : Mode.values()) {
                        check(variant, ranks, chunks, mode);
                    }
                }
            }
        }
    }

    private static void check(Variant variant, int ranks, int chunks, Mode mode) {
        Map<String, List<String>> sent = new HashMap<>();
        Map<String, List<String>> received = new HashMap<>();
        for (int r = 0; r < ranks; r++) {
            for (Op op : DualPipeSchedule.generate(variant, ranks, chunks, r, mode)) {
                switch (op) {
                    case Op.SendForward s -> sent.computeIfAbsent(r + "->" + s.peer(), k -> new ArrayList<>()).add("F" + s.d() + "," + s.c());
                    case Op.SendBackward s -> sent.computeIfAbsent(r + "->" + s.peer(), k -> new ArrayList<>()).add("B" + s.d() + "," + s.c());
                    case Op.RecvForward v -> received.computeIfAbsent(v.peer() + "->" + r, k -> new ArrayList<>()).add("F" + v.d() + "," + v.c());
                    case Op.RecvBackward v -> received.computeIfAbsent(v.peer() + "->" + r, k -> new ArrayList<>()).add("B" + v.d() + "," + v.c());
                    default -> { }
                }
            }
        }
        assertEquals(sent, received, variant + " ranks=" + ranks + " chunks=" + chunks + " " + mode);
    }
}
