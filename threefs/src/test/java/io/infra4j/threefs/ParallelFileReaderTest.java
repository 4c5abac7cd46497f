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
}
