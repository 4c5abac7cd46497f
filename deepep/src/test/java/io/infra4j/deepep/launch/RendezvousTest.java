package io.infra4j.deepep.launch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Ranks as threads of this process, meeting on a free local port. */
class RendezvousTest {
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static RankEnvironment env(int rank, int world, int port) {
        return new RankEnvironment(rank, world, rank, "127.0.0.1", port);
    }

    private Future<byte[]> rank(int rank, int world, int port, byte[] payload, Duration timeout) {
        return pool.submit(() -> Rendezvous.share(env(rank, world, port), payload, timeout));
    }

    @Test
    void everyRankGetsRankZerosBytesEvenWhenRankZeroComesLast() throws Exception {
        for (int world : new int[] {2, 4, 8}) {
            int port = freePort();
            byte[] id = new byte[128];
            for (int i = 0; i < id.length; i++) {
                id[i] = (byte) (i * 7 + world);
            }
            List<Future<byte[]>> others = new ArrayList<>();
            for (int r = 1; r < world; r++) {
                others.add(rank(r, world, port, null, Duration.ofSeconds(20)));
            }
            Thread.sleep(200); // the others are already retrying when rank 0 starts listening
            byte[] mine = Rendezvous.share(env(0, world, port), id, Duration.ofSeconds(20));
            assertArrayEquals(id, mine);
            for (Future<byte[]> f : others) {
                assertArrayEquals(id, f.get());
            }
        }
    }

    @Test
    void aWorldOfOneNeedsNoNetwork() {
        byte[] id = {1, 2, 3};
        assertArrayEquals(id, Rendezvous.share(RankEnvironment.single(), id, Duration.ofMillis(1)));
    }

    @Test
    void rankZeroNamesTheRanksItWaitedFor() throws Exception {
        int port = freePort();
        Future<byte[]> one = rank(1, 4, port, null, Duration.ofSeconds(10));
        RendezvousException e = assertThrows(RendezvousException.class,
                () -> Rendezvous.share(env(0, 4, port), new byte[16], Duration.ofMillis(1500)));
        assertTrue(e.getMessage().contains("for ranks [2, 3] of 4"), e.getMessage());
        ExecutionException joined = assertThrows(ExecutionException.class, one::get);
        assertTrue(joined.getCause() instanceof RendezvousException, joined.getCause().toString());
        assertTrue(joined.getCause().getMessage().contains("closed the connection"), joined.getCause().getMessage());
    }

    @Test
    void aRankThatCannotReachRankZeroSaysWhere() throws Exception {
        int port = freePort();
        RendezvousException e = assertThrows(RendezvousException.class,
                () -> Rendezvous.share(env(2, 4, port), null, Duration.ofMillis(600)));
        assertTrue(e.getMessage().contains("rank 2 could not reach rank 0 at 127.0.0.1:" + port), e.getMessage());
    }

    @Test
    void ranksThatDisagreeOnTheWorldSizeAreRefused() throws Exception {
        int port = freePort();
        Future<byte[]> wrong = rank(1, 3, port, null, Duration.ofSeconds(10));
        RendezvousException e = assertThrows(RendezvousException.class,
                () -> Rendezvous.share(env(0, 2, port), new byte[16], Duration.ofSeconds(10)));
        assertTrue(e.getMessage().contains("says the world has 3 ranks, rank 0 says 2"), e.getMessage());
        ExecutionException refused = assertThrows(ExecutionException.class, wrong::get);
        assertTrue(refused.getCause().getMessage().contains("rank 0 refused rank 1"), refused.getCause().getMessage());
    }

    @Test
    void twoProcessesClaimingOneRankAreRefused() throws Exception {
        int port = freePort();
        Future<byte[]> a = rank(1, 3, port, null, Duration.ofSeconds(10));
        Future<byte[]> b = rank(1, 3, port, null, Duration.ofSeconds(10));
        RendezvousException e = assertThrows(RendezvousException.class,
                () -> Rendezvous.share(env(0, 3, port), new byte[16], Duration.ofSeconds(10)));
        assertTrue(e.getMessage().contains("two processes claim rank 1"), e.getMessage());
        assertThrows(ExecutionException.class, a::get);
        assertThrows(ExecutionException.class, b::get);
    }

    @Test
    void badArgumentsAreRefusedBeforeAnyNetwork() {
        assertThrows(IllegalArgumentException.class, () -> Rendezvous.share(RankEnvironment.single(), new byte[1], Duration.ZERO));
        assertThrows(NullPointerException.class, () -> Rendezvous.share(RankEnvironment.single(), null, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class,
                () -> Rendezvous.share(RankEnvironment.single(), new byte[Rendezvous.MAX_PAYLOAD + 1], Duration.ofSeconds(1)));
    }
}
