package io.infra4j.cli;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a stage reports: whether its checks held, why not, and its key figures. Figures are
 * numbers, strings, booleans, lists and maps of those (they go to JSON as they are, and to text as
 * tables when they are lists of maps); keys are snake_case.
 */
public record StageResult(boolean passed, List<String> failures, Map<String, Object> figures) {
    public StageResult {
        failures = List.copyOf(failures);
        figures = Collections.unmodifiableMap(new LinkedHashMap<>(figures)); // keeps the stage's order
        if (passed != failures.isEmpty()) {
            throw new IllegalArgumentException("failures: a passed stage has none and a failed one says why, got passed="
                    + passed + " with " + failures);
        }
    }

    /** Passed when {@code failures} is empty. */
    public static StageResult of(List<String> failures, Map<String, Object> figures) {
        return new StageResult(failures.isEmpty(), failures, figures);
    }
}
