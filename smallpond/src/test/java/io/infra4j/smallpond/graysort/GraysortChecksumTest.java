package io.infra4j.smallpond.graysort;

import static io.infra4j.smallpond.graysort.GensortRecords.RECORD_BYTES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** The order-independent record checksum. */
class GraysortChecksumTest {
    private static List<MemorySegment> records(int n, long seed) {
        MemorySegment all = MemorySegment.ofArray(GensortRecords.generate(0, n, seed));
        List<MemorySegment> out = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            out.add(all.asSlice((long) r * RECORD_BYTES, RECORD_BYTES));
        }
        return out;
    }

    @Test
    void isTheSumOfEachRecordsCrc32c() {
        byte[] rec = GensortRecords.generate(9, 1, 1);
        CRC32C crc = new CRC32C();
        crc.update(rec);
        RecordChecksum c = new RecordChecksum().add(MemorySegment.ofArray(rec)).add(MemorySegment.ofArray(rec));
        assertEquals(String.format("%032x", 2 * crc.getValue()), c.toHex());
        assertEquals(c, RecordChecksum.parse(c.toHex()));
    }

    @Test
    void doesNotDependOnOrder() {
        List<MemorySegment> recs = records(2000, 5);
        RecordChecksum inOrder = new RecordChecksum();
        recs.forEach(inOrder::add);
        Collections.shuffle(recs, new Random(1));
        RecordChecksum shuffled = new RecordChecksum();
        recs.forEach(shuffled::add);
        assertEquals(inOrder, shuffled);
        assertEquals(inOrder.hashCode(), shuffled.hashCode());
    }

    @Test
    void keyAndPayloadGiveTheSameAsTheWholeRecordAndBlocksTheSameAsSingles() {
        List<MemorySegment> recs = records(500, 6);
        RecordChecksum whole = new RecordChecksum();
        RecordChecksum split = new RecordChecksum();
        RecordChecksum fromLongs = new RecordChecksum(); // a heap segment asByteBuffer cannot view
        for (MemorySegment r : recs) {
            whole.add(r);
            split.add(r.asSlice(0, 10), r.asSlice(10, 90));
            long[] copy = new long[13];
            MemorySegment.copy(r, 0, MemorySegment.ofArray(copy), 0, RECORD_BYTES);
            fromLongs.add(MemorySegment.ofArray(copy).asSlice(0, RECORD_BYTES));
        }
        assertEquals(whole, split);
        assertEquals(whole, fromLongs);
        assertEquals(whole, new RecordChecksum().addRecords(MemorySegment.ofArray(GensortRecords.generate(0, 500, 6))));
        assertEquals(whole, new RecordChecksum().addRecords(MemorySegment.ofArray(GensortRecords.generate(0, 500, 6)).asReadOnly()));
    }

    @Test
    void mergeEqualsAddingSequentiallyIncludingTheCarry() {
        List<MemorySegment> recs = records(300, 7);
        RecordChecksum seq = new RecordChecksum();
        RecordChecksum a = new RecordChecksum();
        RecordChecksum b = new RecordChecksum();
        for (int i = 0; i < recs.size(); i++) {
            seq.add(recs.get(i));
            (i % 3 == 0 ? a : b).add(recs.get(i));
        }
        assertEquals(seq, a.merge(b));
        RecordChecksum nearCarry = RecordChecksum.parse("0000000000000001ffffffffffffffff");
        assertEquals("00000000000000030000000000000000", nearCarry.merge(RecordChecksum.parse("00000000000000010000000000000001")).toHex());
    }

    @Test
    void wrongSizesAreRefused() {
        RecordChecksum c = new RecordChecksum();
        MemorySegment rec = MemorySegment.ofArray(new byte[RECORD_BYTES]);
        assertThrows(IllegalArgumentException.class, () -> c.add(rec.asSlice(0, 99)));
        assertThrows(IllegalArgumentException.class, () -> c.add(rec.asSlice(0, 9), rec.asSlice(9, 91)));
        assertThrows(IllegalArgumentException.class, () -> c.addRecords(MemorySegment.ofArray(new byte[150])));
        assertThrows(IllegalArgumentException.class, () -> RecordChecksum.parse("abc"));
        assertEquals(new RecordChecksum(), c);
        assertNotEquals(new RecordChecksum().add(rec), c);
    }
}
