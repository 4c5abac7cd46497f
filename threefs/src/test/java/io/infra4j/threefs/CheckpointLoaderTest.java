package io.infra4j.threefs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.ResourceTracker;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writer and loader round trips on the host: every dtype and shape, big and many tensors, bytes compared exactly. */
class CheckpointLoaderTest {
    static final List<String> KINDS = List.of(UsrbioIov.RESOURCE_KIND, UsrbioRing.RESOURCE_KIND, RegisteredFile.RESOURCE_KIND, "host-memory");

    @TempDir
    Path dir;
    Set<Long> before;

    @BeforeEach
    void remember() {
        before = live();
    }

    @AfterEach
    void nothingLeaks() {
        Set<Long> now = live();
        now.removeAll(before);
        assertEquals(Set.of(), now, "left open: " + ResourceTracker.live().stream().filter(e -> now.contains(e.id())).toList());
    }

    static Set<Long> live() {
        return KINDS.stream().flatMap(k -> ResourceTracker.live(k).stream()).map(ResourceTracker.Entry::id).collect(Collectors.toSet());
    }

    record Want(DType dtype, long[] shape, byte[] bytes) {}

    static Want random(SplittableRandom r, DType dtype, long... shape) {
        long n = dtype.byteSize();
        for (long s : shape) {
            n *= s;
        }
        byte[] b = new byte[(int) n];
        r.nextBytes(b);
        return new Want(dtype, shape, b);
    }

