package io.infra4j.dualpipe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class InProcessCommunicatorTest {
    private static final Duration NO_HANG = Duration.ofSeconds(20);

    @Test
    void messagesBetweenTwoRanksArriveInOrder() {
        List<Communicator<Integer>> g = InProcessCommunicator.group(2);
        assertEquals(List.of(), g.get(0).exchange(List.of(Transfer.send(1, 1), Transfer.send(1, 2))));
        assertEquals(List.of(), g.get(0).exchange(List.of(Transfer.send(1, 3))));
        assertEquals(List.of(1, 2), g.get(1).exchange(List.of(Transfer.recv(0), Transfer.recv(0))));
        assertEquals(List.of(3), g.get(1).exchange(List.of(Transfer.recv(0))));
        assertEquals(0, g.get(0).rank());
        assertEquals(2, g.get(1).size());
    }

    @Test
    void receivesComeBackInBatchOrderAcrossPeers() throws Exception {
        List<Communicator<String>> g = InProcessCommunicator.group(3);
        assertTimeoutPreemptively(NO_HANG, () -> {
            CompletableFuture<List<String>> r1 = CompletableFuture.supplyAsync(
                    () -> g.get(1).exchange(List.of(Transfer.recv(0), Transfer.send(2, "1->2"), Transfer.send(0, "1->0"))));
            CompletableFuture<List<String>> r2 = CompletableFuture.supplyAsync(
                    () -> g.get(2).exchange(List.of(Transfer.recv(1), Transfer.send(0, "2->0"), Transfer.recv(0))));
            // Rank 0 waits for 2 first, then 1, while both wait for rank 0's sends in the same batch.
            List<String> got = g.get(0).exchange(List.of(Transfer.recv(2), Transfer.send(1, "0->1"), Transfer.recv(1),
                    Transfer.send(2, "0->2")));
            assertEquals(List.of("2->0", "1->0"), got);
            assertEquals(List.of("0->1"), r1.get());
            assertEquals(List.of("1->2", "0->2"), r2.get());
        });
    }

    @Test
    void aRankCanSendToItself() {
        List<Communicator<String>> g = InProcessCommunicator.group(1);
        assertEquals(List.of("x"), g.get(0).exchange(List.of(Transfer.recv(0), Transfer.send(0, "x"))));
        assertEquals(List.of(), g.get(0).exchange(List.of()));
    }

    @Test
    void theCopyFunctionIsolatesSenderAndReceiver() {
        List<Communicator<double[]>> g = InProcessCommunicator.group(2, double[]::clone, Duration.ofSeconds(5));
        double[] payload = {1, 2};
        g.get(0).exchange(List.of(Transfer.send(1, payload)));
        payload[0] = 99;
        assertArrayEquals(new double[] {1, 2}, g.get(1).exchange(List.<Transfer<double[]>>of(Transfer.recv(0))).get(0));
    }

    @Test
    void aTimeoutNamesBothRanks() {
        List<Communicator<String>> g = InProcessCommunicator.group(3, UnaryOperator.identity(), Duration.ofMillis(200));
        CommunicationException e = assertTimeoutPreemptively(NO_HANG,
                () -> assertThrows(CommunicationException.class, () -> g.get(2).exchange(List.of(Transfer.recv(1)))));
        assertTrue(e.getMessage().contains("rank 2") && e.getMessage().contains("rank 1") && e.getMessage().contains("timed out"),
                e.getMessage());
    }

    @Test
    void aPeerClosingEndsTheWaitForIt() {
        List<Communicator<String>> g = InProcessCommunicator.group(2);
        CompletableFuture<List<String>> waiting = CompletableFuture.supplyAsync(() -> g.get(0).exchange(List.of(Transfer.recv(1))));
        sleep(100);
        g.get(1).close();
        ExecutionException e = assertTimeoutPreemptively(NO_HANG, () -> assertThrows(ExecutionException.class, waiting::get));
        assertTrue(e.getCause() instanceof CommunicationException, e.toString());
        assertTrue(e.getCause().getMessage().contains("rank 1 closed"), e.getCause().getMessage());
    }

    @Test
    void closingARankFromAnotherThreadEndsItsWait() {
        List<Communicator<String>> g = InProcessCommunicator.group(3);
        CompletableFuture<List<String>> waiting = CompletableFuture.supplyAsync(() -> g.get(0).exchange(List.of(Transfer.recv(2))));
        sleep(100);
        g.get(0).close();
        ExecutionException e = assertTimeoutPreemptively(NO_HANG, () -> assertThrows(ExecutionException.class, waiting::get));
        assertTrue(e.getCause() instanceof CommunicationException, e.toString());
        assertThrows(CommunicationException.class, () -> g.get(0).exchange(List.of()));
    }

    @Test
    void messagesSentBeforeClosingStayReadable() {
        List<Communicator<String>> g = InProcessCommunicator.group(2);
        g.get(1).exchange(List.of(Transfer.send(0, "last words")));
        g.get(1).close();
        assertEquals(List.of("last words"), g.get(0).exchange(List.of(Transfer.recv(1))));
        CommunicationException e = assertThrows(CommunicationException.class, () -> g.get(0).exchange(List.of(Transfer.send(1, "x"))));
        assertTrue(e.getMessage().contains("cannot send to rank 1"), e.getMessage());
    }

    @Test
    void badArgumentsAreRefused() {
        List<Communicator<String>> g = InProcessCommunicator.group(2);
        assertThrows(IllegalArgumentException.class, () -> g.get(0).exchange(List.of(Transfer.recv(2))));
        assertThrows(IllegalArgumentException.class, () -> g.get(0).exchange(List.of(Transfer.send(-1, "x"))));
        assertThrows(IllegalArgumentException.class, () -> g.get(0).exchange(null));
        assertThrows(IllegalArgumentException.class, () -> InProcessCommunicator.group(0));
        assertThrows(IllegalArgumentException.class, () -> InProcessCommunicator.group(2, UnaryOperator.<String>identity(), Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> InProcessCommunicator.<String>group(2, null, Duration.ofSeconds(1)));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
