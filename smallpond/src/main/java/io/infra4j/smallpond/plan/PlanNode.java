package io.infra4j.smallpond.plan;

import java.nio.file.Path;
import java.util.List;

/**
 * The logical plan: what a DataFrame is, before anything runs. Nodes are immutable and may be shared by
 * several DataFrames; {@link Planner} turns them into partitions, running tasks where data must be written.
 */
public sealed interface PlanNode {
    int id();

    /** How many partitions this node's output has: known before anything runs. */
    int partitions();

    /** A stable text of what the node computes, inputs included: the key of its stage when runs resume. */
    String descriptor();

    /** Files read as they are (one partition holding them all). */
    record Source(int id, String format, List<Path> files, String options) implements PlanNode {
        public Source {
            files = List.copyOf(files);
        }

        @Override
        public int partitions() {
            return 1;
        }

        @Override
        public String descriptor() {
            StringBuilder sb = new StringBuilder("source:" + format + ":" + options);
            for (Path f : files) {
                java.io.File file = f.toFile();
                sb.append('|').append(f).append(':').append(file.length()).append(':').append(file.lastModified());
            }
            return sb.toString();
        }
    }

    /** Rows given in Java, with their columns declared in SQL ({@code id BIGINT, name VARCHAR}). */
    record Rows(int id, String columns, List<List<Object>> rows) implements PlanNode {
        @Override
        public int partitions() {
            return 1;
        }

        @Override
        public String descriptor() {
            return "rows:" + columns + ":" + rows.hashCode() + ":" + rows.size();
        }
    }

    /** Partial SQL: {@code template} run on every partition, {@code {i}} naming input i's partition. */
    record Query(int id, String template, List<PlanNode> inputs, String kind) implements PlanNode {
        public Query {
            inputs = List.copyOf(inputs);
        }

        @Override
        public int partitions() {
            return inputs.get(0).partitions();
        }

        @Override
        public String descriptor() {
            return kind + ":" + template + inputs.stream().map(PlanNode::descriptor).toList();
        }
    }

    /** How rows move between partitions in a {@link Repartition}. */
    enum Mode {
        /** Whole files dealt out in order, no data rewritten when the input is a scan of files. */
        FILES,
        /** Rows dealt out in order, the same number (±1) to each partition. */
        ROWS,
        /** By a hash of columns: equal keys meet in one partition. */
        HASH,
        /** By the value of a column or expression: the partition index itself, 0 to n-1. */
        VALUE
    }

    record Repartition(int id, PlanNode input, int partitions, Mode mode, List<String> keys) implements PlanNode {
        public Repartition {
            keys = List.copyOf(keys);
        }

        @Override
        public String descriptor() {
            return "repartition:" + mode + ":" + partitions + ":" + keys + "[" + input.descriptor() + "]";
        }
    }

    /** Java code over Arrow batches of each partition, giving batches of {@code schema}. */
    record MapBatches(int id, PlanNode input, List<io.infra4j.smallpond.arrow.ArrowField> schema, BatchFunction function, String name)
            implements PlanNode {
        public MapBatches {
            schema = List.copyOf(schema);
        }

        @Override
        public int partitions() {
            return input.partitions();
        }

        @Override
        public String descriptor() {
            return "batches:" + name + ":" + schema + "[" + input.descriptor() + "]";
        }
    }

    /** At most {@code limit} rows, in one partition. */
    record Limit(int id, PlanNode input, long limit) implements PlanNode {
        @Override
        public int partitions() {
            return 1;
        }

        @Override
        public String descriptor() {
            return "limit:" + limit + "[" + input.descriptor() + "]";
        }
    }
}