    Path write(String name, Map<String, Want> tensors) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        tensors.forEach((n, t) -> w.add(n, t.dtype(), t.shape(), t.bytes()));
        Path p = dir.resolve(name);
        long size = w.write(p);
        assertEquals(Files.size(p), size);
        return p;
    }

    static void assertLoaded(Map<String, Want> want, LoadedCheckpoint got) {
        assertEquals(List.copyOf(want.keySet()), List.copyOf(got.tensors().keySet()), "names in file order");
        for (var e : want.entrySet()) {
            Tensor t = got.tensor(e.getKey());
            Want w = e.getValue();
            assertEquals(w.dtype(), t.dtype(), e.getKey());
            assertArrayEquals(w.shape(), t.shape(), e.getKey());
            assertEquals(Device.CPU, t.device());
            assertTrue(t.isContiguous());
            byte[] b = t.segment().toArray(ValueLayout.JAVA_BYTE);
            if (!Arrays.equals(w.bytes(), b)) {
                int i = Arrays.mismatch(w.bytes(), b);
                throw new AssertionError(e.getKey() + ": " + w.bytes().length + " bytes expected, " + b.length + " loaded, first difference at "
                        + i);
            }
        }
    }

    @Test
    void everyDTypeAndShapeRoundTrips() throws IOException {
        SplittableRandom r = new SplittableRandom(11);
        long[][] shapes = {{}, {0}, {1}, {7}, {3, 0, 2}, {13, 5}, {2, 3, 5, 7}, {1, 1, 1}, {4097}};
        Map<String, Want> want = new LinkedHashMap<>();
        for (DType d : DType.values()) {
            for (long[] s : shapes) {
                want.put(d.name().toLowerCase() + ".shape" + Arrays.toString(s), random(r, d, s));
            }
        }
        Path p = write("all.safetensors", want);
        AtomicLong progress = new AtomicLong();
        try (LoadedCheckpoint c = CheckpointLoader.load(p, Device.CPU, null, CheckpointLoader.Options.defaults().withProgress(progress::addAndGet))) {
            assertLoaded(want, c);
            assertEquals(Map.of("format", "pt"), c.metadata());
            assertEquals(c.header().dataBytes(), c.bytes());
            assertEquals(c.bytes(), progress.get(), "progress hears of every data byte, once");
            assertTrue(c.seconds() >= c.readSeconds() && c.readSeconds() > 0);
        }
    }

    @Test
    void tensorsLargerThanAChunkAndThanAPieceRoundTrip() throws IOException {
        SplittableRandom r = new SplittableRandom(12);
        Map<String, Want> want = new LinkedHashMap<>();
        want.put("odd", random(r, DType.U8, 5)); // the rest starts unaligned
        want.put("embed", random(r, DType.BF16, 1000, 1537)); // ~3 MB: several pieces
        want.put("w1", random(r, DType.F32, 333, 777));
        want.put("w2", random(r, DType.F8_E4M3, 123_457));
        want.put("bias", random(r, DType.I64, 3));
        want.put("w3", random(r, DType.I32, 65_536 + 1));
        Path p = write("big.safetensors", want);
        // Chunks of 16 KiB, 4 in flight: an iov of 64 KiB, pieces of 64..256 KiB.
        for (int threads : new int[] {1, 3, 8}) {
            AtomicLong progress = new AtomicLong();
            try (LoadedCheckpoint c = CheckpointLoader.load(p, new CheckpointLoader.Options(threads, 4, 16 << 10, progress::addAndGet))) {
                assertLoaded(want, c);
                assertEquals(c.bytes(), progress.get());
            }
        }
    }

    @Test
    void manySmallTensorsRoundTrip() throws IOException {
        SplittableRandom r = new SplittableRandom(13);
        Map<String, Want> want = new LinkedHashMap<>();
        DType[] dtypes = DType.values();
        for (int i = 0; i < 3000; i++) {
            DType d = dtypes[r.nextInt(dtypes.length)];
            want.put("layers." + i + ".w", random(r, d, r.nextInt(0, 40), 1 + r.nextInt(3)));
        }
        Path p = write("many.safetensors", want);
        try (LoadedCheckpoint c = CheckpointLoader.load(p, new CheckpointLoader.Options(4, 2, 4096, null))) {
            assertLoaded(want, c);
        }
        try (LoadedCheckpoint c = CheckpointLoader.load(p, CheckpointLoader.Options.defaults())) {
            assertLoaded(want, c);
        }
    }

    @Test
    void randomLayoutsAndReadingOptionsRoundTrip() throws IOException {
        SplittableRandom r = new SplittableRandom(20);
        DType[] dtypes = DType.values();
        int[] depths = {2, 4, 8};
        int[] chunks = {4096, 8192, 12288, 65536};
        for (int round = 0; round < 16; round++) {
            Map<String, Want> want = new LinkedHashMap<>();
            int count = 1 + r.nextInt(60);
            for (int i = 0; i < count; i++) {
                DType d = dtypes[r.nextInt(dtypes.length)];
                long n = r.nextInt(4) == 0 ? r.nextInt(3) : r.nextInt(200_000 / d.byteSize());
                want.put("r" + round + ".t" + i, random(r, d, n));
            }
            Path p = write("random" + round + ".safetensors", want);
            CheckpointLoader.Options o = new CheckpointLoader.Options(1 + r.nextInt(5), depths[r.nextInt(depths.length)],
                    chunks[r.nextInt(chunks.length)], null);
            try (LoadedCheckpoint c = CheckpointLoader.load(p, o)) {
                assertLoaded(want, c);
            } catch (AssertionError e) {
                throw new AssertionError("round " + round + " with " + o + ": " + e.getMessage(), e);
            }
        }
    }

    @Test
    void generatedTensorsEqualTheirBytes() throws IOException {
        SplittableRandom r = new SplittableRandom(14);
        Want w = random(r, DType.F16, 5_000_000); // 10 MB: the writer's generator fills several 8 MB pieces
        Path p = dir.resolve("gen.safetensors");
        new SafetensorsWriter().add("g", DType.F16, w.shape(), (offset, piece) ->
                piece.copyFrom(java.lang.foreign.MemorySegment.ofArray(w.bytes()).asSlice(offset, piece.byteSize()))).write(p);
        try (LoadedCheckpoint c = CheckpointLoader.load(p, CheckpointLoader.Options.defaults())) {
            assertLoaded(Map.of("g", w), c);
        }
    }

    @Test
    void hostTensorsAndSegmentsWriteTheirBytes() throws IOException {
        SplittableRandom r = new SplittableRandom(15);
        Want a = random(r, DType.F32, 6, 7);
        Path p = dir.resolve("t.safetensors");
        try (Tensor t = Tensor.empty(DType.F32, Device.CPU, 6, 7)) {
            t.segment().copyFrom(java.lang.foreign.MemorySegment.ofArray(a.bytes()));
            new SafetensorsWriter().add("t", t).write(p);
        }
        try (LoadedCheckpoint c = CheckpointLoader.load(p, CheckpointLoader.Options.defaults())) {
            assertLoaded(Map.of("t", a), c);
        }
    }

    @Test
    void anEmptyCheckpointLoadsNothing() throws IOException {
        Path none = write("none.safetensors", Map.of());
        try (LoadedCheckpoint c = CheckpointLoader.load(none, CheckpointLoader.Options.defaults())) {
            assertEquals(0, c.tensors().size());
            assertEquals(0, c.bytes());
        }
        Map<String, Want> empties = new LinkedHashMap<>();
        empties.put("e0", new Want(DType.F32, new long[] {0}, new byte[0]));
        empties.put("e1", new Want(DType.I8, new long[] {4, 0}, new byte[0]));
        try (LoadedCheckpoint c = CheckpointLoader.load(write("empties.safetensors", empties), CheckpointLoader.Options.defaults())) {
            assertLoaded(empties, c);
        }
    }

    @Test
    void closingTheCheckpointClosesItsTensors() throws IOException {
        Map<String, Want> want = Map.of("x", random(new SplittableRandom(16), DType.U8, 100));
        LoadedCheckpoint c = CheckpointLoader.load(write("c.safetensors", want), CheckpointLoader.Options.defaults());
        Tensor x = c.tensor("x");
        c.close();
        assertTrue(x.isClosed());
        assertTrue(c.isClosed());
        assertThrows(IllegalStateException.class, c::tensors);
        c.close(); // idempotent
    }

    @Test
    void aFailureWhileReadingReleasesEverything() throws IOException {
        SplittableRandom r = new SplittableRandom(17);
        Map<String, Want> want = new LinkedHashMap<>();
        for (int i = 0; i < 20; i++) {
            want.put("t" + i, random(r, DType.BF16, 50_000));
        }
        Path p = write("fail.safetensors", want);
        AtomicLong seen = new AtomicLong();
        RuntimeException boom = assertThrows(RuntimeException.class, () -> CheckpointLoader.load(p, new CheckpointLoader.Options(3, 4,
                16 << 10, n -> {
                    if (seen.addAndGet(n) > 500_000) {
                        throw new IllegalStateException("stop here");
                    }
                })));
        assertEquals("stop here", boom.getMessage());
        // nothingLeaks checks that the tensors, iovs, rings and files are gone
    }

    @Test
    void aBadFileIsRejectedBeforeAnythingIsAllocated() throws IOException {
        Path p = write("ok.safetensors", Map.of("x", random(new SplittableRandom(18), DType.U8, 100)));
        byte[] b = Files.readAllBytes(p);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(b, b.length - 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CheckpointLoader.load(cut,
                CheckpointLoader.Options.defaults()));
        assertTrue(e.getMessage().contains("'x'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CheckpointLoader.load(p, Device.cuda(0), null, CheckpointLoader.Options.defaults()));
    }

    @Test
    void piecesAreAlignedAndCoverTheData() throws IOException {
        Map<String, Want> want = new LinkedHashMap<>();
        want.put("a", random(new SplittableRandom(19), DType.U8, 1_234_567));
        Path p = write("pieces.safetensors", want);
        SafetensorsHeader h = SafetensorsHeader.read(p);
        for (int threads : new int[] {1, 2, 7, 64}) {
            CheckpointLoader.Options o = new CheckpointLoader.Options(threads, 4, 16 << 10, null);
            List<ParallelFileReader.Range> pieces = CheckpointLoader.pieces(p, h, o);
            long at = pieces.get(0).offset();
            assertTrue(at <= h.dataStart() && at % 4096 == 0);
            List<Long> lengths = new ArrayList<>();
            for (ParallelFileReader.Range r : pieces) {
                assertEquals(at, r.offset());
                assertEquals(0, r.offset() % 4096);
                at += r.length();
                lengths.add(r.length());
            }
            assertEquals(Files.size(p), at);
            long longest = lengths.stream().mapToLong(Long::longValue).max().orElseThrow();
            assertTrue(longest >= 4 * (16 << 10) && longest <= 16 * (16 << 10), "pieces of one to four iovs: " + lengths);
        }
        assertFalse(CheckpointLoader.pieces(p, h, CheckpointLoader.Options.defaults()).isEmpty());
    }

    @Test
    void theWriterRejectsBadEntries() {
        SafetensorsWriter w = new SafetensorsWriter().add("a", DType.U8, new long[] {2}, new byte[2]);
        assertThrows(IllegalArgumentException.class, () -> w.add("a", DType.U8, new long[] {2}, new byte[2]));
        assertThrows(IllegalArgumentException.class, () -> w.add("b", DType.F32, new long[] {2}, new byte[7]));
        assertThrows(IllegalArgumentException.class, () -> w.add("__metadata__", DType.U8, new long[] {1}, new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> w.add("c", DType.U8, new long[] {-1}, new byte[0]));
    }
}
