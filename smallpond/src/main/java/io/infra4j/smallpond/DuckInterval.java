package io.infra4j.smallpond;

/** A DuckDB INTERVAL: months, days and microseconds, kept apart as DuckDB keeps them (a month has no fixed length). */
public record DuckInterval(int months, int days, long micros) {}
