package io.infra4j.smallpond;

import java.nio.file.Path;
import java.util.List;

/** What {@link DataFrame#writeParquet} wrote: the files in partition order, the rows, and the stages it ran. */
public record WriteSummary(Path directory, List<Path> files, long rows, double seconds, List<StageTiming> stages) {}
