package io.infra4j.cli;

import io.infra4j.smallpond.DuckConnection;
import io.infra4j.smallpond.DuckDb;
import io.infra4j.smallpond.QueryResult;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** {@code infra4j sql "QUERY" [--json]}: one query through DuckDB's C API (FFM), its rows printed. */
final class SqlCommand implements Command {
    static final Option DATABASE = Option.builder().longOpt("database").hasArg().argName("FILE")
            .desc("a DuckDB database file (default: an in-memory database)").get();

    @Override
    public String name() {
        return "sql";
    }

    @Override
    public String summary() {
        return "run one SQL query through DuckDB's C API (FFM) and print its rows (--json: one object per row)";
    }

    @Override
    public String operands() {
        return "\"QUERY\"";
    }

    @Override
    public int maxOperands() {
        return 1;
    }

    @Override
    public Options options() {
        return new Options().addOption(DATABASE);
    }

    @Override
    public String details() {
        return """
                Runs QUERY in DuckDB (the library the org.duckdb:duckdb_jdbc jar carries, called through its C API
                with FFM; INFRA4J_DUCKDB_PATH may name a system libduckdb.so instead), in memory or in --database
                FILE. It prints a header line and one tab-separated line per row, or with --json one JSON object
                per row (column name to value). DuckDB's error message is printed as the error, exit code 1.

                Examples:
                  infra4j sql "SELECT 42 AS answer"
                  infra4j sql "SELECT * FROM read_csv('data/*.csv') LIMIT 5" --json
                """;
    }

    @Override
    public int run(CommandLine line, Session session) throws UsageException {
        List<String> args = line.getArgList();
        if (args.size() < 2 || args.get(1).isBlank()) {
            throw new UsageException("sql needs a QUERY, in quotes");
        }
        String query = args.get(1);
        java.nio.file.Path file = line.hasOption(DATABASE) ? java.nio.file.Path.of(line.getOptionValue(DATABASE)) : null;
        try (DuckDb db = DuckDb.open(file, DuckDb.Config.defaults()); DuckConnection c = db.connect()) {
            QueryResult r = c.query(query);
            if (session.json()) {
                for (Object[] row : r.rows()) {
                    Map<String, Object> doc = new LinkedHashMap<>();
                    for (int i = 0; i < row.length; i++) {
                        doc.put(r.columns().get(i), jsonValue(row[i]));
                    }
                    Json.printLine(doc, session.out());
                }
            } else {
                session.out().println(String.join("\t", r.columns()));
                for (Object[] row : r.rows()) {
                    StringBuilder sb = new StringBuilder();
                    for (int i = 0; i < row.length; i++) {
                        if (i > 0) {
                            sb.append('\t');
                        }
                        sb.append(row[i] == null ? "NULL" : row[i] instanceof byte[] b ? java.util.HexFormat.of().formatHex(b) : row[i]);
                    }
                    session.out().println(sb);
                }
            }
        }
        return Main.OK;
    }

    private static Object jsonValue(Object v) {
        if (v instanceof byte[] b) {
            return java.util.HexFormat.of().formatHex(b);
        }
        if (v instanceof java.time.temporal.Temporal || v instanceof java.math.BigInteger) {
            return v.toString();
        }
        return v;
    }
}
