package io.infra4j.cli;

import java.util.List;
import java.util.Map;

/** The whole demo as one document: where it ran, each stage, and what was left open. */
record DemoReport(String infra4jVersion, String device, String deviceReason, long size, long seed,
                  List<Stage> stages, List<String> leaks, boolean passed) {

    /** One stage's outcome; {@code failures} is empty when it passed. */
    record Stage(String name, String description, String device, double durationMs, boolean passed,
                 List<String> failures, Map<String, Object> figures) {}
}
