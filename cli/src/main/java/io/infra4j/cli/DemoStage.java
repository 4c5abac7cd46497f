package io.infra4j.cli;

/**
 * One stage of {@code infra4j demo}. A stage does its work on {@code ctx.device()}, closes every
 * native resource it made before returning, and reports its key figures; it fails by returning a
 * failed {@link StageResult} (a check did not hold) or by throwing (it could not run). Register new
 * stages in {@link DemoStages}.
 */
public interface DemoStage {
    /** Short lower-case name, as given to {@code --stage}. */
    String name();

    /** One line saying what the stage shows. */
    String description();

    StageResult run(DemoContext ctx);
}
