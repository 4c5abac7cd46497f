package io.infra4j.cli;

import io.infra4j.ffm.ResourceTracker;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs stages one after another, timing each, turning a stage that throws into a failed one (the
 * others still run), and failing the demo if native resources made during it are still open.
 */
final class DemoRunner {
    private DemoRunner() {}

    static DemoReport run(List<DemoStage> stages, DemoContext ctx, Session session) {
        // Resources open before the demo (none in the CLI; maybe some in a test JVM) are not its leaks.
        Set<Long> before = new HashSet<>();
        ResourceTracker.live().forEach(e -> before.add(e.id()));

        List<DemoReport.Stage> out = new ArrayList<>();
        for (DemoStage stage : stages) {
            session.debug("stage " + stage.name() + " on " + ctx.device());
            out.add(runOne(stage, ctx, session));
        }

        List<String> leaks = ResourceTracker.live().stream()
                .filter(e -> !before.contains(e.id()))
                .map(ResourceTracker.Entry::toString)
                .toList();
        boolean passed = leaks.isEmpty() && out.stream().allMatch(DemoReport.Stage::passed);
        return new DemoReport(Version.get(), ctx.device().toString(), ctx.deviceReason(), ctx.size(),
                ctx.options().seed(), out, leaks, passed);
    }

    private static DemoReport.Stage runOne(DemoStage stage, DemoContext ctx, Session session) {
        long t0 = System.nanoTime();
        StageResult r;
        try {
            r = stage.run(ctx);
        } catch (RuntimeException | OutOfMemoryError e) {
            if (session.verbose()) {
                e.printStackTrace(session.err());
            }
            String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            r = new StageResult(false, List.of("threw " + e.getClass().getSimpleName() + ": " + TextFormat.firstLine(msg)),
                    Map.of());
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        return new DemoReport.Stage(stage.name(), stage.description(), ctx.device().toString(), ms, r.passed(),
                r.failures(), r.figures());
    }
}
