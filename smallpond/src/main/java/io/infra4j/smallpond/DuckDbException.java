package io.infra4j.smallpond;

/** DuckDB refused: its own message, and what was being done (the query, for a failed query). */
public class DuckDbException extends RuntimeException {
    public DuckDbException(String message) {
        super(message);
    }
}
