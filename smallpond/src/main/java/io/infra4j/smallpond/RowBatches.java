package io.infra4j.smallpond;

import io.infra4j.smallpond.arrow.ArrowBatch;
import io.infra4j.smallpond.arrow.ArrowBatchBuilder;
import io.infra4j.smallpond.arrow.ArrowField;
import io.infra4j.smallpond.plan.BatchFunction;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Row-at-a-time Java code ({@link DataFrame#flatMap}) as a function over Arrow batches. */
final class RowBatches {
    private static final int ROWS_PER_OUTPUT = 64 * 1024;

    private RowBatches() {}

    static BatchFunction flatMap(List<ArrowField> schema, DataFrame.RowFunction function) {
        return (in, out) -> {
            ArrowBatchBuilder b = ArrowBatch.builder(schema);
            try {
                for (int r = 0; r < in.rowCount(); r++) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int c = 0; c < in.columnCount(); c++) {
                        row.put(in.schema().get(c).name(), in.column(c).getObject(r));
                    }
                    List<List<Object>> produced = function.apply(row);
                    if (produced == null) {
                        continue;
                    }
                    for (List<Object> values : produced) {
                        if (values == null || values.size() != schema.size()) {
                            throw new IllegalArgumentException("flatMap: a produced row has " + (values == null ? "no" : values.size())
                                    + " values, the schema " + schema.size());
                        }
                        b.addRow(values.toArray());
                    }
                    if (b.rowCount() >= ROWS_PER_OUTPUT) {
                        out.accept(b.build());
                        b = ArrowBatch.builder(schema);
                    }
                }
                if (b.rowCount() > 0) {
                    out.accept(b.build());
                    b = null;
                }
            } finally {
                if (b != null) {
                    b.close();
                }
            }
        };
    }
}
