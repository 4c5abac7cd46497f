package io.infra4j.smallpond.graysort;

import java.util.Objects;

/**
 * What a generation produced: the number of records, their bytes, and the checksum of all of them
 * (compare with {@link ValidationSummary#checksum()} after sorting).
 */
public record GenerateSummary(long records, long bytes, RecordChecksum checksum) {
    public GenerateSummary {
        Objects.requireNonNull(checksum, "checksum");
        checksum = checksum.copy(); // a summary must not change when the caller's checksum does
    }
}
