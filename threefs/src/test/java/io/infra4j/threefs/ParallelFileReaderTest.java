package io.infra4j.threefs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ParallelFileReader: many ranges of many files, in order per range, against the files' bytes. */
class ParallelFileReaderTest {
    @TempDir
    Path dir;

    @Test
    void everyRangeArrivesWholeAndInOrder() throws IOException {
        SplittableRandom r = new SplittableRandom(3);
        List<Path> paths = new ArrayList<>();
        List<byte[]> contents = new ArrayList<>();
        for (int f = 0; f < 6; f++) {
            byte[] b = new byte[100_000 + r.nextInt(3_000_000)];
            r.nextBytes(b);
            Path p = dir.resolve("part-" + f);
            Files.write(p, b);
            paths.add(p);
            contents.add(b);
        }
        List<ParallelFileReader.Range> ranges = new ArrayList<>();
        List<byte[]> want = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            int f = r.nextInt(paths.size());
            byte[] b = contents.get(f);
            long off = r.nextInt(b.length);
            long len = i % 7 == 0 ? -1 : 1 + r.nextInt(b.length); // some run past the end: short
            ranges.add(new ParallelFileReader.Range(paths.get(f), off, len));
            int end = len < 0 ? b.length : (int) Math.min(b.length, off + len);
            want.add(Arrays.copyOfRange(b, (int) off, end));
        }
        ByteArrayOutputStream[] got = new ByteArrayOutputStream[ranges.size()];
        for (int i = 0; i < got.length; i++) {
            got[i] = new ByteArrayOutputStream();
        }
        AtomicLong progress = new AtomicLong();
        try (ParallelFileReader reader = ParallelFileReader.open(dir, new ParallelFileReader.Options(3, 8, 64 << 10, false))) {
            long[] n = reader.read(ranges, (range, offset, data, worker) -> {
                synchronized (got[range]) {
                    assertEquals(got[range].size(), offset, "chunks of a range come in order");
                    got[range].writeBytes(data.toArray(ValueLayout.JAVA_BYTE));
                }
            }, progress::addAndGet);
            for (int i = 0; i < ranges.size(); i++) {
                assertEquals(want.get(i).length, n[i], "bytes of range " + i);
                assertArrayEquals(want.get(i), got[i].toByteArray(), "range " + i);
            }
            assertEquals(Arrays.stream(n).sum(), progress.get());
            assertThrows(IllegalArgumentException.class,
                    () -> reader.read(List.of(ParallelFileReader.Range.whole(dir.resolve("absent"))), (a, b, c, d) -> {}, null));
        }
        assertThrows(IllegalArgumentException.class, () -> new ParallelFileReader.Options(0, 8, 4096, false));
        assertThrows(IllegalArgumentException.class, () -> new ParallelFileReader.Options(1, 3, 4096, false));
        assertThrows(IllegalArgumentException.class, () -> new ParallelFileReader.Options(1, 8, 1000, false));
    }

    /**
     * An asynchronous sink (a GPU copy) holds each chunk's slot from accept until release of its half: the
     * reader must not read into a slot that is still held, whatever order the completions come in.
     */
    @Test
    void noSlotIsReadIntoBeforeItsHalfIsReleased() throws IOException {
        SplittableRandom r = new SplittableRandom(4);
        byte[] b = new byte[6_000_000];
        r.nextBytes(b);
        Path p = dir.resolve("slots");
        Files.write(p, b);
        for (int depth : new int[] {2, 4, 8, 16}) {
            int chunk = 4096;
            int threads = 3;
            List<ParallelFileReader.Range> ranges = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                // Aligned ranges go through O_DIRECT: their completions come back one by one, in any order.
                boolean aligned = i % 3 != 0;
                long off = aligned ? (long) r.nextInt(b.length / 4096) * 4096 : r.nextInt(b.length);
                long len = r.nextInt(b.length - (int) off + 1);
                ranges.add(new ParallelFileReader.Range(p, off, aligned ? len & ~4095L : len));
            }
            try (ParallelFileReader reader = ParallelFileReader.open(dir, new ParallelFileReader.Options(threads, depth, chunk, false))) {
                long[] bases = reader.iovs().stream().mapToLong(iov -> iov.segment().address()).toArray();
                boolean[][] held = new boolean[threads][depth];
                List<String> violations = java.util.Collections.synchronizedList(new ArrayList<>());
                reader.read(ranges, new ParallelFileReader.ChunkSink() {
                    @Override
                    public void accept(int range, long offsetInRange, java.lang.foreign.MemorySegment data, int worker) {
                        int slot = (int) ((data.address() - bases[worker]) / chunk);
                        if (held[worker][slot]) {
                            violations.add("depth " + depth + ", worker " + worker + ": slot " + slot + " read into while held");
                        }
                        held[worker][slot] = true;
                        assertArrayEquals(Arrays.copyOfRange(b, (int) (ranges.get(range).offset() + offsetInRange),
                                (int) (ranges.get(range).offset() + offsetInRange + data.byteSize())), data.toArray(ValueLayout.JAVA_BYTE));
                    }

                    @Override
                    public void release(int worker, int half) {
                        Arrays.fill(held[worker], half * depth / 2, (half + 1) * depth / 2, false);
                    }
                }, null);
                assertEquals(List.of(), violations.subList(0, Math.min(5, violations.size())));
            }
        }
    }
}
