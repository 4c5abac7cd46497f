package io.infra4j.threefs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.ResourceTracker;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The embedded USRBIO backend (io_uring) against FileChannel, on real files of this machine. */
class UsrbioEmbeddedTest {
    static Usrbio usrbio;
    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        usrbio = Usrbio.embedded();
    }

    @AfterEach
    void nothingLeaks() {
        for (String kind : List.of(UsrbioIov.RESOURCE_KIND, UsrbioRing.RESOURCE_KIND, RegisteredFile.RESOURCE_KIND)) {
            assertEquals(List.of(), ResourceTracker.live(kind), kind + " left open");
        }
    }

    static byte[] randomFile(Path p, int size, long seed) throws IOException {
        byte[] b = new byte[size];
        new SplittableRandom(seed).nextBytes(b);
        Files.write(p, b);
        return b;
    }

    static byte[] channelRead(Path p, long off, int len) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(len);
            while (buf.hasRemaining() && ch.read(buf, off + buf.position()) > 0) {
                // until the end of the file
            }
            byte[] out = new byte[buf.position()];
            buf.flip().get(out);
            return out;
        }
    }

    record Req(int file, long fileOffset, long iovOffset, int length) {}

    /**
     * Runs every request through the ring (as many at once as it holds, each in a free 64 KiB region of the
     * iov) and checks each against FileChannel. Returns how many were aligned for O_DIRECT.
     */
    static int readAndCheck(UsrbioRing ring, UsrbioIov iov, List<RegisteredFile> files, List<Req> reqs) throws IOException {
        Map<Long, Req> inFlight = new HashMap<>();
        java.util.ArrayDeque<Long> regions = new java.util.ArrayDeque<>();
        for (long r = 0; r < iov.size() >> 16; r++) {
            regions.add(r << 16);
        }
        int next = 0, done = 0, direct = 0;
        while (done < reqs.size()) {
            while (next < reqs.size() && !regions.isEmpty()) {
                Req r = reqs.get(next);
                Req placed = new Req(r.file(), r.fileOffset(), regions.peek(), r.length());
                int slot = ring.prepare(iov, placed.iovOffset(), files.get(r.file()), r.fileOffset(), r.length(), next);
                if (slot < 0) {
                    break;
                }
                regions.poll();
                inFlight.put((long) next, placed);
                if (r.fileOffset() % 4096 == 0 && r.length() % 4096 == 0) {
                    direct++;
                }
                next++;
            }
            ring.submit();
            for (Completion c : ring.await(1, Duration.ofSeconds(30))) {
                Req r = inFlight.remove(c.userData());
                byte[] want = channelRead(files.get(r.file()).path(), r.fileOffset(), r.length());
                assertEquals(want.length, c.result(), "bytes read for " + r);
                byte[] got = iov.segment().asSlice(r.iovOffset(), want.length).toArray(ValueLayout.JAVA_BYTE);
                assertArrayEquals(want, got, "data of " + r);
                regions.add(r.iovOffset());
                done++;
            }
        }
        return direct;
    }

    @ParameterizedTest(name = "ioDepth {0}")
    @ValueSource(ints = {0, 4, -3})
    void readsAtRandomOffsetsEqualFileChannelsOnes(int ioDepth) throws IOException {
        SplittableRandom rnd = new SplittableRandom(ioDepth + 100);
        List<Path> paths = new ArrayList<>();
        for (int f = 0; f < 5; f++) {
            Path p = dir.resolve("f" + f);
            randomFile(p, 1_000_000 + f * 123_457, f);
            paths.add(p);
        }
        String mp = usrbio.mountPointOf(dir);
        List<RegisteredFile> files = new ArrayList<>();
        try (UsrbioIov iov = usrbio.createIov(mp, 64 << 16, 0, -1);
                UsrbioRing ring = usrbio.createRing(mp, 64, true, ioDepth, Duration.ZERO, -1, 0)) {
            for (Path p : paths) {
                files.add(usrbio.register(p, RegisteredFile.Mode.READ));
            }
            List<Req> reqs = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                int f = rnd.nextInt(files.size());
                long size = Files.size(paths.get(f));
                boolean aligned = rnd.nextBoolean();
                long off = aligned ? rnd.nextLong(size / 4096 + 1) * 4096 : rnd.nextLong(size + 10);
                int len = aligned ? 4096 * (1 + rnd.nextInt(16)) : 1 + rnd.nextInt(65536);
                reqs.add(new Req(f, off, -1, len)); // its iov region is chosen when it goes
            }
            // With ioDepth n > 0 only whole batches of n go: keep the total a multiple of it.
            int direct = readAndCheck(ring, iov, files, reqs.subList(0, ioDepth > 0 ? reqs.size() / ioDepth * ioDepth : reqs.size()));
            assertTrue(direct > 0, "some requests were aligned for O_DIRECT");
        } finally {
            files.forEach(RegisteredFile::close);
        }
    }

    @Test
    void shortReadsAtTheEndAndReadsPastIt() throws IOException {
        Path p = dir.resolve("short");
        byte[] data = randomFile(p, 10_000, 7);
        String mp = usrbio.mountPointOf(dir);
        try (UsrbioIov iov = usrbio.createIov(mp, 1 << 20, 0, -1);
                UsrbioRing ring = usrbio.createRing(mp, 8, true, 0, Duration.ZERO, -1, 0);
                RegisteredFile f = usrbio.register(p, RegisteredFile.Mode.READ)) {
            ring.prepare(iov, 0, f, 8192, 4096, 1); // aligned: O_DIRECT, 1808 bytes left
            ring.prepare(iov, 8192, f, 9000, 5000, 2); // buffered, 1000 left
            ring.prepare(iov, 16384, f, 20_000, 100, 3); // past the end: 0
            ring.submit();
            Map<Long, Long> got = new HashMap<>();
            while (got.size() < 3) {
                ring.await(1, Duration.ofSeconds(10)).forEach(c -> got.put(c.userData(), c.result()));
            }
            assertEquals(Map.of(1L, 1808L, 2L, 1000L, 3L, 0L), got);
            byte[] tail = iov.segment().asSlice(0, 1808).toArray(ValueLayout.JAVA_BYTE);
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 8192, 10_000), tail);
        }
    }

    @Test
    void aWriteReportedCompleteIsOnDiskAfterFsync() throws IOException {
        Path p = dir.resolve("written");
        String mp = usrbio.mountPointOf(dir);
        byte[] want = new byte[1 << 20];
        new SplittableRandom(9).nextBytes(want);
        try (UsrbioIov iov = usrbio.createIov(mp, want.length, 0, -1);
                UsrbioRing ring = usrbio.createRing(mp, 32, false, 0, Duration.ZERO, -1, 0);
                RegisteredFile f = usrbio.register(p, RegisteredFile.Mode.WRITE)) {
            MemorySegment.copy(MemorySegment.ofArray(want), 0, iov.segment(), 0, want.length);
            // 16 chunks, aligned and not, written in a shuffled order
            int[] order = new SplittableRandom(10).ints(0, 16).distinct().limit(16).toArray();
            for (int i : order) {
                long off = i * 65536L + (i % 3 == 0 ? 0 : 0);
                assertTrue(ring.prepare(iov, off, f, off, i == 15 ? 65536 - 100 : 65536, i) >= 0);
            }
            ring.submit();
            int done = 0;
            while (done < 16) {
                for (Completion c : ring.await(1, Duration.ofSeconds(10))) {
                    assertEquals(c.userData() == 15 ? 65436 : 65536, c.result(), "bytes written by chunk " + c.userData());
                    done++;
                }
            }
            f.fsync();
        }
        byte[] got = Files.readAllBytes(p);
        assertEquals(want.length - 100, got.length);
        assertArrayEquals(java.util.Arrays.copyOf(want, want.length - 100), got);
    }

    @Test
    void aFullRingSaysSoAndATimeoutReturnsWhatIsThere() throws IOException {
        Path p = dir.resolve("full");
        randomFile(p, 1 << 16, 11);
        String mp = usrbio.mountPointOf(dir);
        try (UsrbioIov iov = usrbio.createIov(mp, 1 << 16, 0, -1);
                UsrbioRing ring = usrbio.createRing(mp, 4, true, 0, Duration.ZERO, -1, 0);
                RegisteredFile f = usrbio.register(p, RegisteredFile.Mode.READ)) {
            for (int i = 0; i < 4; i++) {
                assertTrue(ring.prepare(iov, i * 1000L, f, i * 1000L, 1000, i) >= 0);
            }
            assertEquals(-1, ring.prepare(iov, 0, f, 0, 10, 9), "a fifth I/O finds every slot taken");
            ring.submit();
            List<Completion> all = new ArrayList<>();
            while (all.size() < 4) {
                all.addAll(ring.await(4, Duration.ofSeconds(10)));
            }
            long t0 = System.nanoTime();
            assertEquals(List.of(), ring.await(2, Duration.ofMillis(200)), "nothing in flight: nothing comes");
            assertTrue(System.nanoTime() - t0 < 5_000_000_000L);
            assertTrue(ring.prepare(iov, 0, f, 0, 10, 9) >= 0, "slots come back with their completions");
            ring.submit();
            assertEquals(1, ring.await(1, Duration.ofSeconds(10)).size());
        }
    }

    @Test
    void ioDepthBatchesWaitForAWholeBatch() throws IOException {
        Path p = dir.resolve("depth");
        randomFile(p, 1 << 16, 12);
        String mp = usrbio.mountPointOf(dir);
        try (UsrbioIov iov = usrbio.createIov(mp, 1 << 16, 0, -1);
                UsrbioRing ring = usrbio.createRing(mp, 8, true, 4, Duration.ZERO, -1, 0);
                RegisteredFile f = usrbio.register(p, RegisteredFile.Mode.READ)) {
            for (int i = 0; i < 6; i++) {
                ring.prepare(iov, i * 100L, f, i * 100L, 100, i);
            }
            ring.submit();
            List<Completion> first = new ArrayList<>();
            while (first.size() < 4) {
                first.addAll(ring.await(4, Duration.ofSeconds(10)));
            }
            assertEquals(4, first.size(), "one whole batch of 4 went first; 2 waited for more");
            // Nothing else in flight: the partial batch goes rather than waiting for ever (3FS would wait for a
            // timeout; here a waiter with nothing to wait for gets it sent).
            List<Completion> rest = new ArrayList<>();
            while (rest.size() < 2) {
                rest.addAll(ring.await(2, Duration.ofSeconds(10)));
            }
            assertEquals(List.of(4L, 5L), rest.stream().map(Completion::userData).sorted().toList());
        }
    }

    @Test
    void badArgumentsAreJavaExceptionsBeforeTheLibrary() throws IOException {
        Path p = dir.resolve("bad");
        randomFile(p, 4096, 13);
        String mp = usrbio.mountPointOf(dir);
        UsrbioRing ring = usrbio.createRing(mp, 4, true, 0, Duration.ZERO, -1, 0);
        UsrbioIov iov = usrbio.createIov(mp, 8192, 4096, -1);
        RegisteredFile f = usrbio.register(p, RegisteredFile.Mode.READ);
        try (RegisteredFile w = usrbio.register(dir.resolve("w"), RegisteredFile.Mode.WRITE)) {
            assertThrows(IllegalArgumentException.class, () -> ring.prepare(iov, 0, f, 0, 0, 0), "zero length");
            assertThrows(IllegalArgumentException.class, () -> ring.prepare(iov, 8000, f, 0, 1000, 0), "outside the iov");
            assertThrows(IllegalArgumentException.class, () -> ring.prepare(iov, 4000, f, 0, 1000, 0), "across a block");
            assertThrows(IllegalArgumentException.class, () -> ring.prepare(iov, 0, f, -1, 10, 0), "negative offset");
            assertThrows(IllegalArgumentException.class, () -> ring.prepare(iov, 0, w, 0, 10, 0), "a write-only file on a read ring");
            assertThrows(IllegalArgumentException.class, () -> ring.await(5, Duration.ZERO), "more results than entries");
            assertThrows(IllegalArgumentException.class, () -> usrbio.createRing(mp, 4, true, 5, Duration.ZERO, -1, 0));
            assertThrows(IllegalArgumentException.class, () -> usrbio.createIov(mp, 0, 0, -1));
            assertThrows(IllegalArgumentException.class, () -> usrbio.createIov("", 10, 0, -1));
            UsrbioException missing = assertThrows(UsrbioException.class, () -> usrbio.register(dir.resolve("absent"), RegisteredFile.Mode.READ));
            assertEquals(Errno.ENOENT, missing.errno(), missing.getMessage());
            UsrbioException aDir = assertThrows(UsrbioException.class, () -> usrbio.register(dir, RegisteredFile.Mode.READ));
            assertTrue(aDir.getMessage().contains("EBADF") || aDir.getMessage().contains("EISDIR"), aDir.getMessage());
        } finally {
            f.close();
            IllegalStateException deregistered = assertThrows(IllegalStateException.class, () -> ring.prepare(iov, 0, f, 0, 10, 0));
            assertTrue(deregistered.getMessage().contains("closed"), deregistered.getMessage());
            iov.close();
            assertThrows(IllegalStateException.class, () -> ring.prepare(iov, 0, f, 0, 10, 0));
            ring.close();
            assertThrows(IllegalStateException.class, ring::submit);
            assertThrows(IllegalStateException.class, () -> ring.await(0, Duration.ZERO));
        }
    }

    @Test
    void anIovOpensByIdAndWrapsCallersMemory() throws IOException {
        Path p = dir.resolve("wrapped");
        byte[] data = randomFile(p, 50_000, 14);
        String mp = usrbio.mountPointOf(dir);
        try (UsrbioIov a = usrbio.createIov(mp, 1 << 16, 0, -1); UsrbioIov b = usrbio.openIov(a.id(), mp, 1 << 16, 0, -1)) {
            a.segment().set(ValueLayout.JAVA_LONG, 8, 0x1234_5678_9abc_def0L);
            assertEquals(0x1234_5678_9abc_def0L, b.segment().get(ValueLayout.JAVA_LONG, 8), "one shared memory, two mappings");
            assertArrayEquals(a.id(), b.id());
        }
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment mine = arena.allocate(1 << 16, 4096);
            try (UsrbioIov w = usrbio.wrapIov(mine, new byte[16], mp, 0, -1);
                    UsrbioRing ring = usrbio.createRing(mp, 2, true, 0, Duration.ZERO, -1, 0);
                    RegisteredFile f = usrbio.register(p, RegisteredFile.Mode.READ)) {
                ring.prepare(w, 4096, f, 100, 4000, 1);
                ring.submit();
                assertEquals(4000, ring.await(1, Duration.ofSeconds(10)).get(0).result());
            }
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 100, 4100), mine.asSlice(4096, 4000).toArray(ValueLayout.JAVA_BYTE),
                    "read into the caller's memory, which outlives the iov");
        }
        assertThrows(IllegalArgumentException.class, () -> usrbio.openIov(new byte[15], usrbio.mountPointOf(dir), 10, 0, -1));
        UsrbioException absent = assertThrows(UsrbioException.class, () -> usrbio.openIov(new byte[16], usrbio.mountPointOf(dir), 10, 0, -1));
        assertEquals(Errno.ENOENT, absent.errno(), absent.getMessage());
    }

    @Test
    void anIoPreparedBeforeItsFileClosesStillReadsThatFile() throws IOException {
        Path x = dir.resolve("x");
        Path y = dir.resolve("y");
        Files.write(x, new byte[] {'X', 'X', 'X'});
        Files.write(y, new byte[] {'Y', 'Y', 'Y'});
        String mp = usrbio.mountPointOf(dir);
        try (UsrbioIov iov = usrbio.createIov(mp, 4096, 0, -1); UsrbioRing ring = usrbio.createRing(mp, 2, true, 0, Duration.ZERO, -1, 0)) {
            RegisteredFile fx = usrbio.register(x, RegisteredFile.Mode.READ);
            ring.prepare(iov, 0, fx, 0, 3, 1);
            fx.close(); // deregistered and closed before the I/O is submitted: its number may be reused now
            try (RegisteredFile fy = usrbio.register(y, RegisteredFile.Mode.READ)) {
                ring.submit();
                assertEquals(3, ring.await(1, Duration.ofSeconds(10)).get(0).result());
                assertEquals('X', iov.segment().get(ValueLayout.JAVA_BYTE, 0), "the file it was prepared on, not the one after it");
            }
        }
        UsrbioIov closed = usrbio.createIov(usrbio.mountPointOf(dir), 4096, 0, -1);
        MemorySegment kept = closed.segment();
        closed.close();
        assertThrows(IllegalStateException.class, () -> kept.get(ValueLayout.JAVA_BYTE, 0), "a slice kept past close fails in Java");
    }

    @Test
    void backendsAreChosenByPath() {
        assertEquals(Usrbio.Backend.EMBEDDED, Usrbio.forPath(dir).backend());
        assertFalse(Usrbio.onHf3fsMount(dir));
        if (!Usrbio.isHf3fsAvailable()) {
            UsrbioUnavailableException e = assertThrows(UsrbioUnavailableException.class, Usrbio::hf3fs);
            assertTrue(e.getMessage().contains("libhf3fs_api_shared.so"), e.getMessage());
        }
        assertFalse(usrbio.mountPointOf(dir).isEmpty());
    }
}
