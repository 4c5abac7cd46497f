package io.infra4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.infra4j.dualpipe.DualPipeSchedule;
import io.infra4j.dualpipe.Op;
import io.infra4j.dualpipe.PipelineSchedule;
import io.infra4j.dualpipe.ScheduleChecks;
import io.infra4j.dualpipe.TimelineSvg;
import java.io.PrintStream;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/**
 * {@code infra4j dualpipe}: every rank's ops of one DualPipe or DualPipeV step, as upstream runs
 * them; as JSON, or as text with their checks and the simulated bubble beside 1F1B's and ZB1P's.
 */
final class DualPipeCommand implements Command {
    private static final ObjectMapper COMPACT = new ObjectMapper();

    @Override
    public String name() {
        return "dualpipe";
    }

    @Override
    public String summary() {
        return "DeepSeek's DualPipe and DualPipeV schedules: each rank's ops, checks, bubbles, timelines";
    }

    @Override
    public Options options() {
        return DualPipeOptions.options();
    }

    @Override
    public String details() {
        return """
                The ops are those deepseek-ai/DualPipe's step() runs on each rank, op for op. They are
                checked (each chunk forwarded and backwarded once per rank, sends and receives matched
                in order on every link, no deadlock with each commit waiting for its whole batch,
                DualPipe's rank N-1-r the mirror of rank r), and the step is simulated with per-op
                costs, communication taken as free, to compare its bubble with 1F1B's and ZB1P's over
                the same PP stages and micro-batches (PP = N for DualPipe, 2N for DualPipeV) and with
                the formulas of DualPipe's table. The training modes have the same ops; the default,
                train_overlapped, is upstream's usual training step.

                Upstream's constraints: DualPipe needs an even number of ranks and an even number of
                chunks >= 2 x ranks; DualPipeV needs chunks >= 2 x ranks. Other configurations are
                refused with exit code 1.

                --json prints {"ranks": [[op, ...], ...]}, one list per rank, each op as the golden
                traces write it: ["F",d,c], ["B",d,c,zb], ["W",d,c], ["FB",d0,c0,d1,c1],
                ["SF"|"RF"|"SB"|"RB",d,c,peer], ["X",count]. A refused configuration prints
                {"error": "..."} instead.

                Ops with -v (d: direction in DualPipe, module in DualPipeV; c: chunk within it):
                """ + OpNotation.LEGEND + """

                Examples:
                  infra4j dualpipe --variant DualPipe --ranks 4 --chunks 8
                  infra4j dualpipe --variant DualPipeV --ranks 4 --chunks 16 --timeline dualpipev.svg
                  infra4j dualpipe --variant DualPipe --ranks 8 --chunks 32 --costs 1,2,1,2.4 -v
                  infra4j dualpipe --variant DualPipe --ranks 4 --chunks 8 --mode train_plain --json > ops.json
                """;
    }

    @Override
    public int run(CommandLine line, Session session) throws UsageException {
        DualPipeOptions o = DualPipeOptions.from(line);
        try {
            DualPipeSchedule.check(o.variant(), o.ranks(), o.chunks());
        } catch (IllegalArgumentException refused) {
            return session.refused(refused.getMessage());
        }
        PipelineSchedule schedule = PipelineSchedule.of(o.variant(), o.ranks(), o.chunks(), o.mode());
        // The ops alone (--json without --timeline) need no simulation.
        BubbleComparison bubbles = o.timeline() != null || !session.json() ? BubbleComparison.of(schedule, o.costs()) : null;
        if (o.timeline() != null) {
            TimelineSvg.write(o.timeline(), List.of(bubbles.dualPipe(), bubbles.oneFOneB()));
        }
        if (session.json()) {
            printRanks(schedule, session.out());
            if (o.timeline() != null) {
                session.err().println("infra4j: timeline written to " + o.timeline());
            }
            return Main.OK;
        }
        ScheduleChecks.Report checks = ScheduleChecks.check(schedule);
        DualPipeText.print(o, schedule, checks, bubbles, session.verbose(), session.out());
        if (!checks.ok()) {
            session.err().println("infra4j: error: the schedule failed its checks: " + checks.problems().get(0));
            return Main.FAILURE;
        }
        return Main.OK;
    }

    /** {"ranks": [...]} with a line per rank: readable, and the ops in the golden traces' compact form. */
    private static void printRanks(PipelineSchedule schedule, PrintStream out) {
        StringBuilder sb = new StringBuilder("{\"ranks\": [");
        List<List<Op>> ranks = schedule.ranks();
        for (int r = 0; r < ranks.size(); r++) {
            sb.append(r == 0 ? "\n  " : ",\n  ").append(compact(ranks.get(r).stream().map(Op::toList).toList()));
        }
        sb.append("\n]}");
        out.println(sb);
        out.flush();
    }

    private static String compact(Object value) {
        try {
            return COMPACT.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("could not write JSON: " + e.getOriginalMessage(), e);
        }
    }
}
