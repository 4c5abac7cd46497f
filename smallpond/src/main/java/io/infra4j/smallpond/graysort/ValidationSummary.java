package io.infra4j.smallpond.graysort;

import java.util.Objects;

/**
 * What a validation found, valsort-like.
 *
 * @param records               records seen
 * @param checksum              order-independent checksum of all records seen
 * @param unordered             adjacent pairs whose first key is greater (unsigned, byte by byte) than the second
 * @param duplicates            adjacent pairs with equal keys
 * @param firstUnorderedRecord  0-based position of the first record smaller than its predecessor, or -1 when none
 */
public record ValidationSummary(long records, RecordChecksum checksum, long unordered, long duplicates, long firstUnorderedRecord) {
    public ValidationSummary {
        Objects.requireNonNull(checksum, "checksum");
        checksum = checksum.copy();
    }

    /** Whether the records are in non-decreasing key order. */
    public boolean sorted() {
        return unordered == 0;
    }
}
